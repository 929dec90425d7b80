"""Find and parse curl commands: multi-line with `\\`, several per message, `{{template}}` values.

The command ends at the first newline that is neither escaped nor inside a quote, so a JSON body
spread over lines inside `--data '...'` stays part of its command.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from urllib.parse import parse_qsl

from bot.extract.jsonblobs import parse as parse_json
from bot.models import Curl

_START = re.compile(r"(?<![\w/-])curl(?=\s)")
_LABEL = re.compile(r"^\s*(?:step\s*)?(\d{1,2})\s*[.):-]\s*(.*)$", re.IGNORECASE)
MAX_COMMAND = 200_000
MAX_COMMANDS = 50

_VALUE_OPTIONS = {
    "-X": "method",
    "--request": "method",
    "-H": "header",
    "--header": "header",
    "-b": "cookie",
    "--cookie": "cookie",
    "-c": "jar",
    "--cookie-jar": "jar",
    "-d": "data",
    "--data": "data",
    "--data-raw": "data",
    "--data-binary": "data",
    "--data-urlencode": "data",
    "--json": "json",
    "-F": "form",
    "--form": "form",
    "--url": "url",
    "-u": "user",
    "--user": "user",
    "-A": "agent",
    "--user-agent": "agent",
    "-o": "skip",
    "--output": "skip",
    "-e": "skip",
    "--referer": "skip",
    "-w": "skip",
    "--write-out": "skip",
    "--connect-timeout": "skip",
    "-m": "skip",
    "--max-time": "skip",
    "--resolve": "skip",
    "--cacert": "skip",
    "-x": "skip",
    "--proxy": "skip",
}


@dataclass(frozen=True)
class CurlSpan:
    start: int
    end: int
    curl: Curl


def _command_end(text: str, start: int) -> int:
    quote = ""
    i = start
    limit = min(len(text), start + MAX_COMMAND)
    while i < limit:
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"':
                i += 1
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and i + 1 < len(text) and text[i + 1] == "\n":
            i += 1
        elif ch == "\n" or ch == "`":
            # A backtick outside quotes closes Slack inline code around the command.
            return i
        i += 1
    return min(i, len(text))  # an escape as the very last character steps past the end


def _tokens(command: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", command)
    try:
        return shlex.split(joined, posix=True)
    except ValueError:
        # Unbalanced quotes: fall back to whitespace split rather than give up on the command.
        return [t.strip("'\"") for t in joined.split()]


def _body(data: list[str], is_json: bool) -> object:
    if not data:
        return None
    raw = "&".join(data) if not is_json and len(data) > 1 else data[-1]
    stripped = raw.strip()
    if stripped.startswith(("{", "[")):
        parsed = parse_json(stripped)
        if parsed is not None:
            return parsed[0]
        return stripped
    if "=" in stripped and not stripped.startswith("@"):
        return dict(parse_qsl(stripped, keep_blank_values=True))
    return stripped


def parse_command(command: str, label: str = "") -> Curl:
    tokens = _tokens(command)
    method = ""
    url = ""
    headers: list[tuple[str, str]] = []
    cookies: list[str] = []
    data: list[str] = []
    is_json = False
    jar = False
    options: list[tuple[str, ...]] = []
    i = 1
    while i < len(tokens):
        tok = tokens[i]
        opt, value = tok, None
        if tok.startswith("--") and "=" in tok and tok.split("=", 1)[0] in _VALUE_OPTIONS:
            opt, value = tok.split("=", 1)
        elif len(tok) > 2 and tok[:2] in _VALUE_OPTIONS and not tok.startswith("--"):
            opt, value = tok[:2], tok[2:]
        kind = _VALUE_OPTIONS.get(opt)
        if kind is None:
            if tok.startswith("-") and len(tok) > 1:
                options.append((tok,))
            elif not url:
                url = tok
            i += 1
            continue
        if value is None:
            value = tokens[i + 1] if i + 1 < len(tokens) else ""
            i += 2
        else:
            i += 1
        if kind == "method":
            method = value.upper()
        elif kind == "header":
            name, _, hval = value.partition(":")
            if name.strip().lower() == "cookie":
                cookies.append(hval.strip())
            headers.append((name.strip(), hval.strip()))
        elif kind == "cookie":
            if "=" in value or "{{" in value:
                cookies.append(value.strip())
            else:
                jar = True
                options.append((opt, value))
        elif kind in ("data", "json"):
            data.append(value)
            is_json = is_json or kind == "json"
        elif kind == "url":
            url = value
        else:
            jar = jar or kind == "jar"
            options.append((opt, value))
    if not method:
        method = "POST" if data else "GET"
    return Curl(
        label=label,
        method=method,
        url=url,
        headers=tuple(headers),
        cookies=tuple(cookies),
        body=_body(data, is_json),
        raw=command,
        cookie_jar=jar,
        options=tuple(options),
    )


def find_curls(text: str) -> list[CurlSpan]:
    found: list[CurlSpan] = []
    for match in _START.finditer(text):
        if found and match.start() < found[-1].end:
            continue
        if len(found) >= MAX_COMMANDS:
            break
        end = _command_end(text, match.start())
        line_start = text.rfind("\n", 0, match.start()) + 1
        prev_line_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
        label = ""
        own = _LABEL.match(text[line_start : match.start()])
        prev = _LABEL.match(text[prev_line_start : max(prev_line_start, line_start - 1)])
        if own:
            label = own.group(1)
        elif prev and line_start > 0:
            label = prev.group(1)
        found.append(CurlSpan(match.start(), end, parse_command(text[match.start() : end], label)))
    # "1." is often lost when the paste starts right at the first command.
    if len(found) > 1 and not found[0].curl.label and found[1].curl.label == "2":
        first = found[0]
        found[0] = CurlSpan(first.start, first.end, parse_command(first.curl.raw, "1"))
    return found
