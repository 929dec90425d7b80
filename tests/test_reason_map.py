"""knowledge/reason_map.yaml: every literal Kratos reason leads to the entry that explains it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.kb.loader import KnowledgeError, load_knowledge
from bot.match import Index, exact_matches, kratos_text_matches
from bot.models import KratosError

ROOT = Path(__file__).resolve().parent.parent
# A reason with no entry of its own, raised by the session middleware of the public API (session/handler.go:929).
MAPPED = "This endpoint can only be accessed with a valid session. Please log in and try again."
ROW = {"reason": MAPPED, "entry": "error.session_inactive", "verified_by": ["session/handler.go:929"]}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A copy of the knowledge without its reason map, so each test writes the map it checks."""
    directory = tmp_path_factory.mktemp("kb") / "knowledge"
    shutil.copytree(ROOT / "knowledge", directory)
    (directory / "reason_map.yaml").unlink(missing_ok=True)
    return directory


def _load(base: Path, rows) -> object:
    (base / "reason_map.yaml").write_text(yaml.safe_dump({"map": rows}), encoding="utf-8")
    try:
        return load_knowledge(base)
    finally:
        (base / "reason_map.yaml").unlink()


def _problems(base: Path, rows) -> list[str]:
    with pytest.raises(KnowledgeError) as exc:
        _load(base, rows)
    return exc.value.problems


def test_valid_map_is_exposed(base):
    kb = _load(base, [ROW])
    assert kb.reason_entries == {MAPPED: "error.session_inactive"}


def test_unknown_reason_rejected(base):
    problems = _problems(base, [{**ROW, "reason": "This endpoint is closed on Sundays."}])
    assert any("not a literal Kratos error string" in p for p in problems)


def test_unknown_entry_rejected(base):
    problems = _problems(base, [{**ROW, "entry": "error.no_such_entry"}])
    assert any("'error.no_such_entry' does not exist" in p for p in problems)


def test_duplicate_reason_rejected(base):
    problems = _problems(base, [ROW, {**ROW, "entry": "reason.no-session-credentials"}])
    assert any("mapped twice" in p for p in problems)


def test_reason_with_own_entry_rejected(base):
    own = "The flow query parameter is missing or malformed."  # reason.flow-param-missing-or-malformed
    problems = _problems(base, [{**ROW, "reason": own, "entry": "reason.resource-not-found"}])
    assert any("already has its own entry reason.flow-param-missing-or-malformed" in p for p in problems)


@pytest.mark.parametrize("verified_by", [None, [], [""]])
def test_missing_source_place_rejected(base, verified_by):
    row = {k: v for k, v in ROW.items() if k != "verified_by"}
    if verified_by is not None:
        row["verified_by"] = verified_by
    assert any("verified_by" in p for p in _problems(base, [row]))


def test_unknown_key_rejected(base):
    assert any("only the keys" in p for p in _problems(base, [{**ROW, "note": "x"}]))


def test_quoted_mapped_reason_in_prose_leads_to_its_entry(base):
    index = Index.build(_load(base, [ROW]))
    message = f"Calling /sessions from my SPA, the response says: {MAPPED} What does that mean?"
    matches = kratos_text_matches(index, message)
    assert [m.entry_id for m in matches] == ["error.session_inactive"]
    assert matches[0].score == 96 - 2  # a mapped text ranks just below a reason with its own entry


def test_mapped_format_reason_in_error_json(base):
    # A Go format string is recognised rendered, in the `reason` field of a pasted error.
    template = "Invalid UUID value `%s` for parameter `ids`."
    row = {"reason": template, "entry": "topic.identities-find-by-email", "verified_by": ["identity/handler.go:198"]}
    index = Index.build(_load(base, [row]))
    error = KratosError(None, 400, None, "Invalid UUID value `abc` for parameter `ids`.", None)
    assert "topic.identities-find-by-email" in {m.entry_id for m in exact_matches(index, [error], "")}


def test_every_reason_reachable(kb):
    """Each literal reason Kratos sends has its own entry or a mapped one (issue 12)."""
    unreachable = set(kb.facts.reasons) - set(kb.by_reason) - set(kb.reason_entries)
    assert not unreachable, sorted(unreachable)[:10]


def test_mapped_reason_answered(triage):
    reply = triage.answer(f"My React app calls the backend and gets a 401: {MAPPED}")
    assert "error.session_inactive" in [m.entry_id for m in reply.matches][:3]
