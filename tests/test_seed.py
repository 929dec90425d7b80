"""The seed support thread, answered as one thread, must meet every expectation; so must tests/cases."""

from pathlib import Path

import pytest

from bot.evaluate import evaluate_file
from tests.conftest import SHARED, needs_shared


@needs_shared
def test_seed_thread_passes_every_turn(triage):
    results = evaluate_file(SHARED / "seed" / "expectations.yaml", triage)
    assert len(results) == 16
    failing = {r.turn: r.missing + r.forbidden for r in results if not r.ok}
    assert failing == {}


@needs_shared
def test_seed_answers_are_deterministic(kb):
    from bot.pipeline import Triage

    first = [r.reply for r in evaluate_file(SHARED / "seed" / "expectations.yaml", Triage(kb))]
    second = [r.reply for r in evaluate_file(SHARED / "seed" / "expectations.yaml", Triage(kb))]
    assert first == second


CASES = sorted((Path(__file__).parent / "cases").glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_file(triage, path):
    """Conversations beyond the seed thread (tests/cases): adding a case is adding a file."""
    results = evaluate_file(path, triage)
    assert results and all(r.ok for r in results), [(r.turn, r.missing, r.forbidden) for r in results]


def _expectations(doc: dict):
    for holder in [doc, *(doc.get("turns") or []), *(doc.get("thread") or [])]:
        yield from (holder.get("expect") or []) + (holder.get("expect_not") or [])


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_case_expectation_says_why_and_where_it_is_proven(path):
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    unproven = [e["pattern"] for e in _expectations(doc) if not e.get("source") or not e.get("why")]
    assert unproven == [], "each pattern needs `why:` and a `source:` (Kratos file:line or docs URL)"
