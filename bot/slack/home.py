"""The App Home tab and the `/kratos help` text: what the bot does, how to paste, the channel modes, and
where this workspace's users get stuck most (from the answer, feedback and hand-off records)."""

from __future__ import annotations

from collections import Counter

from bot.engage import DEFAULT_MODE
from bot.feedback import NONE

HELP = (
    "*kratos-bot* answers Ory Kratos questions: error JSON, `ui.messages`, a curl, an identity schema, a "
    "kratos.yml, or a plain question.\n"
    "• Mention `@kratos-bot` with your paste, DM it, or use `/kratos <text>` (answered only to you).\n"
    "• Paste the *whole* error JSON (with `error.id`) or the `ui.messages` array, say which flow it is, and "
    "your Kratos version (or Ory Network). Secrets you paste are masked; revoke a live one.\n"
    "• In a thread it answered it reads follow-ups without a new mention; thanks get a ✅, not a reply.\n"
    "• *Still stuck: ask a person* on an answer hands the thread to the team; *Resolved* closes it.\n"
    "• Channel modes (admins): `/kratos config mode mention|auto|all` in the channel. `mention` answers "
    "mentions only; `auto` also answers top-level messages that paste an error, a UI message, a request, a "
    "schema or a config, or that it can answer with confidence; `all` answers every question it can answer."
)
MODE_MEANING = {
    "mention": "answers mentions only",
    "auto": "also answers pastes and confident answers without a mention",
    "all": "answers every question it can answer",
}
TOP = 5


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def gaps(table: dict[str, Counter], top: int = TOP) -> list[tuple[str, int]]:
    """Entries where people got stuck: hand-offs, "Not helpful" and unanswered questions, most first."""
    weight = {entry: c["handoffs"] + c["not_helpful"] + c["unanswered"] for entry, c in table.items()}
    return [(e, n) for e, n in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0])) if n][:top]


def home_view(modes: dict[str, str], table: dict[str, Counter]) -> dict:
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "kratos-bot"}},
        _section(HELP),
        {"type": "divider"},
    ]
    if modes:
        lines = [f"• <#{channel}>: `{mode}`, {MODE_MEANING[mode]}" for channel, mode in sorted(modes.items())]
    else:
        lines = [f"Every channel is in `{DEFAULT_MODE}` mode: the bot {MODE_MEANING[DEFAULT_MODE]}."]
    blocks.append(_section("*Channel modes*\n" + "\n".join(lines)))
    stuck = gaps(table)
    if stuck:
        rows = [f"• `{entry}`: {n}" if entry != NONE else f"• questions without a match: {n}" for entry, n in stuck]
        text = "*Where people got stuck* (hand-offs, Not helpful, unanswered)\n" + "\n".join(rows)
    else:
        text = "*Where people got stuck*\nNothing recorded yet."
    blocks.append(_section(text))
    return {"type": "home", "blocks": blocks}
