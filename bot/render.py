"""Render a Reply for Slack (mrkdwn text and Block Kit), a terminal, or GitHub (an issue comment).

Slack limits: 3,000 characters per section text, 50 blocks per message, 40,000 characters of
message text. Code blocks are cut before a limit, never in the middle of a fence.
"""

from __future__ import annotations

import json
import re

from bot.compose import BOLD_CLOSE, BOLD_OPEN
from bot.models import Reply, Section

SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
TEXT_LIMIT = 39_000
CODE_LIMIT = 2_600
GITHUB_LIMIT = 60_000  # GitHub refuses a comment over 65,536 characters
GITHUB_CODE_LIMIT = 20_000


def _escape(text: str) -> str:
    # Slack reads & < > as control characters in mrkdwn; escaped, they show as typed.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """`text` within `limit`, cut at the last paragraph, line or word break in its second half; a text without
    any (one long line, a minified paste) is cut at the limit itself."""
    if len(text) <= limit:
        return text
    for sep in ("\n\n", "\n", " "):
        at = text.rfind(sep, limit // 2, limit)
        if at > 0:
            return text[:at]
    return text[:limit]


def _code(code: str, limit: int = CODE_LIMIT) -> str:
    if len(code) > limit:
        code = _cut(code, limit) + "\n… (cut here; the rest is unchanged)"
    return code


def _bold(text: str, mark: str) -> str:
    return text.replace(BOLD_OPEN, mark).replace(BOLD_CLOSE, mark)


def _section_mrkdwn(section: Section) -> str:
    parts = [f"*{section.title}*"]
    # Slack shows "- " literally; a bullet character reads as a list.
    parts.extend(_bold(_escape("• " + line[2:] if line.startswith("- ") else line), "*") for line in section.lines)
    if section.code is not None:
        parts.append("```\n" + _escape(_code(section.code.code)) + "\n```")
    return "\n".join(parts)


def to_mrkdwn(reply: Reply) -> str:
    chunks = []
    if reply.warning:
        chunks.append(":warning: *" + _escape(reply.warning) + "*")
    chunks.append("*" + _escape(reply.headline) + "*")
    chunks.extend(_section_mrkdwn(s) for s in reply.sections)
    if reply.links:
        chunks.append("*Docs:* " + " · ".join(f"<{link.url}|{_escape(link.text)}>" for link in reply.links))
    text = "\n\n".join(chunks)
    if len(text) > TEXT_LIMIT:
        text = _cut(text, TEXT_LIMIT)
        if text.count("```") % 2:  # cut inside a code block: close it, or the rest of the message is code
            text += "\n```"
        text += "\n\n_(answer cut to fit Slack)_"
    return text


def _split(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split at line breaks outside code fences so every piece stays valid mrkdwn."""
    if len(text) <= limit:
        return [text]
    pieces, current, in_fence = [], "", False
    for line in text.split("\n"):
        candidate = (current + "\n" + line) if current else line
        if len(candidate) > limit - 4 and current:
            pieces.append(current + ("\n```" if in_fence else ""))
            current = ("```\n" if in_fence else "") + line
        else:
            current = candidate
        if line.startswith("```"):
            in_fence = not in_fence
    if current:
        pieces.append(current)
    return [p[:limit] for p in pieces]


def to_blocks(reply: Reply) -> list[dict]:
    """One message's blocks: within 50, cut with a note if the reply is longer."""
    blocks = blocks_uncut(reply)
    if len(blocks) > BLOCK_LIMIT:
        blocks = blocks[: BLOCK_LIMIT - 1] + [
            {"type": "section", "text": {"type": "mrkdwn", "text": "_(answer cut to fit Slack)_"}}
        ]
    return blocks


def blocks_uncut(reply: Reply) -> list[dict]:
    """All blocks of a reply, each within Slack's per-block limits; the Slack app splits them into messages."""
    blocks: list[dict] = []
    if reply.warning:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": ":warning: *" + _escape(reply.warning)[:2900] + "*"}}
        )
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "*" + _escape(reply.headline)[:2900] + "*"}})
    for section in reply.sections:
        for piece in _split(_section_mrkdwn(section)):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": piece}})
    if reply.links:
        elements = [{"type": "mrkdwn", "text": f"<{link.url}|{_escape(link.text)}>"} for link in reply.links[:9]]
        blocks.append({"type": "context", "elements": elements})
    return blocks


def to_text(reply: Reply) -> str:
    out = []
    if reply.warning:
        out.append("!! " + reply.warning)
        out.append("")
    out.append(reply.headline.replace("`", ""))
    for section in reply.sections:
        out.append("")
        out.append(section.title.upper())
        out.extend("  " + _bold(line, "") for line in section.lines)
        if section.code is not None:
            out.extend("    " + line for line in section.code.code.split("\n"))
    if reply.links:
        out.append("")
        out.append("DOCS")
        out.extend(f"  {link.text}: {link.url}" for link in reply.links)
    return "\n".join(out)


def to_json(reply: Reply) -> str:
    return json.dumps(
        {
            "reply": to_mrkdwn(reply),
            "blocks": to_blocks(reply),
            "matches": [
                {"id": m.entry_id, "kind": m.kind, "why": m.why, "score": round(m.score)} for m in reply.matches
            ],
            "findings": [f.rule for f in reply.findings],
            "confidence": reply.confidence,
        },
        ensure_ascii=False,
    )


_CODE_SPAN = re.compile(r"(`[^`\n]*`)")
_LIST_ITEM = re.compile(r"^(?:- |\d+\. )")


def _md(text: str) -> str:
    """Text for GitHub Markdown: `<` and `&` outside code spans escaped, or `<flow-id>` would vanish as an HTML
    tag; code spans kept as written."""
    parts = _CODE_SPAN.split(_bold(text, "**"))
    return "".join(p if i % 2 else p.replace("&", "&amp;").replace("<", "&lt;") for i, p in enumerate(parts))


def _fenced(code: str, lang: str) -> str:
    # A fence longer than any backtick run in the code, so a pasted fence cannot close it early.
    longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{lang}\n{_code(code, GITHUB_CODE_LIMIT)}\n{fence}"


def _section_markdown(section: Section) -> str:
    out = [f"**{_md(section.title)}**"]
    listing = False
    for line in section.lines:
        item = bool(_LIST_ITEM.match(line))
        # Items of one list follow each other; a paragraph, or a list after one, needs a blank line before it.
        out.append(("\n" if item and listing else "\n\n") + _md(line))
        listing = item
    if section.code is not None:
        out.append("\n\n" + _fenced(section.code.code, section.code.lang))
    return "".join(out)


def to_github_markdown(reply: Reply) -> str:
    """The reply as GitHub-flavoured Markdown: the same sections as in Slack, in GitHub's syntax."""
    chunks = []
    if reply.warning:
        chunks.append("> [!WARNING]\n> " + _md(reply.warning))
    chunks.append("### " + _md(reply.headline))
    chunks.extend(_section_markdown(s) for s in reply.sections)
    if reply.links:
        links = (f"[{link.text.replace('[', '(').replace(']', ')')}]({link.url})" for link in reply.links)
        chunks.append("**Docs:** " + " · ".join(links))
    text = "\n\n".join(chunks)
    if len(text) > GITHUB_LIMIT:
        text = _cut(text, GITHUB_LIMIT)
        fence = _open_fence(text)
        if fence:  # cut inside a code block: close it, or the rest of the comment is code
            text += "\n" + fence
        text += "\n\n_(answer cut to fit GitHub)_"
    return text


def _open_fence(text: str) -> str:
    """The fence of a code block `text` leaves open, or ""."""
    fence = ""
    for m in re.finditer(r"^(`{3,})(.*)$", text, re.M):
        if not fence:
            fence = m.group(1)
        elif len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = ""
    return fence
