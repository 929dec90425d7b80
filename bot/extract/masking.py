"""Mask secrets by where they stand in an artifact, not by what they look like.

Text patterns (`bot.extract.secrets`) miss a password of eight letters, a cookie secret under
`secrets.cookie` or a key inside a webhook's `auth.config`: none of them looks like a secret. The parsed
artifact says what they are. Every artifact is masked here, right after extraction, so analysis,
corrections, the reply and the stored thread only ever see masked values; the text scrub stays behind it
as the last line.

What is secret:
- a config: everything under `secrets`, keys named like a credential (`*password`, `*client_secret`,
  `*private_key`, `*api_key`, `*token`, `authorization*`), `auth.config.value`, the values of a `headers`
  map, a TLS key given inline, a `jwks_url` given as `base64://`;
- a request: credential headers (Authorization of any scheme, Cookie values, `X-Session-Token`, `*key`,
  `*secret`), body fields named like a credential, a backup code (`lookup_secret`), the password of curl's
  `-u user:password` and of its other credential options;
- any string anywhere: a URL's user-info password and credential query parameters, a PEM private key.

Masking keeps what rules read: the type (a string stays a string, a list a list), a DSN's scheme and host,
a password hash's algorithm prefix, a token's first characters where that is safe.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from bot.extract.secrets import SecretHit, is_placeholder, scrub
from bot.models import Artifact, Curl, Flow, KratosConfig, KratosError, UiMessage, Url

MAX_NODES = 20_000  # distinct nodes masked per document; the rest of a bigger one is dropped
MAX_DEPTH = 64

# A key whose value is a credential wherever it appears: the last word of the name decides.
_SECRET_NAME = re.compile(
    r"(?i)^(?:.*[_-])?(?:password|passwd|pwd|secret|client[_-]?secret|token|api[_-]?key|apikey|private[_-]?key|"
    r"authorization(?:[_-]header)?|pepper|signing[_-]?key|encryption[_-]?key)$"
)
# A backup code works until it is used. A `code` or `totp_code` is shown: it expires within minutes (TOTP:
# seconds), and the corrected request moves it between those two fields, which the user has to see.
_CODE_FIELDS = {"lookup_secret"}
# Header values that say how, not who: kept in a `headers` map so the rest of the reply stays readable.
_PLAIN_HEADERS = {
    "accept",
    "accept-language",
    "content-type",
    "content-language",
    "user-agent",
    "from",
    "reply-to",
    "x-priority",
    "x-mailer",
    "origin",
    "referer",
    "cache-control",
}
_COOKIE_ATTRS = {"path", "domain", "expires", "max-age", "samesite", "httponly", "secure", "partitioned"}
# `scheme://user:password@host`: the password may hold `/`, `{}` or `@`; the last `@` before a host ends it.
_SCHEME = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://")
_HOSTLIKE = re.compile(r"[\w\[][\w.\-\[\]:%]*(?:[/?#,;]|$)|(?:tcp|unix)\(")
_NOT_USERINFO = re.compile(r"[/?#]")
_PORT = re.compile(r"\d{1,5}(?:[/?#]|$)")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;]|^|\s)((?:[\w-]*[_-])?(?:password|pwd|secret|token|api_?key|code|sslpassword))=([^&#\s'\"]+)"
)
_PEM = re.compile(r"(-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----)(.{1,16384}?)(-----END)", re.DOTALL)
# The algorithm part of a password hash (hash/hash_comparator.go), kept so the import rule still sees a hash.
_HASH_PREFIX = re.compile(
    r"^(?:\$(?:2[abxyz]?|argon2id|argon2i|pbkdf2-sha\d{1,3}|scrypt|sha(?:1|256|512)|sha(?:256|512)-crypt|md5|"
    r"md5-crypt|hmac-\w{1,20}|firescrypt|1|5|6)\$(?:\d{1,3}\$|[\w=,.-]{1,60}\$)?|\{SSHA(?:256|512)?\})"
)
# curl options whose value curl itself wipes from its command line (ARG_CLEAR in curl's option table):
# `user:password` for the first group, a password for the second.
_USER_PASSWORD_OPTIONS = {"-u", "--user", "-U", "--proxy-user", "-E", "--cert", "--proxy-cert"}
_PASSWORD_OPTIONS = {"--pass", "--proxy-pass", "--tlspassword", "--proxy-tlspassword"}
# The scheme word stays readable (rules tell `Bearer` from `session` or `Token`); only the credential is hidden.
_AUTH = re.compile(r"^(\s*)(?:([A-Za-z][A-Za-z-]{0,19})(\s+))?(.*)$", re.DOTALL)


class _Masker:
    """Masks one message's artifacts and collects what it hid, once per value."""

    def __init__(self, found: Sequence[SecretHit] = ()) -> None:
        self.hits: list[SecretHit] = []
        self._seen: set[str] = set()
        self.budget = MAX_NODES
        self.found = found  # what the text patterns found in the whole message

    def hide(self, value: str, kind: str, name: str) -> str:
        """The masked form of `value`, recorded as a secret (a placeholder is returned as it is)."""
        if not value or is_placeholder(value):
            return value
        hit = SecretHit(kind=kind, name=name, value=value)
        if value not in self._seen:
            self._seen.add(value)
            self.hits.append(hit)
        return hit.masked

    def scalar(self, value: Any, kind: str, name: str) -> Any:
        """A secret scalar masked; a number becomes a string so its digits are not shown either."""
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str):
            return value
        if kind == "password":
            prefix = _HASH_PREFIX.match(value)
            if prefix and len(value) > prefix.end():
                # An imported hash: rules read its algorithm (`$2a$12$`), not the hash itself.
                return prefix.group(0) + self.hide(value[prefix.end() :], kind, name)
        if value.startswith("base64://"):
            return "base64://" + self.hide(value[len("base64://") :], kind, name)
        if "-----BEGIN" in value:
            value = self.text(value, name)
            if "-----BEGIN" in value:
                return value
        return self.hide(value, kind, name)

    def text(self, value: str, name: str = "") -> str:
        """Secrets inside a free string: URL passwords, credential query parameters, private keys."""
        if "://" in value:
            value = self._userinfo(value, name)
        if "=" in value:
            value = _QUERY_SECRET.sub(
                lambda m: m.group(1) + m.group(2) + "=" + self.hide(m.group(3), _kind(m.group(2)), m.group(2)),
                value,
            )
        if "PRIVATE KEY" in value:
            value = _PEM.sub(lambda m: m.group(1) + self.hide(m.group(2), "private_key", name) + m.group(3), value)
        return value

    def _userinfo(self, value: str, name: str) -> str:
        out, pos = [], 0
        for m in _SCHEME.finditer(value):
            if m.start() < pos:
                continue
            end = len(value)
            for stop in (" ", "\n", "\t", "'", '"'):
                found = value.find(stop, m.end())
                if found != -1:
                    end = min(end, found)
            token = value[m.end() : end]
            at = token.rfind("@")
            while at > 0 and not _HOSTLIKE.match(token, at + 1):
                at = token.rfind("@", 0, at)
            colon = token.find(":", 0, at) if at > 0 else -1
            if colon == -1 or colon + 1 >= at or _NOT_USERINFO.search(token, 0, colon):
                continue
            if _PORT.match(token, colon + 1):
                continue  # `host:4433/path?email=a@b.c`: a port, and an `@` further on
            start = m.end() + colon + 1
            out.append(value[pos:start])
            out.append(self.hide(value[start : m.end() + at], "password", name or "url password"))
            pos = m.end() + at
        out.append(value[pos:])
        return "".join(out)

    # --- documents: a config, a request body -------------------------------------------------------

    def document(self, node: Any, path: tuple[str, ...], in_secret: bool, request: bool, memo: dict) -> Any:
        """A masked copy of `node`. Shared nodes (YAML anchors) are masked once per context, so a document
        whose aliases expand to millions of nodes costs only its distinct ones."""
        if isinstance(node, str):
            if in_secret:
                return self.scalar(node, _kind(path[-1] if path else "", request), _dotted(path))
            return self.text(node, _dotted(path))
        if isinstance(node, int | float) and not isinstance(node, bool):
            return self.scalar(node, "config_secret", _dotted(path)) if in_secret else node
        if not isinstance(node, dict | list):
            return node
        key = (id(node), in_secret, path[-2:])
        if key in memo:
            return memo[key]
        self.budget -= 1
        if self.budget < 0 or len(path) > MAX_DEPTH:
            # Too big to check every value: drop the rest rather than keep anything unmasked.
            memo[key] = None
            return None
        if isinstance(node, list):
            out_list: list = []
            memo[key] = out_list
            for item in node:
                out_list.append(self.document(item, path + ("[]",), in_secret, request, memo))
            return out_list
        out: dict = {}
        memo[key] = out
        for k, value in node.items():
            here = path + (str(k),)
            secret = in_secret or _is_secret(here, value, request)
            out[k] = self.document(value, here, secret, request, memo)
        return out

    def pairs(self, pairs: tuple[tuple[str, str], ...], where: str) -> tuple[tuple[str, str], ...]:
        """An error's `details` or a UI message's `context`, as (key, value) strings."""
        return tuple(
            (k, self.hide(v, _kind(k), f"{where}.{k}") if _SECRET_NAME.match(k) else self.text(v, f"{where}.{k}"))
            for k, v in pairs
        )

    # --- requests -----------------------------------------------------------------------------------

    def header(self, name: str, value: str) -> str:
        low = name.lower()
        if low == "cookie":
            return self.cookie(value)
        if low in ("authorization", "proxy-authorization"):
            m = _AUTH.match(value)
            assert m is not None  # the pattern matches any string
            scheme = (m.group(2) or "").lower()
            kind = "password" if scheme == "basic" else "bearer"
            return m.group(1) + (m.group(2) or "") + (m.group(3) or "") + self.hide(m.group(4), kind, name)
        if _SECRET_NAME.match(low):
            return self.hide(value, _kind(low.replace("-", "_"), True), name)
        return self.text(value, name)

    def cookie(self, value: str) -> str:
        def one(m: re.Match[str]) -> str:
            name, raw = m.group(2), m.group(3)
            if name.lower() in _COOKIE_ATTRS or len(raw) < 8:
                return m.group(0)
            kind = "session_cookie" if name.startswith("ory_") else "csrf_cookie" if "csrf" in name else "cookie"
            return m.group(1) + name + "=" + self.hide(raw, kind, name)

        return re.sub(r"(^|;\s*|\s)([^=;\s]{1,200})=([^;\s]*)", one, value)

    def curl(self, curl: Curl) -> Curl:
        headers = tuple((k, self.header(k, v)) for k, v in curl.headers)
        cookies = tuple(self.cookie(c) for c in curl.cookies)
        url = self.text(curl.url)
        body = curl.body
        if isinstance(body, dict | list):
            body = self.document(body, (), False, True, {})
        elif isinstance(body, str):
            body = self.text(scrub(body, self.found), "body")
        options = tuple((flag, *(self.option(flag, v) for v in values)) for flag, *values in curl.options)
        # The raw command is masked in mask_artifacts, once every value of the message is known.
        return dataclasses.replace(curl, headers=headers, cookies=cookies, url=url, body=body, options=options)

    def option(self, flag: str, value: str) -> str:
        if flag in _PASSWORD_OPTIONS:
            return self.hide(value, "password", flag)
        if flag in _USER_PASSWORD_OPTIONS and ":" in value:
            user, _, password = value.partition(":")
            return f"{user}:{self.hide(password, 'password', flag)}"
        return self.text(scrub(value, self.found), flag)


_BARE_MASK = re.compile(r"(?m)((?::|^\s*-)[ \t]+)(\*\*\*\*)(?=[ \t]*(?:#|$))")


def _mask_raw(raw: str, hits: list[SecretHit]) -> str:
    """Text as typed, with every value found in its parsed parts masked wherever it stands (`hits` longest
    first)."""
    for hit in hits:
        if hit.value in raw:
            raw = re.sub(r"(?<![A-Za-z0-9])" + re.escape(hit.value) + r"(?![A-Za-z0-9])", hit.masked, raw)
    return raw


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path).replace(".[]", "[]").removesuffix("[]")


def _kind(name: str, request: bool = False) -> str:
    low = name.lower()
    if "password" in low or "passwd" in low or low.endswith("pwd"):
        return "password"
    if request and low in _CODE_FIELDS:
        return "one_time_code"
    if request and "csrf" in low:
        return "csrf_token"
    if request and "session_token" in low:
        return "session_token"
    if request and ("api_key" in low or "apikey" in low):
        return "api_key"
    if request and low.endswith("token"):
        return "access_token"
    return "config_secret"


def _is_secret(path: tuple[str, ...], value: Any, request: bool) -> bool:
    """Whether the value at `path` is a credential; a whole subtree is when its root is."""
    name = path[-1].lower()
    parents = [p.lower() for p in path[:-1] if p != "[]"]
    if not request and len(path) == 1 and name == "secrets":
        return True
    if parents and parents[-1] == "headers":
        return name not in _PLAIN_HEADERS
    if isinstance(value, dict):
        # A block named like a credential holds settings: `selfservice.methods.lookup_secret.enabled`.
        return False
    if (request and name in _CODE_FIELDS) or _SECRET_NAME.match(name):
        return True
    if request and isinstance(value, str) and ("password" in name or "passwd" in name):
        return True  # `password_confirm`, `passwordRepeat`; config names like that are settings
    if name == "value" and parents[-2:] == ["auth", "config"]:
        return True  # a web hook's or the HTTP courier's API key
    if name == "base64" and parents and parents[-1] == "key":
        return True  # serve.*.tls.key.base64: the TLS private key itself
    return "jwks" in name and isinstance(value, str) and value.startswith("base64://")


def mask_artifacts(
    artifacts: list[Artifact], found: Sequence[SecretHit] = ()
) -> tuple[list[Artifact], list[SecretHit]]:
    """Every artifact with its secrets masked, and the secrets it hid (raw values: never stored, never shown).
    `found` is what the text patterns found in the whole message; it is masked in free text as well."""
    masker = _Masker(found)
    out: list[Artifact] = []
    for artifact in artifacts:
        if isinstance(artifact, KratosConfig):
            config = masker.document(artifact.config, (), False, False, {})
            artifact = dataclasses.replace(artifact, config=config if isinstance(config, dict) else {})
        elif isinstance(artifact, Curl):
            artifact = masker.curl(artifact)
        elif isinstance(artifact, Url):
            artifact = dataclasses.replace(artifact, url=masker.text(artifact.url, "url"))
        elif isinstance(artifact, Flow) and artifact.action:
            artifact = dataclasses.replace(artifact, action=masker.text(artifact.action, "ui.action"))
        elif isinstance(artifact, KratosError):
            redirect = artifact.redirect_browser_to and masker.text(artifact.redirect_browser_to)
            artifact = dataclasses.replace(
                artifact, redirect_browser_to=redirect, details=masker.pairs(artifact.details, "details")
            )
        elif isinstance(artifact, UiMessage) and artifact.context:
            artifact = dataclasses.replace(artifact, context=masker.pairs(artifact.context, "context"))
        out.append(artifact)
    if any(isinstance(a, Curl) or (isinstance(a, KratosConfig) and a.pasted) for a in out):
        # As typed (a command, a config with its comments): every value found anywhere is masked wherever it stands.
        every = sorted([*found, *masker.hits], key=lambda h: len(h.value), reverse=True)
        out = [_mask_typed(a, found, every) for a in out]
    return out, masker.hits


def _mask_typed(artifact: Artifact, found: Sequence[SecretHit], every: list[SecretHit]) -> Artifact:
    if isinstance(artifact, Curl):
        return dataclasses.replace(
            artifact,
            raw=_mask_raw(scrub(artifact.raw, found), every),
            options=tuple(tuple(_mask_raw(v, every) for v in option) for option in artifact.options),
        )
    if isinstance(artifact, KratosConfig) and artifact.pasted:
        pasted = _mask_raw(scrub(artifact.pasted, found), every)
        # A value masked whole would read as a YAML alias (`*…`): quoted, the text stays the same YAML.
        return dataclasses.replace(artifact, pasted=_BARE_MASK.sub(r"\1'\2'", pasted))
    return artifact


__all__ = ["mask_artifacts"]
