"""Slack messages for a reply: Block Kit split into messages within Slack's limits, a fallback text,
and the feedback buttons on the last message."""

from __future__ import annotations

from bot.models import Reply
from bot.render import BLOCK_LIMIT, TEXT_LIMIT, blocks_uncut, to_mrkdwn

FEEDBACK_HELPFUL = "feedback_helpful"
FEEDBACK_NOT_HELPFUL = "feedback_not_helpful"
POST_ANSWER = "post_answer"
STILL_STUCK = "still_stuck"
RESOLVED = "resolved"


def _button(action_id: str, value: str, text: str, **extra) -> dict:
    return {
        "type": "button",
        "action_id": action_id,
        "value": value,
        "text": {"type": "plain_text", "text": text},
        **extra,
    }


def feedback_block(answer_id: str, handoff: bool = False) -> dict:
    """Helpful / Not helpful, and in a thread "Still stuck" (to a person, when a hand-off target is set) and
    "Resolved"."""
    elements = [
        _button(FEEDBACK_HELPFUL, answer_id, "Helpful"),
        _button(FEEDBACK_NOT_HELPFUL, answer_id, "Not helpful"),
    ]
    if handoff:
        elements.append(_button(STILL_STUCK, answer_id, "Still stuck: ask a person", style="danger"))
    elements.append(_button(RESOLVED, answer_id, "Resolved"))
    return {"type": "actions", "block_id": f"feedback:{answer_id}", "elements": elements}


def post_button(answer_id: str) -> dict:
    return {
        "type": "actions",
        "block_id": f"post:{answer_id}",
        "elements": [_button(POST_ANSWER, answer_id, "Post to channel", style="primary")],
    }


def messages(reply: Reply, extra: dict | None = None) -> list[dict]:
    """chat.postMessage payloads (`text` + `blocks`); long replies become several messages."""
    blocks = blocks_uncut(reply)
    room = BLOCK_LIMIT - 1  # the last message keeps a slot for the buttons
    chunks = [blocks[i : i + room] for i in range(0, len(blocks), room)] or [[]]
    text = to_mrkdwn(reply)
    out = []
    for n, chunk in enumerate(chunks):
        payload = {"text": text[:TEXT_LIMIT] if n == 0 else "(continued)", "blocks": list(chunk)}
        out.append(payload)
    if extra is not None:
        out[-1]["blocks"].append(extra)
    return out
