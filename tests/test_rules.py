"""Every analyzer rule: documented, and proven by fixture files that make it fire and stay quiet.

Fixtures live in tests/fixtures/rules/<rule-id>/{fires,quiet}/*.txt; a file may hold several turns
of one thread separated by a line `=== next turn ===` (only the last turn is checked).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.analyze import RULES

FIXTURES = Path(__file__).parent / "fixtures" / "rules"
SEPARATOR = "\n=== next turn ===\n"


def _cases(kind: str):
    for path in sorted(FIXTURES.glob(f"*/{kind}/*.txt")):
        yield pytest.param(path.parent.parent.name, path, id=f"{path.parent.parent.name}/{path.name}")


def _findings(triage, path: Path) -> list[str]:
    turns = path.read_text(encoding="utf-8").split(SEPARATOR)
    reply = None
    for turn in turns:
        reply = triage.answer(turn, thread=str(path))
    return [f.rule for f in reply.findings]


@pytest.mark.parametrize(("rule_id", "path"), list(_cases("fires")))
def test_rule_fires(triage, rule_id, path):
    assert rule_id in _findings(triage, path)


@pytest.mark.parametrize(("rule_id", "path"), list(_cases("quiet")))
def test_rule_quiet(triage, rule_id, path):
    assert rule_id not in _findings(triage, path)


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_is_documented_and_has_fixtures(rule_id):
    doc = RULES[rule_id].doc
    assert doc.startswith(f"{rule_id}:"), "the docstring starts with the rule id"
    for word in ("Why:", "Fix"):
        assert word in doc
    for kind in ("fires", "quiet"):
        assert list((FIXTURES / rule_id / kind).glob("*.txt")), f"{rule_id} needs a {kind}/ fixture"
