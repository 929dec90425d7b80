"""The knowledge base loads, covers what Kratos has, and rejects bad entries at load time."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.analyze.flowkit import SUBMIT_BODY
from bot.compose import history_lines
from bot.kb.loader import KnowledgeError, load_knowledge
from tests.conftest import ROOT, SHARED, needs_shared

KNOWLEDGE = ROOT / "knowledge"


def _shared(name: str) -> dict:
    return json.loads((SHARED / "kratos" / name).read_text(encoding="utf-8"))


@needs_shared
def test_every_error_id_has_an_entry(kb):
    ids = {e["id"] for e in _shared("error-ids.json")["error_ids"]}
    assert len(ids) == 15
    assert ids == set(kb.by_error_id)


@needs_shared
def test_every_constructor_backed_ui_message_has_an_entry(kb):
    ids = {m["id"] for m in _shared("ui-messages.json")["messages"] if m["has_constructor"]}
    assert len(ids) == 159
    assert ids <= set(kb.by_ui_id)


@needs_shared
def test_literal_reasons_covered(kb):
    literal = {r["text"] for r in _shared("herodot-reasons.json")["reasons"]}
    assert len(kb.by_reason) >= 40
    assert set(kb.by_reason) <= literal
    assert "The flow query parameter is missing or malformed." in kb.by_reason


@needs_shared
def test_fact_tables_match_reference_data(kb):
    """The committed fact tables are exactly what `python -m kbgen facts --shared` derives from ../shared."""
    assert set(kb.facts.ui_messages) == {m["id"] for m in _shared("ui-messages.json")["messages"]}
    assert {k for k in kb.facts.config_keys} == {k["key"] for k in _shared("config-keys.json")["keys"]}
    endpoints = {f"{e['method']} {e['path']}" for e in _shared("api-endpoints.json")["endpoints"]}
    assert set(kb.facts.endpoints) == endpoints
    assert set(kb.facts.docs) == {p["canonical_url"] for p in _shared("docs-index.json")["pages"]}
    for row in _shared("ui-messages.json")["messages"]:
        assert kb.facts.ui_messages[row["id"]]["text"] == row["text"]


def test_references_resolve(kb):
    for entry in kb.entries.values():
        for url in entry.docs:
            assert kb.facts.doc_url_ok(url), (entry.id, url)
        for key in entry.config_keys:
            assert kb.facts.config_key(key) is not None, (entry.id, key)
        for endpoint in entry.endpoints:
            assert endpoint in kb.facts.endpoints, (entry.id, endpoint)


def test_rule_links_point_at_entries(kb):
    import inspect

    from bot.analyze import RULES

    for rule in RULES.values():
        source = inspect.getsource(inspect.getmodule(rule.check))
        for token in source.split('"'):
            if token.startswith(("topic.", "ui.", "error.", "reason.")) and " " not in token:
                assert token in kb.entries, f"rule {rule.id} links to missing entry {token}"


def test_corrected_request_bodies_use_real_fields(kb):
    for flow, (method, fields) in SUBMIT_BODY.items():
        variants = kb.facts.endpoints[f"POST /self-service/{flow}"]["variants"]
        assert method in variants, (flow, method)
        allowed = set(variants[method]["required"]) | set(variants[method]["optional"])
        for name in fields:
            assert name.split(".")[0] in allowed, (flow, name)
        assert set(variants[method]["required"]) <= {"method", *[n.split(".")[0] for n in fields]}, flow


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE / "facts", target / "facts")
    return target


def _write(directory: Path, body: str) -> None:
    (directory / "topics").mkdir(exist_ok=True)
    (directory / "topics" / "bad.yaml").write_text(body, encoding="utf-8")


GOOD = """
- id: topic.x
  kind: topic
  title: t
  summary: s
  phrasings: [a b c, d e f]
  verified_by: [selfservice/flow/login/handler.go:1]
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("entries:" + GOOD + "  colour: red\n", "unknown key"),
        ("entries:" + GOOD + GOOD, "duplicate id"),
        ("entries:" + GOOD + "  docs: [https://www.ory.com/docs/kratos/no-such-page]\n", "docs index"),
        ("entries:" + GOOD + "  docs: [https://www.ory.com/docs/kratos/debug/csrf#nope]\n", "docs index"),
        ("entries:" + GOOD + "  config_keys: [selfservice.flows.settings.ui_uri]\n", "does not exist in Kratos"),
        ("entries:" + GOOD + "  endpoints: [GET /self-service/nothing]\n", "not in the Kratos API"),
        (
            "entries:\n- id: error.x\n  kind: error_id\n  error_id: no_such_id\n  title: t\n  summary: s\n"
            "  verified_by: [a.go:1]\n",
            "not a Kratos error id",
        ),
        (
            "entries:\n- id: ui.1\n  kind: ui_message\n  ui_id: 4999999\n  title: t\n  summary: s\n"
            "  verified_by: [a.go:1]\n",
            "does not exist in Kratos",
        ),
        (
            "entries:\n- id: reason.x\n  kind: reason\n  reason: made up\n  title: t\n  summary: s\n"
            "  verified_by: [a.go:1]\n",
            "not a literal Kratos error string",
        ),
        ("entries: [1, 2", "not valid YAML"),
        ("entries:" + GOOD.replace("  verified_by: [selfservice/flow/login/handler.go:1]\n", ""), "is required"),
        (
            "entries:" + GOOD + "  history: [{version: v1.9.0, kind: fixed, change: c}]\n",
            "not a Kratos release tag",
        ),
        ("entries:" + GOOD + "  history: [{version: v1.1.0, kind: improved, change: c}]\n", "history kind"),
        ("entries:" + GOOD + "  history: [{version: v1.1.0, kind: fixed}]\n", "`history` item"),
    ],
)
def test_invalid_knowledge_is_rejected(kb_copy, body, message):
    _write(kb_copy, body)
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert message in str(info.value)
    assert "bad.yaml" in str(info.value)


def test_valid_minimal_knowledge_loads(kb_copy):
    _write(kb_copy, "entries:" + GOOD)
    assert load_knowledge(kb_copy).counts()["topic"] == 1


@needs_shared
def test_facts_from_shared_reproduce_the_committed_tables_byte_for_byte(tmp_path):
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "kbgen", "facts", "--shared", str(SHARED / "kratos"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for made in sorted(tmp_path.glob("*.json")):
        committed = ROOT / "knowledge" / "facts" / made.name
        assert made.read_bytes() == committed.read_bytes(), f"{made.name} differs: run python -m kbgen facts --shared"


def test_history_tells_a_user_only_what_their_release_lacks(kb_copy):
    _write(
        kb_copy,
        "entries:" + GOOD + "  history:\n"
        "  - {version: v1.1.0, kind: fixed, change: the first bug is gone, ref: '#1'}\n"
        "  - {version: v1.3.0, kind: added, change: a new option}\n"
        "  - {version: v1.2.0, kind: removed, change: an old option}\n"
        "  - {version: unreleased, kind: added, change: on master only}\n",
    )
    entry = load_knowledge(kb_copy).entries["topic.x"]
    lines = history_lines(entry, "v1.2.0")
    assert lines == (
        "Your v1.2.0 predates this: a new option (from v1.3.0).",
        "Your v1.2.0 no longer has this: an old option (removed in v1.2.0).",
        "Not in a release yet: on master only.",
    )
    # Without a known release: the history as authored, its first two items (a reply, not a changelog).
    assert history_lines(entry) == ("Fixed in v1.1.0: the first bug is gone (#1).", "From v1.3.0: a new option.")
