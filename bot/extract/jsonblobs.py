"""Find JSON values inside free text, also when the paste is a fragment or slightly broken.

Users paste `{"error": {...}}`, a bare `"messages": [ ... ]` without the outer braces, schemas with
`// comments` and trailing commas, and curl bodies with `{{template}}` values. One linear pass finds
the balanced spans; each span is then parsed strictly, and tolerantly if that fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_SPAN = 2_000_000
MAX_DEPTH = 200


@dataclass(frozen=True)
class JsonBlob:
    start: int
    end: int
    value: Any
    tolerant: bool  # parsed only after repairs


def balanced_spans(text: str) -> list[tuple[int, int]]:
    """Top-level balanced {...} / [...] spans, strings respected, in one pass."""
    spans: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    in_string = False
    escaped = False
    pairs = {"}": "{", "]": "["}
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"' or ch == "\n":
                # JSON strings never hold a raw newline: ending there stops one stray quote
                # from swallowing the rest of the paste.
                in_string = False
            continue
        if ch == '"' and stack:
            in_string = True
        elif ch in "{[":
            if len(stack) >= MAX_DEPTH:
                stack.clear()
                continue
            stack.append((ch, i))
        elif ch in "}]":
            if stack and stack[-1][0] == pairs[ch]:
                _, start = stack.pop()
                if not stack:
                    spans.append((start, i + 1))
            else:
                stack.clear()
    return spans


_LINE_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|//[^\n]*')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_BARE_TEMPLATE = re.compile(r"(:\s*)(\{\{\s*[\w.-]+\s*\}\})")


def _repair(text: str) -> str:
    text = _LINE_COMMENT.sub(lambda m: m.group(1) or "", text)
    text = _BARE_TEMPLATE.sub(r'\1"\2"', text)
    return _TRAILING_COMMA.sub(r"\1", text)


def parse(text: str) -> tuple[Any, bool] | None:
    """Parse one JSON value: strictly, then after repairs. None when it is not JSON."""
    if len(text) > MAX_SPAN:
        return None
    try:
        return json.loads(text), False
    except (ValueError, RecursionError):
        pass
    try:
        return json.loads(_repair(text)), True
    except (ValueError, RecursionError):
        return None


_FRAGMENT_KEY = re.compile(r'"([A-Za-z_][\w.-]{0,60})"\s*:\s*$')


def find_json(text: str) -> list[JsonBlob]:
    """Every top-level JSON object or array in `text` that parses.

    A span preceded by `"key":` at top level (a fragment like `"messages": [...]`) is wrapped
    as `{"key": ...}` so later stages see the same shape as a full paste.
    """
    blobs: list[JsonBlob] = []
    for start, end in balanced_spans(text):
        chunk = text[start:end]
        if len(chunk) < 2 or (chunk[0] == "{" and chunk.startswith("{{") and chunk.endswith("}}")):
            continue  # a {{template}} variable, not JSON
        parsed = parse(chunk)
        if parsed is None:
            continue
        value, tolerant = parsed
        if not isinstance(value, dict | list):
            continue
        prefix = _FRAGMENT_KEY.search(text[max(0, start - 80) : start])
        if prefix and not _inside_object(text, start):
            value = {prefix.group(1): value}
            start = start - (len(text[max(0, start - 80) : start]) - prefix.start())
        blobs.append(JsonBlob(start, end, value, tolerant))
    return blobs


def _inside_object(text: str, pos: int) -> bool:
    """True when the fragment key sits inside an open brace on the same logical paste."""
    before = text[max(0, pos - 200) : pos]
    return before.count("{") > before.count("}")
