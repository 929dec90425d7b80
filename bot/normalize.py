"""Undo what Slack does to a pasted message before anything tries to parse it.

Slack wraps URLs and e-mail addresses in `<url|label>`, escapes `& < >`, turns quotes into smart
quotes, and users wrap pastes in code fences. Extraction needs the text as the user typed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One pass over every <...> token; each alternative is bounded so the pattern stays linear.
_ANGLE = re.compile(r"<([^<>\n]{1,4000})>")
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]{0,20}[ \t]*\n?")
_SMART = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u00a0": " ",
        "\u2007": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\ufeff": None,
        "\u2013": "-",
        "\u2014": "-",
    }
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Normalized:
    text: str
    mangled_links: int = 0  # Slack links that were unwrapped (a hint the paste came through Slack)
    mangled_ory_key: bool = False  # "ory.sh/kratos" had been turned into a link
    binary: bool = False  # the input held control bytes (binary junk)


def _unwrap(match: re.Match[str], bot_user_id: str | None, counter: list[int]) -> str:
    inner = match.group(1)
    head = inner[:1]
    if head == "@":
        user = inner[1:].split("|", 1)[0]
        if bot_user_id and user == bot_user_id:
            return ""
        return "@" + (inner.split("|", 1)[1] if "|" in inner else user)
    if head == "#":
        return "#" + (inner.split("|", 1)[1] if "|" in inner else inner[1:])
    if head == "!":
        name = inner[1:].split("|", 1)
        return "@" + (name[1] if len(name) > 1 else name[0].split("^", 1)[0])
    if re.match(r"(?:https?|mailto|ftp|tel):", inner):
        counter[0] += 1
        url, _, label = inner.partition("|")
        if not label:
            return url
        bare = re.sub(r"^(?:https?://|mailto:|tel:)", "", url)
        # Slack's auto-link keeps the user's text as label; a hand-made link label may differ.
        return label if bare.startswith(label) or label == url else f"{label} ({url})"
    return match.group(0)


def normalize(raw: str, bot_user_id: str | None = None) -> Normalized:
    """Return the message as typed: links unwrapped, entities decoded, quotes straightened."""
    text = raw if isinstance(raw, str) else str(raw)
    binary = bool(_CONTROL.search(text[:100_000]))
    if binary:
        text = _CONTROL.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_SMART)
    mangled_ory_key = "<http://ory.sh/kratos|" in text or "<https://ory.sh/kratos|" in text
    counter = [0]
    text = _ANGLE.sub(lambda m: _unwrap(m, bot_user_id, counter), text)
    # Entities last: a decoded "&lt;" must not be taken for the start of a Slack link.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _FENCE.sub("", text).replace("```", "")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    return Normalized(text=text, mangled_links=counter[0], mangled_ory_key=mangled_ory_key, binary=binary)


def prose(text: str) -> str:
    """Collapse line breaks and runs of space: Slack's export splits sentences at inline code."""
    return " ".join(text.split())
