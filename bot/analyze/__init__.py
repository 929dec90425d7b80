"""Analyze: run every registered rule over the evidence and collect findings, best first."""

from __future__ import annotations

import logging

from bot.analyze import rules as _rules  # noqa: F401  (registers the rules)
from bot.analyze.evidence import Evidence
from bot.analyze.registry import RULES
from bot.analyze.versionkit import fit_finding, named_version
from bot.kb.loader import KnowledgeBase
from bot.models import Finding

log = logging.getLogger(__name__)


def analyze(ev: Evidence, kb: KnowledgeBase) -> list[Finding]:
    findings: list[Finding] = []
    for rule in RULES.values():
        try:
            findings.extend(rule.check(ev, kb))
        except Exception:  # one broken rule must not cost the user the whole answer
            log.exception("rule %s failed", rule.id)
    running = named_version(ev) or ""
    findings = [fit_finding(kb, running, f, ev.focus) for f in findings]
    order = {"error": 0, "warning": 1, "info": 2}
    # The same mistake in two requests of one paste is one finding for the reader.
    unique = list({(f.rule, f.title): f for f in reversed(findings)}.values())[::-1]
    return sorted(unique, key=lambda f: (-f.score, order.get(f.severity, 3)))


__all__ = ["Evidence", "RULES", "analyze"]
