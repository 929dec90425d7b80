"""`python -m kbgen facts` and `python -m kbgen gaps`: fact tables generated from a Kratos checkout.

Two sources:
- tests/fixtures/kratos-mini: a handful of Go files, a config schema and an API spec written for these
  tests (not copied from Kratos); always available.
- the Kratos repository at the commit of ../shared/kratos/README.md (default /work/.mirror/ory+kratos/repo,
  override with KRATOS_SRC): the generated tables must reproduce ../shared/kratos/*.json exactly.
"""

from __future__ import annotations

import collections
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.kb.loader import load_knowledge
from kbgen import kratos_errors, kratos_facts
from kbgen.cli import main
from kbgen.gosrc import go_int_consts, tokenize, unquote
from kbgen.source import Checkout, SourceError
from tests.conftest import ROOT, SHARED

MINI = ROOT / "tests" / "fixtures" / "kratos-mini"
KRATOS_SRC = Path(os.environ.get("KRATOS_SRC", "/work/.mirror/ory+kratos/repo"))
FACTS = ROOT / "knowledge" / "facts"


@pytest.fixture(scope="module")
def mini() -> dict[str, dict]:
    with Checkout(MINI) as src:
        return kratos_facts.generate(src)


def _rows(docs: dict, table: str, key: str) -> dict:
    return {r[key]: r for r in docs[table]["rows"]}


# ------------------------------------------------------------------------------------ Go reading


def test_go_literals_decode_like_go():
    assert unquote(r'"a\tb\n\"q\" \u00e9 \x41\101"') == 'a\tb\n"q" é AA'
    assert unquote("`raw \\n %s`") == "raw \\n %s"
    toks = tokenize('x := "a // not a comment" /* c */ + `b` // tail\n')
    assert [t.text for t in toks] == ["x", ":=", '"a // not a comment"', "+", "`b`"]


def test_iota_group_offsets_blanks_and_explicit_values():
    values = go_int_consts((MINI / "text" / "id.go").read_text(encoding="utf-8"))
    assert values == {
        "InfoLoginRoot": 1010000,
        "InfoLogin": 1010001,  # the next spec repeats `1010000 + iota`
        "InfoLoginWith": 1010003,  # `_` on the line before still counts
        "ErrorValidationRoot": 4000000,
        "ErrorValidationGeneric": 4000001,
        "ErrorValidationRequired": 4000002,
        "ErrorValidationPasswordTooShort": 4000005,
        "ErrorValidationInvalidCredentials": 4000006,
        "ErrorSystemRoot": 5000000,
        "ErrorSystemGeneric": 5000001,
        "ErrorSystemLegacy": 5000102,  # explicit `5000100 + iota` with iota 2
        "ErrorSystemLegacyAgain": 5000103,  # implicit repetition of that expression
        "InfoNodeLabel": 1070000,
    }


# ------------------------------------------------------------------------------- mini fixture


def test_mini_ui_messages(mini):
    rows = _rows(mini, "ui_messages", "id")
    assert list(rows) == sorted(rows)
    got = {i: (r["name"], r["type"], r["text"], r["text_kind"], r["has_constructor"]) for i, r in rows.items()}
    assert got == {
        1010000: ("InfoLoginRoot", None, None, None, False),
        1010001: ("InfoLogin", "info", "Sign in", "literal", True),
        1010003: ("InfoLoginWith", "info", "Sign in with %s", "format", True),
        1070000: ("InfoNodeLabel", None, None, None, False),
        4000000: ("ErrorValidationRoot", None, None, None, False),
        4000001: ("ErrorValidationGeneric", "error", "{reason}", "parameter", True),
        4000002: ("ErrorValidationRequired", "error", "Property %s is missing.", "format", True),
        4000005: (
            "ErrorValidationPasswordTooShort",
            "error",
            "The password must be at least %d characters long, but got %d.",
            "computed",
            True,
        ),
        4000006: ("ErrorValidationInvalidCredentials", "error", "The credentials are not valid.", "literal", True),
        5000000: ("ErrorSystemRoot", None, None, None, False),
        5000001: ("ErrorSystemGeneric", "error", "{reason}", "parameter", True),
        5000102: ("ErrorSystemLegacy", "error", "This account was set up with an old method.", "literal", True),
        5000103: ("ErrorSystemLegacyAgain", "error", "{joinNames(names)}", "expression", True),
    }


def test_mini_error_ids_follow_chains_and_factories(mini):
    assert mini["error_ids"]["rows"] == [
        # ErrFlowGone() is a factory returning a DefaultError literal with CodeField http.StatusGone;
        # the WithID and the WithReasonf are on the chain built from it
        {
            "id": "mini_flow_expired",
            "name": "ErrIDFlowExpired",
            "statuses": [410],
            "reasons": ["The flow expired %.2f minutes ago."],
        },
        {
            "id": "mini_session_missing",
            "name": "ErrIDNoSession",
            "statuses": [401],
            "reasons": ["No session was found."],
        },
        {"id": "mini_never_raised", "name": "ErrIDNeverRaised", "statuses": [], "reasons": []},
    ]


def test_mini_reasons(mini):
    rows = _rows(mini, "reasons", "text")
    got = {t: (r["field"], r["is_format"], r["statuses"], r["error_ids"]) for t, r in rows.items()}
    assert got == {
        "The flow expired %.2f minutes ago.": ("reason", True, [410], ["mini_flow_expired"]),  # WithReasonf chain
        "the flow is gone": ("error", False, [410], []),  # herodot.DefaultError{ErrorField}
        # a constant built from a constant of another package
        "This flow was disabled by the operator.": ("reason", False, [404], []),
        "The input could not be parsed.": ("reason", False, [400], []),
        "Send the body as JSON.": ("detail", False, [400], []),
        "No session was found.": ("reason", False, [401], ["mini_session_missing"]),  # package-level var
        # a local variable assigned that var: status followed, the id is on another chain
        "https://example.com/docs/sessions": ("detail", False, [401], []),
        "missing properties: %s": ("validation_message", True, [400], []),  # fmt.Sprintf
        "The credentials are not valid.": ("validation_message", False, [400], []),  # t.Text of a text.New…()
    }
    # `err.Error()` and the logger's `.WithError(err)` are not literal texts
    assert not any("{" in t for t in rows)


def test_mini_config_keys(mini):
    rows = _rows(mini, "config_keys", "key")
    assert list(rows) == sorted(rows)
    assert rows["serve.base_url"] == {"key": "serve.base_url", "type": "string", "env_var": "SERVE_BASE_URL"}  # $ref
    assert rows["serve.port"] == {"key": "serve.port", "type": "integer", "default": 4433, "env_var": "SERVE_PORT"}
    assert rows["courier.headers.<name>"] == {"key": "courier.headers.<name>", "type": "string"}
    assert rows["hooks[].config.url"]["env_var"] == "HOOKS_<index>_CONFIG_URL"
    assert rows["hooks[].hook"]["allowed_values"] == ["web_hook", "session"]
    assert rows["log.level"]["enum"] == ["debug", "info"]
    assert "env_var" not in rows["log.leak-sensitive"]
    assert set(rows) == {
        "courier",
        "courier.headers",
        "courier.headers.<name>",
        "hooks",
        "hooks[].config",
        "hooks[].config.url",
        "hooks[].hook",
        "log",
        "log.leak-sensitive",
        "log.level",
        "serve",
        "serve.base_url",
        "serve.port",
    }


def test_mini_endpoints(mini):
    rows = {f"{r['method']} {r['path']}": r for r in mini["endpoints"]["rows"]}
    assert list(rows) == ["POST /self-service/login", "GET /self-service/login/browser", "GET /sessions/whoami"]
    login = rows["POST /self-service/login"]
    assert login["query"] == [{"name": "flow", "required": True}]
    assert login["error_ids"] == ["mini_flow_expired", "mini_session_missing"]
    assert login["variants"] == {
        "password": {"required": ["method", "password", "identifier"], "optional": ["csrf_token"]},
        "code": {"required": ["method", "csrf_token"], "optional": ["code", "resend"]},
    }
    assert rows["GET /sessions/whoami"]["error_ids"] == []  # a backticked word before the `error.id` list
    assert rows["GET /self-service/login/browser"]["docs_url"].endswith(
        "#tag/frontend/operation/createBrowserLoginFlow"
    )


def test_facts_command_writes_loadable_tables(tmp_path, capsys):
    out = tmp_path / "facts"
    assert main(["facts", "--kratos-src", str(MINI), "--out", str(out)]) == 0
    assert "ui_messages.json: 13" in capsys.readouterr().out
    for name in kratos_facts.TABLES:
        doc = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
        assert set(doc) == {"source", "ref", "commit", "count", "rows"} and doc["count"] == len(doc["rows"])
    assert not (out / "docs.json").exists()  # docs.json comes from ory/docs, not from Kratos
    with pytest.raises(SourceError):
        Checkout(MINI, "v1.0.0")  # a plain directory has no refs
    assert main(["facts", "--kratos-src", str(MINI), "--ref", "v1.0.0", "--out", str(out)]) == 2
    assert main(["facts", "--shared", str(tmp_path), "--ref", "v1.0.0", "--out", str(out)]) == 2  # no git there


# ---------------------------------------------------------------------------- the Kratos repository


def _pinned_commit() -> str:
    readme = (SHARED / "kratos" / "README.md").read_text(encoding="utf-8")
    return readme.split("[ory/kratos](https://github.com/ory/kratos) | `", 1)[1].split("`", 1)[0]


@pytest.fixture(scope="module")
def kratos():
    """(generated table documents, raw extraction) at the pinned commit, with the reference data."""
    if not (SHARED / "kratos" / "README.md").is_file():
        pytest.skip("../shared/kratos (the reference data) is not next to this checkout")
    if not KRATOS_SRC.is_dir():
        pytest.skip(f"no Kratos repository at {KRATOS_SRC} (set KRATOS_SRC to a clone or bare repo of ory/kratos)")
    try:
        src = Checkout(KRATOS_SRC, _pinned_commit())
    except SourceError as exc:
        pytest.skip(f"the pinned Kratos commit is not readable in {KRATOS_SRC}: {exc}")
    with src:
        docs = kratos_facts.generate(src)
        names = kratos_facts.error_id_names(src)
        found = kratos_errors.extract(kratos_facts.go_tree(src), names)
    return docs, found


def _shared(name: str) -> dict:
    return json.loads((SHARED / "kratos" / name).read_text(encoding="utf-8"))


def test_kratos_ui_messages_match_reference(kratos):
    docs, _ = kratos
    ref = _shared("ui-messages.json")["messages"]
    fields = ("id", "name", "type", "text", "text_kind", "has_constructor")
    assert len(docs["ui_messages"]["rows"]) == len(ref) == 179
    assert [tuple(r[f] for f in fields) for r in docs["ui_messages"]["rows"]] == sorted(
        (tuple(m[f] for f in fields) for m in ref), key=lambda t: t[0]
    )
    assert sum(r["has_constructor"] for r in docs["ui_messages"]["rows"]) == 159


def test_kratos_error_ids_match_reference(kratos):
    docs, _ = kratos
    ref = _shared("error-ids.json")["error_ids"]
    assert [(r["id"], r["name"], r["statuses"]) for r in docs["error_ids"]["rows"]] == [
        (e["id"], e["name"], e["statuses"]) for e in ref
    ]
    for row, e in zip(docs["error_ids"]["rows"], ref, strict=True):
        assert row["reasons"] == sorted({r["reason"] for r in e["raised_at"] if r.get("reason")}), row["id"]


def test_kratos_reasons_match_reference(kratos):
    """Every literal string of ../shared/kratos/herodot-reasons.json, found at the same place with the same
    field, status and error id (all 581, 416 distinct texts): full parity, no known gap."""
    docs, found = kratos
    ref = _shared("herodot-reasons.json")["reasons"]
    assert {r["text"] for r in docs["reasons"]["rows"]} == {r["text"] for r in ref}
    assert len(docs["reasons"]["rows"]) == 416

    def key(file, line, fld, text, status, error_id, is_format):
        return (file, line, fld, text, status, error_id, is_format)

    mine = collections.Counter(
        key(f.file, f.line, f.field, f.text, f.status, f.error_id, f.is_format) for f in found.found if f.literal
    )
    theirs = collections.Counter(
        key(r["file"], r["line"], r["field"], r["text"], r["status"], r["error_id"], r["is_format"]) for r in ref
    )
    assert mine == theirs
    assert sum(mine.values()) == 581


def test_kratos_config_keys_match_reference(kratos):
    docs, _ = kratos
    ref = {k["key"]: k for k in _shared("config-keys.json")["keys"]}
    rows = _rows(docs, "config_keys", "key")
    assert set(rows) == set(ref) and len(rows) == 1158
    for key, row in rows.items():
        for attr in ("type", "default", "enum", "allowed_values", "env_var"):
            assert row.get(attr) == ref[key].get(attr), (key, attr)


def test_kratos_endpoints_match_reference(kratos):
    docs, _ = kratos
    ref = _shared("api-endpoints.json")["endpoints"]
    assert len(docs["endpoints"]["rows"]) == len(ref) == 60
    by_key = {(e["method"], e["path"]): e for e in ref}
    for row in docs["endpoints"]["rows"]:
        e = by_key[(row["method"], row["path"])]
        assert row["operation_id"] == e["operationId"]
        assert row["query"] == [{"name": q["name"], "required": q["required"]} for q in e["query_params"]]
        assert row["error_ids"] == [x["id"] for x in e["error_ids_documented"]]
        variants = (e.get("method_variants") or {}).get("variants") or []
        assert row.get("variants", {}) == {
            v["method"]: {"required": v["required"], "optional": v["optional"]} for v in variants
        }


def test_committed_fact_tables_are_the_generated_ones(kratos):
    docs, _ = kratos
    for name, doc in docs.items():
        committed = json.loads((FACTS / f"{name}.json").read_text(encoding="utf-8"))
        assert committed["commit"] == doc["commit"] == _pinned_commit(), name
        assert committed["rows"] == doc["rows"], name


# --------------------------------------------------------------------------------------------- gaps

# Release 2 of the mini repository: one message added (1010004), one removed (1010003 becomes `_`) and
# one renamed (4000005 ErrorValidationPasswordTooShort becomes 4000007 ErrorValidationPasswordTooShortLength,
# same text).
RELEASE_2 = {
    "text/id.go": [
        ("\tInfoLoginWith                      // 1010003\n", "\t_\n\tInfoLoginCodeSent\n"),
        (
            "\tErrorValidationPasswordTooShort         // 4000005\n",
            "\t_                                       // 4000005\n",
        ),
        (
            "\tErrorValidationInvalidCredentials       // 4000006\n",
            "\tErrorValidationInvalidCredentials       // 4000006\n\tErrorValidationPasswordTooShortLength\n",
        ),
    ],
    "text/message_login.go": [
        (
            "func NewInfoLoginWith(provider string) *Message {\n"
            "\treturn &Message{\n"
            "\t\tID:   InfoLoginWith,\n"
            '\t\tText: fmt.Sprintf("Sign in with %s", provider),\n',
            "func NewInfoLoginCodeSent() *Message {\n"
            "\treturn &Message{\n"
            "\t\tID:   InfoLoginCodeSent,\n"
            '\t\tText: "A code was sent to you.",\n',
        )
    ],
    "text/message_validation.go": [
        ("ErrorValidationPasswordTooShort(min", "ErrorValidationPasswordTooShortLength(min"),
        ("ID:   ErrorValidationPasswordTooShort,", "ID:   ErrorValidationPasswordTooShortLength,"),
    ],
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def two_releases(tmp_path: Path) -> Path:
    """A git repository holding the mini fixture as tag v0.1.0 and a changed copy as tag v0.2.0."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "kratos"
    shutil.copytree(MINI, repo)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "release 1")
    _git(repo, "tag", "v0.1.0")
    for path, edits in RELEASE_2.items():
        text = (repo / path).read_text(encoding="utf-8")
        for old, new in edits:
            assert old in text, (path, old)
            text = text.replace(old, new)
        (repo / path).write_text(text, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "release 2")
    _git(repo, "tag", "v0.2.0")
    return repo


def _knowledge_for_release_1(tmp_path: Path, repo: Path) -> Path:
    """Facts of v0.1.0 and one entry per UI message with a constructor and per error id."""
    kdir = tmp_path / "knowledge"
    assert main(["facts", "--kratos-src", str(repo), "--ref", "v0.1.0", "--out", str(kdir / "facts")]) == 0
    (kdir / "facts" / "docs.json").write_text('{"source": "ory/docs", "commit": "", "count": 0, "rows": []}')
    ui = json.loads((kdir / "facts" / "ui_messages.json").read_text())["rows"]
    errors = json.loads((kdir / "facts" / "error_ids.json").read_text())["rows"]
    base = {"title": "t", "summary": "s.", "verified_by": ["text/id.go:1"]}
    entries = [
        {"id": f"ui.{r['id']}", "kind": "ui_message", "ui_id": r["id"], **base} for r in ui if r["has_constructor"]
    ]
    (kdir / "ui").mkdir()
    (kdir / "ui" / "mini.yaml").write_text(yaml.safe_dump({"entries": entries}))
    entries = [{"id": f"error.{r['id']}", "kind": "error_id", "error_id": r["id"], **base} for r in errors]
    entries.append(
        {
            "id": "reason.unparsable",
            "kind": "reason",
            "reason": "The input could not be parsed.",
            "config_keys": ["serve.port", "courier.headers.X-Custom"],
            "endpoints": ["POST /self-service/login"],
            **base,
        }
    )
    (kdir / "errors.yaml").write_text(yaml.safe_dump({"entries": entries}))
    load_knowledge(kdir)  # valid against release 1
    return kdir


def _gaps(kdir: Path, repo: Path, ref: str, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["gaps", "--knowledge", str(kdir), "--kratos-src", str(repo), "--ref", ref, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_gaps_report_one_added_one_removed_one_renamed(tmp_path, two_releases, capsys):
    kdir = _knowledge_for_release_1(tmp_path, two_releases)

    code, report = _gaps(kdir, two_releases, "v0.1.0", capsys)
    assert code == 0 and report["counts"] == {"missing": 0, "stale": 0, "changed": 0, "renamed": 0}

    code, report = _gaps(kdir, two_releases, "v0.2.0", capsys)
    assert code == 1  # the added message has no entry
    assert report["counts"] == {"missing": 1, "stale": 2, "changed": 0, "renamed": 1}
    assert [(i["kind"], i["value"]) for i in report["missing"]] == [("ui_message", "1010004")]
    assert [(i["kind"], i["value"], i["entry"]) for i in report["stale"]] == [
        ("ui_message", "1010003", "ui.1010003"),  # removed
        ("ui_message", "4000005", "ui.4000005"),  # renamed, see below
    ]
    (renamed,) = report["renamed"]
    assert (renamed["value"], renamed["new"], renamed["score"]) == (
        "4000005",
        "4000007 ErrorValidationPasswordTooShortLength",
        100.0,  # same text
    )

    code = main(["gaps", "--knowledge", str(kdir), "--kratos-src", str(two_releases), "--ref", "v0.2.0"])
    text = capsys.readouterr().out
    assert code == 1
    assert text.splitlines()[0].startswith("knowledge vs ory/kratos v0.2.0 (")
    assert "1 missing, 2 stale, 0 changed text, 1 renamed" in text
    assert re.search(r"ui_message 4000005 .*-> 4000007 ErrorValidationPasswordTooShortLength", text)


def test_gaps_reports_changed_text_and_stale_keys(tmp_path, two_releases, capsys):
    kdir = _knowledge_for_release_1(tmp_path, two_releases)
    repo = two_releases
    path = repo / "text" / "message_login.go"
    path.write_text(path.read_text().replace('"Sign in"', '"Log in"'))
    schema = repo / "embedx" / "config.schema.json"
    schema.write_text(schema.read_text().replace('"port"', '"http_port"'))
    _git(repo, "commit", "-q", "-am", "release 3")
    _git(repo, "tag", "v0.3.0")
    code, report = _gaps(kdir, repo, "v0.3.0", capsys)
    assert code == 1
    assert [(i["value"], i["detail"], i["new"]) for i in report["changed"]] == [("1010001", "Sign in", "Log in")]
    stale_keys = [(i["value"], i["entry"]) for i in report["stale"] if i["kind"] == "config_key"]
    assert stale_keys == [("serve.port", "reason.unparsable")]  # `courier.headers.X-Custom` still matches <name>
    assert ("config_key", "serve.port", "serve.http_port") in {
        (i["kind"], i["value"], i["new"]) for i in report["renamed"]
    }


# ----------------------------------------------------------------------------------------- versions


def test_versions_dates_each_fact_by_release(tmp_path, two_releases, capsys):
    kdir = _knowledge_for_release_1(tmp_path, two_releases)
    out = tmp_path / "versions.json"
    assert main(["versions", "--knowledge", str(kdir), "--kratos-src", str(two_releases), "--out", str(out)]) == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["tags"] == ["v0.1.0", "v0.2.0"]
    assert doc["first_release"]["ui_message"]["1010001"] == "v0.1.0"
    assert doc["first_release"]["ui_message"]["1010004"] == "v0.2.0"  # added in release 2
    assert doc["removed_after"]["ui_message"] == {"1010003": "v0.1.0", "4000005": "v0.1.0"}
    assert doc["unreleased"]["ui_message"] == []
    # the HEAD evaluation is checked against the knowledge's tables, which are release 1's
    assert "ui message ids at HEAD: 13 evaluated, 13 in facts: MISMATCH" in capsys.readouterr().out
    # release dates come from tags: a plain directory has none
    assert main(["versions", "--kratos-src", str(MINI), "--out", str(out)]) == 2
