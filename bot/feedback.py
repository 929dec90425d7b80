"""Answer and feedback records (no message text): what was answered with which entries, and whether
people found it helpful. JSON lines in one file, so `kratos-bot stats` can read what `serve` wrote."""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

NONE = "(no match)"


def default_feedback_path(env=None) -> Path:
    """Where records go without KRATOS_BOT_FEEDBACK_FILE: the user's state directory (XDG), so `serve` and
    `stats` find the same file whatever directory they were started from."""
    env = os.environ if env is None else env
    if env.get("KRATOS_BOT_FEEDBACK_FILE"):
        return Path(env["KRATOS_BOT_FEEDBACK_FILE"])
    base = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return base / "kratos-bot" / "feedback.jsonl"


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

    def records(self, since: float = 0.0) -> list[dict]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a torn last line after a crash must not hide the rest
            if isinstance(record, dict) and record.get("time", since) >= since:
                out.append(record)
        return out

    def prune(self, before: float) -> None:
        """Drop the records older than `before` (epoch seconds): written to a new file, then renamed over."""
        if not self.path.is_file():
            return
        kept = self.records(since=before)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in kept), encoding="utf-8")
        tmp.replace(self.path)


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


def outcome_record(kind: str, answer_id: str, entries: list[str], channel: str) -> dict:
    """A hand-off to a person ("handoff") or a thread marked done ("resolved"), counted per entry."""
    return {"type": kind, "answer_id": answer_id, "entries": entries, "channel": channel, "time": time.time()}


OUTCOMES = {"handoff": "handoffs", "resolved": "resolved"}


def stats(records: list[dict]) -> dict[str, Counter]:
    """Per knowledge entry: answered, unanswered, helpful, not_helpful, handoffs, resolved."""
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
        elif r.get("type") in OUTCOMES:
            top = (r.get("entries") or [])[:1] or entries_of.get(r.get("answer_id", ""), [NONE])
            table[top[0]][OUTCOMES[r["type"]]] += 1
    return dict(table)
