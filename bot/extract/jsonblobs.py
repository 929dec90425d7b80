"""Find JSON values inside free text, also when the paste is a fragment or slightly broken.

Users paste `{"error": {...}}`, a bare `"messages": [ ... ]` without the outer braces, schemas with
`// comments` and trailing commas, JavaScript objects, and curl bodies with `{{template}}` values. One
linear pass finds the balanced spans; each span is then parsed strictly, and as JSON5 if that fails.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pyjson5

MAX_SPAN = 2_000_000
# Every pasted document (JSON here, YAML in `classify`) is checked against one budget before anything walks
# it: a real kratos.yml, Helm values file, flow or schema has a few thousand values and about ten levels.
MAX_NODES = 20_000  # values (keys, items, scalars), YAML aliases counted each time they are used
MAX_CHARS = 1_000_000  # characters of all scalars, aliases expanded: what a rewrite would print
MAX_DEPTH = 64


class TooBig(ValueError):
    """A pasted document over the budget: nothing walks it, the reply says it was too large to check."""


@dataclass(frozen=True)
class Unchecked:
    """Stands in for a pasted value that was too large or too deeply nested to parse and check."""

    reason: str


def measure(root: Any, children) -> None:
    """Raise TooBig when the document under `root` is over budget as a tree, however it is shared.

    `children(node)` gives a node's direct children (none for a scalar) and its own character count.
    Shared nodes (YAML aliases) are measured once and counted for every use, so a "billion laughs"
    paste is refused after a few thousand steps instead of being expanded; a node that contains itself
    is refused too. Iterative: a deep document cannot exhaust the Python stack here.
    """
    size: dict[int, tuple[int, int, int]] = {}  # id -> (nodes, chars, depth) of the expanded subtree
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        kids, chars = children(node)
        if done:
            nodes, depth = 1, 0
            for kid in kids:
                n, c, d = size[id(kid)]
                nodes, chars, depth = nodes + n, chars + c, max(depth, d)
            open_.discard(key)
            size[key] = (nodes, chars, depth + 1)
            if nodes > MAX_NODES or chars > MAX_CHARS:
                raise TooBig(f"more than {MAX_NODES:,} values")
            if depth + 1 > MAX_DEPTH:
                raise TooBig(f"more than {MAX_DEPTH} levels deep")
            continue
        if key in size:
            continue
        if key in open_:
            # Only this node's own subtree sits above it on the stack: it contains itself.
            raise TooBig("it contains itself")
        open_.add(key)
        stack.append((node, True))
        stack.extend((kid, False) for kid in kids if id(kid) not in size)


def _value_children(node: Any) -> tuple[list, int]:
    if isinstance(node, dict):
        return list(node.values()), sum(len(str(k)) for k in node)
    if isinstance(node, list | tuple):
        return list(node), 0
    return [], len(node) if isinstance(node, str) else 1


def check_value(value: Any) -> None:
    """Raise TooBig when a parsed value (JSON, or YAML already constructed) is over budget."""
    measure(value, _value_children)


@dataclass(frozen=True)
class JsonBlob:
    start: int
    end: int
    value: Any
    tolerant: bool  # parsed only after repairs


def balanced_spans(text: str) -> list[tuple[int, int]]:
    """Top-level balanced {...} / [...] spans, strings respected, in one pass."""
    return [(start, end) for start, end, deep in _spans(text) if not deep]


def _spans(text: str) -> list[tuple[int, int, bool]]:
    """Balanced spans, each with whether it nests deeper than MAX_DEPTH (such a span is never parsed)."""
    spans: list[tuple[int, int, bool]] = []
    stack: list[tuple[str, int]] = []
    in_string = False
    escaped = False
    pairs = {"}": "{", "]": "["}
    i = 0
    while i < len(text):
        ch = text[i]
        i += 1
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
                # Too deep to parse: skip to where the outermost bracket closes and report the span whole.
                end = _closing(text, i, len(stack) + 1)
                spans.append((stack[0][1], end, True))
                stack.clear()
                i = end
                continue
            stack.append((ch, i - 1))
        elif ch in "}]":
            if stack and stack[-1][0] == pairs[ch]:
                _, start = stack.pop()
                if not stack:
                    spans.append((start, i, False))
            else:
                stack.clear()
    return spans


def _closing(text: str, pos: int, depth: int) -> int:
    """Where `depth` more closing brackets (strings aside) end, from `pos`; the end of the text at most."""
    in_string = escaped = False
    for i in range(pos, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"' or ch == "\n":
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


_BARE_TEMPLATE = re.compile(r"(:\s*)(\{\{\s*[\w.-]+\s*\}\})")
_FAILED = object()


def _json5(text: str) -> Any:
    """JSON5 reads what people paste: `//` comments, trailing commas, unquoted keys, single quotes."""
    try:
        return pyjson5.decode(text)
    except (pyjson5.Json5Exception, RecursionError):
        pass
    # A curl body template (`"flow": {{flow_id}}`) is a string to be filled in.
    quoted = _BARE_TEMPLATE.sub(r'\1"\2"', text)
    if quoted == text:
        return _FAILED
    try:
        return pyjson5.decode(quoted)
    except (pyjson5.Json5Exception, RecursionError):
        return _FAILED


def parse(text: str) -> tuple[Any, bool] | None:
    """Parse one JSON value: strictly, then as JSON5. None when it is neither."""
    if len(text) > MAX_SPAN:
        return None
    try:
        return json.loads(text), False
    except (ValueError, RecursionError):
        pass
    value = _json5(text)
    return None if value is _FAILED else (value, True)


_FRAGMENT_KEY = re.compile(r'"([A-Za-z_][\w.-]{0,60})"\s*:\s*$')


def find_json(text: str) -> list[JsonBlob]:
    """Every top-level JSON object or array in `text` that parses; one over the budget as `Unchecked`.

    A span preceded by `"key":` at top level (a fragment like `"messages": [...]`) is wrapped
    as `{"key": ...}` so later stages see the same shape as a full paste.
    """
    blobs: list[JsonBlob] = []
    for start, end, deep in _spans(text):
        if deep:
            blobs.append(JsonBlob(start, end, Unchecked(f"more than {MAX_DEPTH} levels deep"), False))
            continue
        chunk = text[start:end]
        if len(chunk) < 2 or (chunk[0] == "{" and chunk.startswith("{{") and chunk.endswith("}}")):
            continue  # a {{template}} variable, not JSON
        parsed = parse(chunk)
        if parsed is None:
            continue
        value, tolerant = parsed
        if not isinstance(value, dict | list):
            continue
        try:
            check_value(value)
        except TooBig as e:
            blobs.append(JsonBlob(start, end, Unchecked(str(e)), tolerant))
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
