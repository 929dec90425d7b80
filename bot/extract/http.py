"""Requests pasted as raw HTTP (`POST /self-service/login?flow=… HTTP/1.1` + headers + body) or as
simple browser code (`fetch(url, {...})`, `axios.post(url, body, {...})`), turned into the same Curl
value the curl parser makes, so every request rule applies to them too."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract.jsonblobs import balanced_spans
from bot.extract.jsonblobs import parse as parse_json
from bot.models import Curl

# The target is a path (`GET /sessions/whoami HTTP/1.1` + Host) or, as REST-client `.http` files and proxies
# write it, an absolute URL.
_REQUEST_LINE = re.compile(
    r"^(GET|POST|PUT|PATCH|DELETE) (/\S{0,2000}|https?://\S{1,2000}) HTTP/\d(?:\.\d)?[ \t]*$", re.MULTILINE
)
_HEADER = re.compile(r"^([A-Za-z][A-Za-z0-9-]{0,60}):[ \t]*(.*)$")
_FETCH = re.compile(r"\bfetch\(\s*([`'\"])(.{1,2000}?)\1\s*(?:,|\))")
_AXIOS = re.compile(r"\baxios(?:\.(get|post|put|patch|delete))?\(\s*([`'\"])(.{1,2000}?)\2")
MAX_REQUESTS = 20


@dataclass(frozen=True)
class RequestSpan:
    start: int
    end: int
    curl: Curl


def find_raw_http(text: str) -> list[RequestSpan]:
    out: list[RequestSpan] = []
    for m in _REQUEST_LINE.finditer(text):
        if len(out) >= MAX_REQUESTS:
            break
        pos = m.end() + 1
        headers: list[tuple[str, str]] = []
        while pos < len(text):
            nxt = text.find("\n", pos)
            line = text[pos : nxt if nxt != -1 else len(text)]
            hm = _HEADER.match(line)
            if not hm:
                break
            headers.append((hm.group(1), hm.group(2).strip()))
            pos = (nxt + 1) if nxt != -1 else len(text)
        host = next((v for k, v in headers if k.lower() == "host"), "<kratos-host>")
        body: object = None
        end = pos
        rest = text[pos : pos + 200_000].lstrip("\n")
        if rest.startswith(("{", "[")):
            spans = balanced_spans(rest)
            if spans:
                parsed = parse_json(rest[: spans[0][1]])
                body = parsed[0] if parsed else rest[: spans[0][1]]
                end = pos + (len(text[pos : pos + 200_000]) - len(rest)) + spans[0][1]
        cookies = tuple(v for k, v in headers if k.lower() == "cookie")
        curl = Curl(
            label="",
            method=m.group(1),
            url=m.group(2) if m.group(2).startswith("http") else f"http://{host}{m.group(2)}",
            headers=tuple(headers),
            cookies=cookies,
            body=body,
            raw=text[m.start() : end],
            client="http",
        )
        out.append(RequestSpan(m.start(), end, curl))
    return out


def _js_object(text: str) -> object:
    """A small JS object literal (bare keys, single quotes) as a value. None if it is not one."""
    parsed = parse_json(text)
    return parsed[0] if parsed else None


def _options_after(text: str, pos: int) -> tuple[str, int]:
    """The `{...}` options object that follows position `pos` (same call), and where it ends."""
    brace = text.find("{", pos, pos + 400)
    if brace == -1:
        return "", pos
    spans = balanced_spans(text[brace : brace + 20_000])
    if not spans:
        return "", pos
    return text[brace : brace + spans[0][1]], brace + spans[0][1]


def find_js_requests(text: str) -> list[RequestSpan]:
    out: list[RequestSpan] = []
    for m in _FETCH.finditer(text):
        options, end = _options_after(text, m.end() - 1) if text[m.end() - 1] == "," else ("", m.end())
        method = re.search(r"""method\s*:\s*['"`](\w+)""", options)
        credentials = re.search(r"""credentials\s*:\s*['"`](\w[\w-]*)""", options)
        body_m = re.search(r"JSON\.stringify\(\s*(\{.*?\})\s*\)", options, re.DOTALL)
        body = _js_object(body_m.group(1)) if body_m else None
        curl = Curl(
            label="",
            method=(method.group(1) if method else "GET").upper(),
            url=m.group(2),
            headers=(),
            cookies=(),
            body=body,
            raw=text[m.start() : end],
            client="fetch",
            credentials=bool(credentials and credentials.group(1) == "include"),
        )
        out.append(RequestSpan(m.start(), end, curl))
    for m in _AXIOS.finditer(text):
        options, end = _options_after(text, m.end())
        body = None
        if m.group(1) in ("post", "put", "patch"):
            body = _js_object(options) if options.strip().startswith("{") else None
        creds = re.search(r"withCredentials\s*:\s*true", text[m.start() : m.start() + 2000])
        curl = Curl(
            label="",
            method=(m.group(1) or "get").upper(),
            url=m.group(3),
            headers=(),
            cookies=(),
            body=body,
            raw=text[m.start() : end],
            client="axios",
            credentials=bool(creds),
        )
        out.append(RequestSpan(m.start(), end, curl))
    return out[:MAX_REQUESTS]
