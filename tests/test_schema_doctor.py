"""The identity schema doctor: its extension table matches Kratos, and corrected schemas are right."""

from __future__ import annotations

import json

from bot.analyze.schemakit import EXTENSION_OPTIONS, VERIFICATION_FORMATS, JsonEdit
from bot.render import to_text
from tests.conftest import SHARED, needs_shared


def _options(node: dict) -> dict:
    return node["properties"]


@needs_shared
def test_extension_table_matches_kratos_meta_schema():
    meta = json.loads((SHARED / "kratos" / "identity_extension.schema.json").read_text())
    ext = _options(meta["allOf"][0]["properties"]["ory.sh/kratos"])
    assert set(ext) == set(EXTENSION_OPTIONS)
    for section, groups in EXTENSION_OPTIONS.items():
        kratos = _options(ext[section])
        nested = {name: _options(value) for name, value in kratos.items()} if "" not in groups else {}
        kratos_groups = {"": kratos} if "" in groups else nested
        assert set(kratos_groups) == set(groups), section
        for group, options in groups.items():
            assert set(kratos_groups[group]) == set(options), (section, group)
            for name, kind in options.items():
                spec = kratos_groups[group][name]
                if kind is bool:
                    assert spec["type"] == "boolean"
                else:
                    assert tuple(spec["enum"]) == kind


@needs_shared
def test_verification_formats_match_identity_meta_schema():
    meta = json.loads((SHARED / "kratos" / "identity_meta.schema.json").read_text())
    traits = meta["allOf"][1]["properties"]["properties"]["properties"]["traits"]["properties"]["properties"]
    then = traits["patternProperties"][".*"]["then"]
    assert tuple(then["properties"]["format"]["enum"]) == VERIFICATION_FORMATS


def test_json_edit_never_overwrites_existing_key():
    edit = JsonEdit({"credentials": {"password": {"identifier": True}, "passwordless": {}}})
    edit.rename(("credentials", "passwordless"), "password", "x")
    assert json.loads(edit.render().replace("  // <- x", "")) == {
        "credentials": {"password": {"identifier": True}, "passwordless": {}}
    }


def _corrected_schema(reply) -> dict:
    (section,) = [s for s in reply.sections if s.title == "Corrected schema"]
    lines = section.code.code.split("\n")
    return json.loads("\n".join(line.split("  // <-")[0] for line in lines if not line.strip().startswith("//")))


def test_corrected_schema_is_valid_json_once_comments_are_removed(triage):
    text = (
        '{"properties": {"traits": {"type": "object", "properties": {"email": {"type": "strin", "format": "email",'
        ' "ory.sh/kratos": {"credentials": {"password": {"identifer": true}, "code": {"identifier": true}},'
        ' "verification": {"via": "mail"}}}}}}}'
    )
    reply = triage.answer(text)
    ext = _corrected_schema(reply)["properties"]["traits"]["properties"]["email"]
    assert ext["type"] == "string"
    assert ext["ory.sh/kratos"]["credentials"] == {
        "password": {"identifier": True},
        "code": {"identifier": True, "via": "email"},
    }
    assert ext["ory.sh/kratos"]["verification"] == {"via": "email"}
    assert "was 'identifer'" in to_text(reply)


def test_misspelt_credential_is_renamed_with_its_value(triage):
    # `credentials` allows no other keys: adding `password` next to `pasword` would still be rejected.
    text = (
        '{"properties": {"traits": {"type": "object", "properties": {"email": {"type": "string", "format": "email",'
        ' "ory.sh/kratos": {"credentials": {"pasword": {"identifier": true}}}}}, "required": ["email"]}}}'
    )
    reply = triage.answer(text)
    email = _corrected_schema(reply)["properties"]["traits"]["properties"]["email"]
    assert email["ory.sh/kratos"]["credentials"] == {"password": {"identifier": True}}
    assert "was 'pasword'" in to_text(reply)
