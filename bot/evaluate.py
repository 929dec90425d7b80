"""Score case files: a thread of turns with `expect` / `expect_not` regex patterns.

Two shapes are accepted (as in ../shared/seed/expectations.yaml):
- `thread:` a list of turns `{id, text, expect, expect_not}`, all answered in one thread;
- `turns:` a list of texts (or `{text}`) plus `expect` / `expect_not` for the last turn (beside `turns:`
  or on the last turn).
Patterns are Python regexes, matched with IGNORECASE | DOTALL against the mrkdwn reply.
A thread turn without any `expect` or `expect_not` is answered (it builds the thread) but not scored.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.models import Reply
from bot.pipeline import Triage
from bot.render import to_mrkdwn

FLAGS = re.IGNORECASE | re.DOTALL
CONFIDENCE_LEVELS = ("high", "medium", "low", "none")


@dataclass
class TurnResult:
    case: str
    turn: str
    missing: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    reply: str = ""
    category: str = "-"
    confidence: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.forbidden


def _patterns(items) -> list[str]:
    out = []
    for item in items or []:
        out.append(item["pattern"] if isinstance(item, dict) else str(item))
    return out


def _scored(turn: dict) -> bool:
    return bool(turn.get("expect") or turn.get("expect_not"))


def _check(result: TurnResult, reply: Reply, expect, expect_not) -> TurnResult:
    result.reply = text = to_mrkdwn(reply)
    result.confidence = reply.confidence
    result.missing = [p for p in _patterns(expect) if not re.search(p, text, FLAGS)]
    result.forbidden = [p for p in _patterns(expect_not) if re.search(p, text, FLAGS)]
    return result


def evaluate_file(path: Path, triage: Triage) -> list[TurnResult]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = path.stem
    results: list[TurnResult] = []
    thread = f"eval:{path}"
    category = str(doc.get("category") or "-") if isinstance(doc, dict) else "-"
    if isinstance(doc, dict) and "thread" in doc:
        for i, turn in enumerate(doc["thread"]):
            reply = triage.answer(turn["text"], thread=thread)
            if not _scored(turn):
                continue
            result = TurnResult(name, str(turn.get("id", i + 1)), category=category)
            results.append(_check(result, reply, turn.get("expect"), turn.get("expect_not")))
        return results
    if isinstance(doc, dict) and "turns" in doc:
        reply, last = None, {}
        for turn in doc["turns"]:
            text = turn["text"] if isinstance(turn, dict) else str(turn)
            reply = triage.answer(text, thread=thread)
            last = turn if isinstance(turn, dict) else {}
        # The expectations sit beside `turns:` or on the last turn itself.
        scored = doc if _scored(doc) else last
        if reply is None or not _scored(scored):
            return results
        result = TurnResult(name, str(doc.get("id", name)), category=category)
        results.append(_check(result, reply, scored.get("expect"), scored.get("expect_not")))
        return results
    raise ValueError(f"{path}: expected a `thread:` or `turns:` case file")


def _rate(rows: list[TurnResult]) -> str:
    passed = sum(r.ok for r in rows)
    return f"{passed}/{len(rows)}  {100 * passed / len(rows):5.1f}%" if rows else "-"


def detail_table(results: list[TurnResult]) -> str:
    """Pass rate by category and by confidence, and reply lengths: the figures the issue tracker asks for."""
    lines = ["by category"]
    by_cat: dict[str, list[TurnResult]] = defaultdict(list)
    for r in results:
        by_cat[r.category].append(r)
    for cat in sorted(by_cat):
        lines.append(f"  {cat:<14} {_rate(by_cat[cat])}")
    lines.append("by confidence")
    by_conf: dict[str, list[TurnResult]] = defaultdict(list)
    for r in results:
        by_conf[r.confidence].append(r)
    for level in (*CONFIDENCE_LEVELS, *sorted(set(by_conf) - set(CONFIDENCE_LEVELS))):
        if by_conf.get(level):
            lines.append(f"  {level:<14} {_rate(by_conf[level])}")
    if results:
        sizes = sorted(len(r.reply) for r in results)
        p90 = sizes[min(len(sizes) - 1, int(0.9 * len(sizes)))]
        lines.append(f"reply length   median {int(statistics.median(sizes))}, p90 {p90}, max {sizes[-1]} characters")
    lines.append(f"overall        {_rate(results)}")
    return "\n".join(lines)
