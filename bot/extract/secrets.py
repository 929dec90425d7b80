"""Find live credentials in a paste so the reply can mask them and tell the user to revoke them.

Template variables (`{{sessionCookie}}`) and obvious placeholders are not secrets. Patterns are
anchored on a fixed prefix and use bounded character classes, so they run in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENV_NAME = r"[A-Z0-9_]{0,100}(?:SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|PRIVATE_KEY)[A-Z0-9_]{0,100}"
_VALUE = r"([^\s'\"]{4,4096})"

# (kind, pattern, group holding the secret value, group holding a name or None)
_PATTERNS: tuple[tuple[str, re.Pattern[str], int, int | None], ...] = (
    ("session_cookie", re.compile(r"\b(ory_kratos_session|ory_session_[A-Za-z0-9_]{1,80})=([^;\s'\"]{8,8192})"), 2, 1),
    ("csrf_cookie", re.compile(r"\b(csrf_token_[A-Fa-f0-9]{8,128})=([^;\s'\"]{8,1024})"), 2, 1),
    ("session_token", re.compile(r"\b(ory_st_[A-Za-z0-9_-]{8,512})"), 1, None),
    ("access_token", re.compile(r"\b(ory_at_[A-Za-z0-9_.-]{8,2048})"), 1, None),
    ("refresh_token", re.compile(r"\b(ory_rt_[A-Za-z0-9_.-]{8,2048})"), 1, None),
    ("api_key", re.compile(r"\b(ory_(?:pat|apikey|ak)_[A-Za-z0-9_-]{8,512})"), 1, None),
    # Header names as typed in curl (`-H 'Authorization: Bearer …'`) or in JS (`'Authorization': 'Bearer …'`).
    ("session_token", re.compile(r"(?i)\b(x-session-token)['\"]?\s*:\s*['\"]?([^\s'\"{}]{6,4096})"), 2, 1),
    ("bearer", re.compile(r"(?i)\b(authorization)['\"]?\s*:\s*['\"]?bearer\s+([^\s'\"{}]{6,8192})"), 2, 1),
    ("bearer", re.compile(r"(?i)\b(bearer)\s+([A-Za-z0-9_.~+/-]{16,8192}=*)"), 2, 1),
    # curl's option for the same header: `--oauth2-bearer TOKEN`, `--oauth2-bearer=TOKEN`.
    ("bearer", re.compile(r"--(oauth2-bearer)[= ][ \t]{0,8}['\"]?([^\s'\"{}]{6,8192})"), 2, 1),
    ("session_token", re.compile(r'"(session_token)"\s*:\s*"([^"{}\s]{8,4096})"'), 2, 1),
    ("password", re.compile(r'"((?:new_)?password)"\s*:\s*"([^"\n]{1,512})"'), 2, 1),
    # The same JSON pasted as a string literal: `{\"password\":\"…\"}`.
    ("password", re.compile(r'\\"((?:new_)?password)\\"\s*:\s*\\"((?:[^"\\\n]|\\(?!"))' r"{1,512})\\\""), 2, 1),
    # `password: value` on one line (YAML, env, prose, a form body); a YAML key that opens a block is not a value.
    ("password", re.compile(r"(?i)\b(password)[ \t]*[:=][ \t]*(?!\{\{)([^\s'\",;:&]{4,512})(?=[\s'\",;&]|$)"), 2, 1),
    # URL user-info, `redis://:pw@host` too; a password may hold `/` or `{}`, a port followed by a path may not.
    (
        "password",
        re.compile(
            r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"]{0,256}:(?!\d{1,5}(?:[/?#]|$))([^\s@'\"]{1,256})@(?=[\w\[])"
        ),
        1,
        None,
    ),
    ("password", re.compile(r"(?i)\b(authorization)['\"]?\s*:\s*['\"]?basic\s+([A-Za-z0-9+/=]{4,4096})"), 2, 1),
    # A Kubernetes env list: `- name: SMTP_PASSWORD` / `value: …`.
    ("config_secret", re.compile(r"name:[ \t]*(" + _ENV_NAME + r")[ \t]*\n[ \t]*value:[ \t]*['\"]?" + _VALUE), 2, 1),
    ("csrf_token", re.compile(r'"(csrf_token)"\s*:\s*"([^"{}\s]{16,1024})"'), 2, 1),
    ("jwt", re.compile(r"\b(eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096})"), 1, None),
)
# Keys and environment variables whose name says secret (`client_secret: …`, `"api_key": "…"`, `SMTP_PASSWORD=…`,
# `SECRETS_COOKIE=…`). The pattern starts at the telling word, which is rare, and the rest of the name is read
# backwards from there: a pattern that started at every word would cost a scan of each.
# (pattern, group holding the value, characters a name is made of)
_KEYED: tuple[tuple[re.Pattern[str], int, str], ...] = (
    (
        re.compile(
            r"(?i)(?:client[-_]?secret|private[-_]?key|api[-_]?key|secret|(?:access|refresh|auth)[-_]token)"
            r"['\"]?[ \t]*:[ \t]*['\"]?([^\s'\",}{]{6,4096})"
        ),
        1,
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-",
    ),
    (
        re.compile(
            r"(?:SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|PRIVATE_KEY)[A-Z0-9_]{0,100}"
            r"[ \t]*[=:][ \t]*['\"]?" + _VALUE
        ),
        1,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    ),
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:\.{3}|x{3,}|\*{3,}|<[^>]*>|\$\{?\w+\}?|your[-_ ]?\w*|changeme|secret|password|example|string"
    r"|redacted|true|false|null|none|\{\{.*)$"
)
# Live cookies and tokens are to be revoked; a password or CSRF token is masked but not "live".
LIVE_KINDS = {"session_cookie", "session_token", "access_token", "refresh_token", "api_key", "bearer", "jwt"}
# Config secrets, keys and one-time codes are hidden whole: a prefix of them helps nobody tell them apart.
WHOLE_KINDS = {"password", "config_secret", "private_key", "one_time_code"}
# A private key's body: each base64 line is its own value, so the key is masked however its lines are joined.
_PEM = re.compile(r"-----BEGIN ([A-Z ]{0,40}PRIVATE KEY)-----(.{1,16384}?)-----END", re.DOTALL)
_PEM_LINE = re.compile(r"[A-Za-z0-9+/=]{10,}")
_MASKED = re.compile(r"(?:^|…)\*{4}$")


@dataclass(frozen=True)
class SecretHit:
    kind: str
    name: str
    value: str
    context: str = ""  # the whole match, e.g. `://kratos:pass@`: short values are only masked there

    @property
    def masked(self) -> str:
        return mask(self.value, self.kind)


def mask(value: str, kind: str = "") -> str:
    """Keep a 4-character prefix of long tokens so the user can tell which one is meant."""
    if kind in WHOLE_KINDS or len(value) <= 12:
        return "****"
    return value[:4] + "…****"


def is_placeholder(value: str) -> bool:
    """A template, an obvious placeholder or a value we masked already: nothing to hide. Go's print of a
    nested map (`lookup_secret:map[enabled:true]` in Kratos' config report) is structure, not a value."""
    return bool(
        _PLACEHOLDER.match(value) or _MASKED.search(value) or "{{" in value or "${" in value or value.startswith("map[")
    )


def find_secrets(text: str) -> list[SecretHit]:
    """Every secret once per place it stands: a short value is masked only in its contexts, so each counts."""
    hits: list[SecretHit] = []
    seen: set[tuple[str, str]] = set()
    for kind, pattern, group, name_group in _PATTERNS:
        for m in pattern.finditer(text):
            value = m.group(group)
            if (value, m.group(0)) in seen or is_placeholder(value):
                continue
            seen.add((value, m.group(0)))
            name = m.group(name_group) if name_group else kind
            hits.append(SecretHit(kind=kind, name=name, value=value, context=m.group(0)))
    for pattern, group, name_chars in _KEYED:
        for m in pattern.finditer(text):
            start = m.start()
            while start > 0 and m.start() - start < 100 and text[start - 1] in name_chars:
                start -= 1
            value, context = m.group(group), text[start : m.end()]
            if (value, context) in seen or is_placeholder(value):
                continue
            seen.add((value, context))
            name = text[start : m.start()] + re.split(r"['\"\s:=]", m.group(0), maxsplit=1)[0]
            hits.append(SecretHit(kind="config_secret", name=name, value=value, context=context))
    for m in _PEM.finditer(text):
        for line in _PEM_LINE.findall(m.group(2)):
            if (line, "") not in seen:
                seen.add((line, ""))
                hits.append(SecretHit(kind="private_key", name=m.group(1).lower(), value=line))
    return hits


MIN_GLOBAL = 10  # shorter secrets are masked only where they stood in the input, not wherever the word appears


class Scrubber:
    """`scrub` for many strings with the same secrets: they are ordered once, longest first, and indexed by
    their first characters, so a short string is not compared with every secret of a big paste."""

    def __init__(self, secrets: list[SecretHit] | tuple[SecretHit, ...]) -> None:
        self.hits = sorted(secrets, key=lambda h: len(h.value), reverse=True)
        # What is searched: a long value itself, a short one only inside the text it was found in.
        self._needles = [
            (needle, hit) for hit in self.hits if (needle := hit.value if len(hit.value) >= MIN_GLOBAL else hit.context)
        ]
        self._by_prefix: dict[str, list[str]] = {}
        self._tiny = [needle for needle, _ in self._needles if len(needle) < 4]
        for needle, _ in self._needles:
            if len(needle) >= 4:
                self._by_prefix.setdefault(needle[:4], []).append(needle)

    def _present(self, text: str) -> set[str]:
        if len(text) > 64 * len(self._needles):
            return {needle for needle, _ in self._needles if needle in text}
        found = {needle for needle in self._tiny if needle in text}
        index = self._by_prefix
        for i in range(len(text) - 3):
            for needle in index.get(text[i : i + 4], ()):
                if text.startswith(needle, i):
                    found.add(needle)
        return found

    def __call__(self, text: str) -> str:
        if not self._needles or not text:
            return text
        present = self._present(text)
        if not present:
            return text
        for needle, hit in self._needles:
            if needle not in present or needle not in text:
                continue
            if needle is hit.value:
                text = text.replace(hit.value, hit.masked)
            else:
                # A short value ("kratos" in postgres://kratos:kratos@db) is a common word elsewhere in the reply.
                text = text.replace(hit.context, hit.context.replace(hit.value, hit.masked))
        return text


_last: tuple[object, Scrubber] = ((), Scrubber(()))


def scrubber(secrets: list[SecretHit] | tuple[SecretHit, ...]) -> Scrubber:
    """The Scrubber of `secrets`, kept for the next call with the same object: a turn's artifacts are all
    scrubbed with one message's secrets. One global tuple, replaced whole, so threads never mix two."""
    global _last
    last = _last
    if last[0] is secrets:
        return last[1]
    made = Scrubber(secrets)
    _last = (secrets, made)
    return made


def scrub(text: str, secrets: list[SecretHit] | tuple[SecretHit, ...]) -> str:
    """Replace every secret value in `text` with its masked form, longest first."""
    return scrubber(secrets)(text) if secrets and text else text
