"""Slack events and payloads as one small `Inbound` value: what to answer, and where."""

from __future__ import annotations

from dataclasses import dataclass, field

# Message subtypes that carry something a user wrote; edits, joins and bot messages are not.
ANSWERABLE_SUBTYPES = (None, "file_share", "thread_broadcast")


@dataclass(frozen=True)
class Inbound:
    text: str
    channel: str
    ts: str
    thread_ts: str  # where the reply goes: the thread of the message (or the message itself)
    user: str = ""
    event_id: str = ""
    channel_type: str = ""
    files: tuple[dict, ...] = field(default=())
    team: str = ""  # the workspace: whose bot token answers (several workspaces, bot/slack/install.py)

    @property
    def thread_key(self) -> str:
        return f"{self.channel}:{self.thread_ts}"

    @property
    def is_dm(self) -> bool:
        return self.channel_type == "im"


def from_event(event: dict, event_id: str = "", team: str = "") -> Inbound:
    ts = str(event.get("ts", ""))
    return Inbound(
        text=str(event.get("text") or ""),
        channel=str(event.get("channel", "")),
        ts=ts,
        thread_ts=str(event.get("thread_ts") or ts),
        user=str(event.get("user", "")),
        event_id=event_id,
        channel_type=str(event.get("channel_type", "")),
        files=tuple(f for f in event.get("files") or [] if isinstance(f, dict)),
        team=team,
    )


def from_shortcut(body: dict) -> Inbound:
    message = body.get("message") or {}
    ts = str(message.get("ts", ""))
    return Inbound(
        text=str(message.get("text") or ""),
        channel=str((body.get("channel") or {}).get("id", "")),
        ts=ts,
        thread_ts=str(message.get("thread_ts") or ts),
        user=str((body.get("user") or {}).get("id", "")),
        files=tuple(f for f in message.get("files") or [] if isinstance(f, dict)),
        team=str((body.get("team") or {}).get("id", "")),
    )
