"""Whether the bot speaks. A support bot that answers everything is noise: in a thread it has joined and in a
help channel it answers only what asks something or pastes something Kratos-shaped, and only when the answer
is worth posting there. Plain functions; bot/slack/ asks them before and after the triage.

Where a message reaches the bot decides how sure it must be:
- `addressed`: a mention, a DM, `/kratos`, the message shortcut. The user asked the bot: it answers (thanks
  get a reaction instead of a reply).
- `followup`: a message without a mention in a thread the bot has answered in. Answered when it asks
  something or pastes something; an answer the thread already has is not posted again.
- `channel`: a top-level message without a mention in a channel whose mode is `auto` or `all`. In `auto` only
  hard evidence (an error id, a UI message id, a Kratos text, a curl to Kratos, a schema or config) or a
  confident answer is posted; in `all` every question that gets an answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import Reply

MODES = ("mention", "auto", "all")
DEFAULT_MODE = "mention"
ADDRESSED, FOLLOWUP, CHANNEL = "addressed", "followup", "channel"

_THANKS = re.compile(
    r"(?i)\b(thanks?|thank you|thx|tyvm|ty|cheers|much appreciated|appreciate it)\b|:pray:|🙏|:\+1:|👍|:tada:|🎉"
)
_ACK = re.compile(
    r"(?i)^\W*(ok(?:ay)?|k|sure|great|perfect|awesome|nice|cool|got it|i see|makes sense|understood|will do|"
    r"will try(?: that)?|let me try(?: that)?|trying(?: that)? now|on it|sounds good|lol|haha|yes|yep|no|nope|"
    r"that (?:fixed|solved|did) it|(?:it )?works(?: now)?|solved|resolved|done)\W*$"
)
# Reports a problem, even without a question mark: "still getting 401 after that".
_PROBLEM = re.compile(
    r"(?i)\b(error|errors|fail\w*|broken|not work\w*|doesn'?t|does not|didn'?t|did not|can'?t|cannot|unable|"
    r"won'?t|issue|problem|wrong|still|again|exception|invalid|missing|denied|refused|getting|returns?|"
    r"4\d\d|5\d\d|help)\b"
)
_QUESTION_OPENER = re.compile(
    r"(?i)^\W*(how|what|why|where|when|which|who|can|could|does|do|did|is|are|was|should|would|will|any|anyone|"
    r"is there|has|have|shall|may|might)\b"
)
_OTHER_USER = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")


def asks(text: str) -> bool:
    """A question or a problem report, not a remark."""
    return "?" in text or bool(_QUESTION_OPENER.search(text) or _PROBLEM.search(text))


def is_thanks(text: str) -> bool:
    """Thanks or a short acknowledgement, with no new question in it."""
    words = text.split()
    if not words or len(words) > 15 or "?" in text:
        return False
    if _PROBLEM.search(_THANKS.sub(" ", text)):
        return False
    chunks = [c.strip() for c in re.split(r"[,.;:!]+", _THANKS.sub(" ", text)) if c.strip()]
    # "thanks! and where do I set the lifespan" still asks something
    if any(_QUESTION_OPENER.match(re.sub(r"(?i)^(and|but|also|so)\s+", "", c)) for c in chunks):
        return False
    return bool(_THANKS.search(text)) or all(_ACK.match(c) for c in chunks)


@dataclass(frozen=True)
class Verdict:
    act: str  # "answer" | "react" (thanks: a reaction, no reply) | "quiet"
    why: str


def before_triage(text: str, where: str, bot_user_id: str = "") -> Verdict:
    """What a message alone says: thanks get a reaction; a remark to someone else, where the bot was not
    addressed, gets nothing. The rest is triaged (and judged again by `after_triage`)."""
    own = text.replace(f"<@{bot_user_id}>", " ") if bot_user_id else text
    if is_thanks(_OTHER_USER.sub(" ", own)):
        return Verdict("react", "thanks or an acknowledgement")
    if where != ADDRESSED and _OTHER_USER.search(own) and "?" not in own:
        return Verdict("quiet", "a remark to someone else")
    return Verdict("answer", "")


def after_triage(reply: Reply, where: str, mode: str = DEFAULT_MODE, *, text: str = "") -> Verdict:
    """Whether the composed reply is posted, given where the message came from (see the module docstring)."""
    decision = reply.meta.get("decision", "")
    evidence = bool(reply.meta.get("evidence"))
    if where == ADDRESSED:
        return Verdict("answer", "asked directly")
    if decision == "repeat":
        return Verdict("quiet", "the thread already has this answer")
    if decision == "route" and not evidence:
        return Verdict("quiet", "not a Kratos question, and nobody asked the bot")
    if where == FOLLOWUP:
        if evidence or asks(text):
            return Verdict("answer", "a follow-up that asks or pastes something")
        return Verdict("quiet", "a remark in the thread")
    # A top-level message in a help channel nobody addressed to the bot.
    if mode == "auto":
        if evidence and decision != "abstain":
            return Verdict("answer", "auto: a Kratos paste")
        if reply.confidence == "high":
            return Verdict("answer", "auto: a confident answer")
        return Verdict("quiet", "auto: no hard evidence and no confident answer")
    if mode == "all":
        if (evidence or asks(text)) and decision != "abstain":
            return Verdict("answer", "all: a question with an answer")
        return Verdict("quiet", "all: no question, or no answer")
    return Verdict("quiet", f"mode {mode}: answers mentions only")
