"""The seed support thread, answered as one thread, must meet every expectation."""

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
