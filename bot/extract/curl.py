"""Find and parse curl commands: multi-line with `\\`, several per message, `{{template}}` values.

The command ends at the first newline that is neither escaped nor inside a quote, so a JSON body
spread over lines inside `--data '...'` stays part of its command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote_plus

from bot.extract.jsonblobs import parse as parse_json
from bot.models import Curl

_START = re.compile(r"(?<![\w/-])curl(?=\s)")
_LABEL = re.compile(r"^\s*(?:step\s*)?(\d{1,2})\s*[.):-]\s*(.*)$", re.IGNORECASE)
MAX_COMMAND = 200_000
MAX_COMMANDS = 50

# Every curl option that takes a value (curl's option table, src/tool_getparam.c: all but the switches).
# A value is never the URL, however it looks; `-h`/`--help` reads an optional topic, so it is left out.
_SHORT_VALUE = frozenset("AbcCdDeEFHKmoPQrtTuUwxXyYz")
_LONG_VALUE = frozenset(
    """abstract-unix-socket alt-svc aws-sigv4 cacert capath cert cert-type ciphers config connect-timeout
    connect-to continue-at cookie cookie-jar create-file-mode crlfile curves data data-ascii data-binary data-raw
    data-urlencode delegation dns-interface dns-ipv4-addr dns-ipv6-addr dns-servers doh-url dump-header ech
    egd-file engine etag-compare etag-save expect100-timeout form form-string ftp-account ftp-alternative-to-user
    ftp-method ftp-port ftp-ssl-ccc-mode happy-eyeballs-timeout-ms haproxy-clientip header hostpubmd5
    hostpubsha256 hsts httpsig-algo httpsig-headers httpsig-key httpsig-keyid interface ip-tos ipfs-gateway json
    keepalive-cnt keepalive-time key key-type knownhosts krb krb4 libcurl limit-rate local-port login-options
    mail-auth mail-from mail-rcpt max-filesize max-redirs max-time netrc-file noproxy oauth2-bearer output
    output-dir parallel-max parallel-max-host pass pinnedpubkey preproxy proto proto-default proto-redir proxy
    proxy-cacert proxy-capath proxy-cert proxy-cert-type proxy-ciphers proxy-crlfile proxy-header proxy-key
    proxy-key-type proxy-pass proxy-pinnedpubkey proxy-service-name proxy-tls13-ciphers proxy-tlsauthtype
    proxy-tlspassword proxy-tlsuser proxy-user proxy1.0 pubkey quote random-file range rate referer request
    request-target resolve retry retry-delay retry-max-time sasl-authzid service-name sigalgs socks4 socks4a
    socks5 socks5-gssapi-service socks5-hostname speed-limit speed-time ssl-sessions stderr telnet-option
    tftp-blksize time-cond tls-max tls13-ciphers tlsauthtype tlspassword tlsuser trace trace-ascii trace-config
    unix-socket upload-file upload-flags url url-query user user-agent variable vlan-priority write-out""".split()
)
# The options whose value becomes part of the parsed request; every other option is kept as typed.
_KINDS = {
    "X": "method",
    "request": "method",
    "H": "header",
    "header": "header",
    "b": "cookie",
    "cookie": "cookie",
    "c": "jar",
    "cookie-jar": "jar",
    "d": "data",
    "data": "data",
    "data-ascii": "data",
    "data-raw": "data",
    "data-binary": "data",
    "data-urlencode": "urlencode",
    "json": "json",
    "url": "url",
    "url-query": "query",
    "G": "get",
    "get": "get",
    "oauth2-bearer": "bearer",
}
# Options that choose the method when -X does not (a multipart form, an upload, headers only).
_IMPLIED_METHOD = {
    "F": "POST",
    "form": "POST",
    "form-string": "POST",
    "T": "PUT",
    "upload-file": "PUT",
    "I": "HEAD",
    "head": "HEAD",
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


def _options(tokens: list[str]) -> Iterator[tuple[str, str, str | None]]:
    """(option, its name, its value or None) in order, ("", "", argument) for the URL and other arguments.
    As curl reads them: switches bundle (`-sSL`), and the last of a bundle may take a value (`-sSLX POST`,
    `-XPOST`); `--name=value` works too, and `--` ends the options."""
    i, options_end = 0, False
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if options_end or not tok.startswith("-") or tok == "-":
            yield "", "", tok
        elif tok == "--":
            options_end = True
        elif tok.startswith("--"):
            name, eq, value = tok[2:].partition("=")
            if name not in _LONG_VALUE:
                yield tok, tok[2:], None
                continue
            if not eq:
                value, i = (tokens[i] if i < len(tokens) else ""), i + 1
            yield "--" + name, name, value
        else:
            for j, letter in enumerate(tok[1:], 2):
                if letter not in _SHORT_VALUE:
                    yield "-" + letter, letter, None
                    continue
                value = tok[j:]
                if not value:
                    value, i = (tokens[i] if i < len(tokens) else ""), i + 1
                yield "-" + letter, letter, value
                break


@dataclass
class _Parts:
    """A command's request as its options build it up."""

    method: str = ""
    url: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    is_json: bool = False
    jar: bool = False
    get: bool = False
    implied: str = ""  # the method an option implies
    query: list[str] = field(default_factory=list)
    options: list[tuple[str, ...]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def add(self, flag: str, name: str, value: str | None) -> None:
        if not flag:
            self.url = self.url or value or ""
            return
        kind = _KINDS.get(name)
        self.implied = _IMPLIED_METHOD.get(name, self.implied)
        if kind == "get":
            self.get = True
        elif value is None or kind is None:
            self.options.append((flag,) if value is None else (flag, value))
        elif kind == "method":
            self.method = value.upper()
        elif kind == "header" and value.startswith("@"):
            # curl reads headers from that file: which ones, we cannot know.
            self.unknown.append("headers")
            self.options.append((flag, value))
        elif kind == "header":
            key, _, hval = value.partition(":")
            if key.strip().lower() == "cookie":
                self.cookies.append(hval.strip())
            self.headers.append((key.strip(), hval.strip()))
        elif kind == "cookie" and ("=" in value or "{{" in value):
            self.cookies.append(value.strip())
        elif kind in ("cookie", "jar"):
            self.jar = True
            self.options.append((flag, value))
        elif kind in ("data", "json"):
            self.data.append(value)
            self.is_json = self.is_json or kind == "json"
        elif kind == "urlencode":
            self.data.append(_urlencoded(value))
        elif kind == "query":
            self.query.append(value[1:] if value.startswith("+") else _urlencoded(value))
        elif kind == "url":
            self.url = value
        elif kind == "bearer":
            # Sent as this header, and masked as one (bot.extract.masking).
            self.headers.append(("Authorization", f"Bearer {value}"))

    def request(self) -> tuple[str, str, list[str]]:
        """Method, URL and body data: with -G the data goes into the URL's query, as --url-query's does."""
        data = [] if self.get else self.data
        query = [*(self.data if self.get else ()), *self.query]
        url = self.url
        if query:
            base, hash_, fragment = url.partition("#")
            url = base + ("&" if "?" in base else "?") + "&".join(query) + hash_ + fragment
        return self.method or self.implied or ("POST" if data else "GET"), url, data

    def sent_headers(self) -> tuple[tuple[str, str], ...]:
        """The headers as sent: --json adds JSON's Content-Type and Accept unless the user set them."""
        headers = list(self.headers)
        if self.is_json:
            typed = {key.lower() for key, _ in headers}
            headers += [(key, "application/json") for key in ("Content-Type", "Accept") if key.lower() not in typed]
        return tuple(headers)


def _urlencoded(value: str) -> str:
    """What curl sends for `--data-urlencode` / `--url-query`: `name=content` with the content encoded, or
    `name@file` (read from a file we cannot see, so left as written)."""
    name, eq, content = value.partition("=")
    if not eq:
        if "@" in value:
            return value
        name, content = "", value
    # Templates and shell variables stand for a value the user fills in: kept readable, not encoded.
    encoded = quote_plus(content, safe="{}$")
    return f"{name}={encoded}" if name else encoded


def parse_command(command: str, label: str = "") -> Curl:
    parts = _Parts()
    for flag, name, value in _options(_tokens(command)[1:]):
        parts.add(flag, name, value)
    method, url, data = parts.request()
    return Curl(
        label=label,
        method=method,
        url=url,
        headers=parts.sent_headers(),
        cookies=tuple(parts.cookies),
        body=_body(data, parts.is_json),
        raw=command,
        cookie_jar=parts.jar,
        options=tuple(parts.options),
        unknown=tuple(dict.fromkeys(parts.unknown)),
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
