"""Score case files: a thread of turns with `expect` / `expect_not` regex patterns.

Two shapes are accepted (as in ../shared/seed/expectations.yaml):
- `thread:` a list of turns `{id, text, expect, expect_not}`, all answered in one thread;
- `turns:` a list of texts (or `{text}`) plus `expect` / `expect_not` for the last turn.
Patterns are Python regexes, matched with IGNORECASE | DOTALL against the mrkdwn reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.pipeline import Triage
from bot.render import to_mrkdwn

FLAGS = re.IGNORECASE | re.DOTALL


@dataclass
class TurnResult:
    case: str
    turn: str
    missing: list[str] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    reply: str = ""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.forbidden


def _patterns(items) -> list[str]:
    out = []
    for item in items or []:
        out.append(item["pattern"] if isinstance(item, dict) else str(item))
    return out


def _check(result: TurnResult, reply: str, expect, expect_not) -> TurnResult:
    result.reply = reply
    result.missing = [p for p in _patterns(expect) if not re.search(p, reply, FLAGS)]
    result.forbidden = [p for p in _patterns(expect_not) if re.search(p, reply, FLAGS)]
    return result


def evaluate_file(path: Path, triage: Triage) -> list[TurnResult]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    name = path.stem
    results: list[TurnResult] = []
    thread = f"eval:{path}"
    if isinstance(doc, dict) and "thread" in doc:
        for i, turn in enumerate(doc["thread"]):
            reply = to_mrkdwn(triage.answer(turn["text"], thread=thread))
            results.append(
                _check(TurnResult(name, str(turn.get("id", i + 1))), reply, turn.get("expect"), turn.get("expect_not"))
            )
        return results
    if isinstance(doc, dict) and "turns" in doc:
        reply = ""
        for turn in doc["turns"]:
            text = turn["text"] if isinstance(turn, dict) else str(turn)
            reply = to_mrkdwn(triage.answer(text, thread=thread))
        results.append(
            _check(TurnResult(name, str(doc.get("id", name))), reply, doc.get("expect"), doc.get("expect_not"))
        )
        return results
    raise ValueError(f"{path}: expected a `thread:` or `turns:` case file")
