"""The rule registry: `@rule` records a check function in RULES and returns it unchanged."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.analyze.evidence import Evidence
from bot.kb.loader import KnowledgeBase
from bot.models import Finding

Check = Callable[[Evidence, KnowledgeBase], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    check: Check
    doc: str


RULES: dict[str, Rule] = {}


def rule(rule_id: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        module = __import__(check.__module__, fromlist=["__doc__"])
        RULES[rule_id] = Rule(id=rule_id, check=check, doc=(module.__doc__ or "").strip())
        return check

    return register
