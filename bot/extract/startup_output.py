"""Kratos' own report of an invalid config, as it prints it at start-up.

Kratos validates its config against the JSON schema of its release and, when that fails, prints one block
per problem and exits:

    The configuration contains values or keys which are invalid:
    serve.admin: map[base_url:http://kratos:4434/ host:0.0.0.0]
                 ^-- additionalProperties "base_url" not allowed

The first line is the JSON pointer (dotted, list items as numbers) and the value Kratos loaded there,
printed the way Go prints maps; the `^--` line says what is wrong. Pastes come through `docker compose`
(`kratos_1  | ` before every line), cut off (`[…]`), or as the `^--` lines alone. This module turns the
block into plain records; the rule `startup-validation` explains them. Go's map syntax is read back into
dicts and lists so a rule can look at the keys under the pointer (the offending key is often one level
down: a hook's `config` rejected because of a key inside it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

HEADER = re.compile(r"(?i)the configuration contains values or keys which are invalid")
# `kratos_1   | `, `kratos-1  | `: the prefix docker compose puts before a container's lines.
_COMPOSE_PREFIX = re.compile(r"^[\w.-]{1,64}\s*\|\s?", re.MULTILINE)
_CARET = re.compile(r"^(\s*)\^--\s*(.+?)\s*$")
_POINTER = re.compile(r"^\s*([A-Za-z_][\w.-]{0,300}|\(root\)|#)?\s*:\s?(.*)$")
_ADDITIONAL = re.compile(r'additionalProperties\s+((?:"[^"]{1,200}"(?:,\s*)?)+)\s+not allowed')
_MISSING_NAMED = re.compile(r"missing propert(?:y|ies):?\s+((?:['\"][^'\"]{1,200}['\"](?:,\s*)?)+)")
_ENUM = re.compile(r'value must be (?:one of )?((?:"[^"]{0,200}"(?:,\s*)?)+)')
_TYPE = re.compile(r"expected (\w+), but got (\w+)")
_QUOTED = re.compile(r"['\"]([^'\"]{1,200})['\"]")
MAX_PROBLEMS = 40
MAX_DEPTH = 40


@dataclass(frozen=True)
class StartupProblem:
    # dotted path as Kratos prints it ("selfservice.flows.login.after.hooks.0"); "" is the root, None: not pasted
    pointer: str | None
    value: Any  # the value there, read back from Go syntax (None for `<nil>`, the raw text if unreadable)
    message: str  # the `^--` text
    kind: str  # additional | missing | enum | type | wrapper | other
    names: tuple[str, ...] = ()  # rejected keys, missing keys or allowed enum values


def _classify(message: str) -> tuple[str, tuple[str, ...]]:
    m = _ADDITIONAL.search(message)
    if m:
        return "additional", tuple(_QUOTED.findall(m.group(1)))
    m = _MISSING_NAMED.search(message)
    if m:
        return "missing", tuple(_QUOTED.findall(m.group(1)))
    if "required properties are missing" in message or "is required" in message:
        return "missing", ()
    m = _ENUM.search(message)
    if m:
        return "enum", tuple(_QUOTED.findall(m.group(1)))
    m = _TYPE.search(message)
    if m:
        return "type", (m.group(1), m.group(2))
    if re.search(r"(?i)validation failed|doesn'?t validate with|(?:any|one|all)Of failed", message):
        return "wrapper", ()
    return "other", ()


def parse(text: str) -> list[StartupProblem]:
    """Every `^--` problem in `text`, with the pointer and value of the line above it when there is one."""
    if "^--" not in text and not HEADER.search(text) and "additionalProperties" not in text:
        return []
    lines = _COMPOSE_PREFIX.sub("", text).splitlines()
    if "^--" not in text:
        return _inline(text) or _pointer_lines(lines)
    out: list[StartupProblem] = []
    for i, line in enumerate(lines):
        caret = _CARET.match(line)
        if caret is None:
            continue
        message = caret.group(2)
        pointer, value = None, None
        above = next((lines[j] for j in range(i - 1, max(-1, i - 3), -1) if lines[j].strip()), "")
        m = _POINTER.match(above) if not _CARET.match(above) else None
        if m and m.group(1) and not HEADER.search(above):
            pointer = "" if m.group(1) in ("(root)", "#") else m.group(1)
            value = go_value(m.group(2))
        kind, names = _classify(message)
        out.append(StartupProblem(pointer, value, message, kind, names))
        if len(out) >= MAX_PROBLEMS:
            break
    return out


_INLINE = re.compile(
    r"(?:([A-Za-z_][\w.-]{0,300}):\s+(map\[.{0,4000}?\]|<nil>|\S{1,200})\s+)?"
    r"(additionalProperties\s+(?:\"[^\"]{1,200}\"(?:,\s*)?)+\s+not allowed)"
)


def _inline(text: str) -> list[StartupProblem]:
    """The report flattened onto one line by a log shipper or a chat: `ptr: map[…] additionalProperties "x"
    not allowed`, or the reason alone."""
    out = []
    for m in _INLINE.finditer(text):
        kind, names = _classify(m.group(3))
        out.append(StartupProblem(m.group(1), go_value(m.group(2) or ""), m.group(3), kind, names))
        if len(out) >= MAX_PROBLEMS:
            break
    return out


def _pointer_lines(lines: list[str]) -> list[StartupProblem]:
    """The report cut before its `^--` lines: the `pointer: map[…]` lines after the header."""
    out = []
    start = next((i for i, line in enumerate(lines) if HEADER.search(line)), None)
    if start is None:
        return out
    for line in lines[start + 1 : start + 1 + MAX_PROBLEMS]:
        m = _POINTER.match(line)
        if m and m.group(1) and m.group(2).lstrip().startswith(("map[", "[", "<nil>")):
            out.append(StartupProblem(m.group(1), go_value(m.group(2)), "", "wrapper"))
    return out


def spans(text: str) -> list[tuple[int, int]]:
    """Where the report stands in `text` (header, pointer lines and `^--` lines), so the config doctor does
    not read `serve.admin: map[…]` as a pasted config."""
    out = []
    for m in _REPORT_LINE.finditer(text):
        start = m.start()
        if "^--" in m.group(0):
            prev = text.rfind("\n", 0, max(0, start - 1))
            start = prev + 1 if prev >= 0 else 0
        out.append((start, m.end()))
    return out


_REPORT_LINE = re.compile(r"(?im)^.*(?:the configuration contains values or keys which are invalid|\^--).*$")


# --- Go's fmt %v of map[string]any, read back ----------------------------------------------------

_KEY = re.compile(r"([\w.$@/-]{1,200}):")


def go_value(raw: str) -> Any:
    """`map[a:1 b:map[c:true]]` → {"a": "1", "b": {"c": "true"}}; `<nil>` → None; anything else as text.
    Scalars stay strings: Go prints `true` and `"true"` alike."""
    raw = raw.strip()
    if raw in ("<nil>", ""):
        return None
    if not raw.startswith(("map[", "[")):
        return raw
    try:
        value, _ = _read(raw, 0, 0)
    except (IndexError, ValueError, RecursionError):
        return raw
    return value


def _read(s: str, i: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise ValueError("too deep")
    if s.startswith("map[", i):
        return _read_map(s, i + 4, depth)
    if s.startswith("[", i):
        return _read_list(s, i + 1, depth)
    return _read_scalar(s, i, in_map=False)


def _read_map(s: str, i: int, depth: int) -> tuple[dict, int]:
    out: dict[str, Any] = {}
    while i < len(s):
        while i < len(s) and s[i] == " ":
            i += 1
        if i >= len(s) or s[i] == "]":
            return out, i + 1
        m = _KEY.match(s, i)
        if m is None:
            raise ValueError("no key")
        key = m.group(1)
        value, i = (
            _read(s, m.end(), depth + 1)
            if s.startswith(("map[", "["), m.end())
            else _read_scalar(s, m.end(), in_map=True)
        )
        out[key] = value
    return out, i  # cut off: what was read so far


def _read_list(s: str, i: int, depth: int) -> tuple[list, int]:
    out: list[Any] = []
    while i < len(s):
        while i < len(s) and s[i] == " ":
            i += 1
        if i >= len(s) or s[i] == "]":
            return out, i + 1
        if s.startswith(("map[", "["), i):
            value, i = _read(s, i, depth + 1)
        else:
            end = i
            while end < len(s) and s[end] not in " ]":
                end += 1
            value, i = s[i:end], end
        out.append(value)
    return out, i


_NEXT_KEY = re.compile(r" [\w.$@/-]{1,200}:(?=\S|$| )")


def _read_scalar(s: str, i: int, in_map: bool) -> tuple[str, int]:
    """Up to the `]` that closes the map or the next ` key:`; values may contain spaces and colons (URLs)."""
    depth = 0
    j = i
    while j < len(s):
        c = s[j]
        if c == "[":
            depth += 1
        elif c == "]":
            if depth == 0:
                break
            depth -= 1
        elif c == " " and depth == 0 and in_map and _NEXT_KEY.match(s, j):
            break
        j += 1
    return s[i:j], j
