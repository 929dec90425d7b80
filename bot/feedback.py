"""Answer and feedback records (no message text): what was answered with which entries, and whether
people found it helpful. JSON lines in one file, so `kratos-bot stats` can read what `serve` wrote."""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

NONE = "(no match)"


@dataclass
class FeedbackLog:
    path: Path

    def write(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")

    def answered(self, answer_id: str, entries: list[str], confidence: str, channel: str) -> None:
        self.write(answer_record(answer_id, entries, confidence, channel))

    def feedback(self, answer_id: str, helpful: bool, channel: str) -> None:
        self.write(feedback_record(answer_id, helpful, channel))

    def records(self) -> list[dict]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a torn last line after a crash must not hide the rest
        return out


def answer_record(answer_id: str, entries: list[str], confidence: str, channel: str) -> dict:
    return {
        "type": "answer",
        "answer_id": answer_id,
        "entries": entries,
        "confidence": confidence,
        "channel": channel,
        "time": time.time(),
    }


def feedback_record(answer_id: str, helpful: bool, channel: str) -> dict:
    return {"type": "feedback", "answer_id": answer_id, "helpful": helpful, "channel": channel, "time": time.time()}


def stats(records: list[dict]) -> dict[str, Counter]:
    """Per knowledge entry: answered, unanswered, helpful, not_helpful."""
    entries_of: dict[str, list[str]] = {}
    table: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        if r.get("type") == "answer":
            top = r.get("entries") or []
            entries_of[r["answer_id"]] = top[:1] or [NONE]
            if r.get("confidence") == "none" or not top:
                table[NONE]["unanswered"] += 1
            else:
                table[top[0]]["answered"] += 1
    for r in records:
        if r.get("type") == "feedback":
            for entry in entries_of.get(r.get("answer_id", ""), [NONE]):
                table[entry]["helpful" if r.get("helpful") else "not_helpful"] += 1
    return dict(table)
