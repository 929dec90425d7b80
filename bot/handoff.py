"""What a person needs when the bot hands a thread over ("Still stuck"): the question, what the bot found and
said, the ids, the user's version and the corrected artifacts, secrets masked. Built when the answer is
posted (the reply is already scrubbed of the pasted secrets) and kept with the thread; rendered as Slack
mrkdwn when the button is clicked."""

from __future__ import annotations

from bot.models import Reply

QUESTION_MAX = 600
CODE_MAX = 1200


def mark_key(channel: str, thread_ts: str) -> str:
    """The state key that says a thread was handed to people (the bot then leaves its follow-ups alone)."""
    return f"handoff:{channel}:{thread_ts}"


def expired_summary(channel: str, thread_ts: str, user: str) -> dict:
    """What "Still stuck" hands over when the answer's summary has expired with its thread."""
    return {
        "channel": channel,
        "thread_ts": thread_ts,
        "user": user,
        "question": "",
        "headline": "(the answer's summary has expired)",
        "confidence": "?",
        "entries": [],
        "findings": [],
        "secret_pasted": False,
        "version": "",
        "corrected": [],
    }


def summary(reply: Reply, *, channel: str, thread_ts: str, user: str, version: str = "") -> dict:
    """Plain data, stored in the state store until the thread expires."""
    corrected = [
        {"title": s.title, "code": s.code.code[:CODE_MAX]}
        for s in reply.sections
        if s.code is not None and s.title.startswith("Corrected")
    ]
    return {
        "channel": channel,
        "thread_ts": thread_ts,
        "user": user,
        "question": str(reply.meta.get("question", ""))[:QUESTION_MAX],
        "headline": reply.headline,
        "confidence": reply.confidence,
        "entries": [m.entry_id for m in reply.matches[:3]],
        "findings": [f.title for f in reply.findings if f.rule != "live-secrets"][:6],
        "secret_pasted": any(f.rule == "live-secrets" for f in reply.findings),
        "version": version,
        "corrected": corrected[:2],
    }


def thread_link(channel: str, thread_ts: str) -> str:
    # Slack's archive links open the thread in the client; no API call (chat.getPermalink) needed.
    return f"https://slack.com/archives/{channel}/p{thread_ts.replace('.', '')}"


def handoff_text(s: dict, clicked_by: str, group: str = "") -> str:
    """The message posted to the people who take over."""
    who = f"<!subteam^{group}> " if group else ""
    lines = [
        f"{who}:sos: <@{clicked_by}> is still stuck after the bot's answer in <#{s['channel']}> "
        f"(<{thread_link(s['channel'], s['thread_ts'])}|thread>).",
        f"*Question:* {s['question'] or '(see the thread)'}",
        f"*Bot's answer ({s['confidence']}):* {s['headline']}",
    ]
    if s["entries"]:
        lines.append("*Matched:* " + ", ".join(f"`{e}`" for e in s["entries"]))
    if s["findings"]:
        lines.append("*Found in the paste:* " + "; ".join(s["findings"]))
    lines.append(f"*Kratos version:* {s['version'] or 'not stated'}")
    if s["secret_pasted"]:
        lines.append(":warning: A live secret was pasted in the thread (masked here); the user was told to revoke it.")
    for c in s["corrected"]:
        lines.append(f"*{c['title']}:*\n```\n{c['code']}\n```")
    return "\n".join(lines)
