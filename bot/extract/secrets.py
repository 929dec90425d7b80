"""Find live credentials in a paste so the reply can mask them and tell the user to revoke them.

Template variables (`{{sessionCookie}}`) and obvious placeholders are not secrets. Patterns are
anchored on a fixed prefix and use bounded character classes, so they run in linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENV_NAME = r"[A-Z0-9_]{0,100}(?:SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|APIKEY|PRIVATE_KEY)[A-Z0-9_]{0,100}"
_KEY_NAME = r"[\w-]{0,60}(?:client[-_]?secret|private[-_]?key|api[-_]?key|secret|(?:access|refresh|auth)[-_]token)"
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
    ("session_token", re.compile(r'"(session_token)"\s*:\s*"([^"{}\s]{8,4096})"'), 2, 1),
    ("password", re.compile(r'"((?:new_)?password)"\s*:\s*"([^"\n]{1,512})"'), 2, 1),
    # The same JSON pasted as a string literal: `{\"password\":\"…\"}`.
    ("password", re.compile(r'\\"((?:new_)?password)\\"\s*:\s*\\"((?:[^"\\\n]|\\(?!"))' r"{1,512})\\\""), 2, 1),
    # `password: value` on one line (YAML, env, prose, a form body); a YAML key that opens a block is not a value.
    ("password", re.compile(r"(?i)\b(password)[ \t]*[:=][ \t]*(?!\{\{)([^\s'\",;:&]{4,512})(?=[\s'\",;&]|$)"), 2, 1),
    # URL user-info, `redis://:pw@host` too; a password may hold `/` or `{}`, a port followed by a path may not.
    (
        "password",
        re.compile(r"\b[a-z][a-z0-9+.-]{1,20}://[^\s:/@'\"]{0,256}:(?!\d{1,5}(?:[/?#]|$))([^\s@'\"]{1,256})@(?=[\w\[])"),
        1,
        None,
    ),
    ("password", re.compile(r"(?i)\b(authorization)['\"]?\s*:\s*['\"]?basic\s+([A-Za-z0-9+/=]{4,4096})"), 2, 1),
    # Environment variables whose name says secret: `SECRETS_COOKIE=…`, `SMTP_PASSWORD: …`, `- name: X` / `value: …`.
    (
        "config_secret",
        re.compile(r"(?<![\w-])(" + _ENV_NAME + r")[ \t]*[=:][ \t]*['\"]?" + _VALUE),
        2,
        1,
    ),
    ("config_secret", re.compile(r"name:[ \t]*(" + _ENV_NAME + r")[ \t]*\n[ \t]*value:[ \t]*['\"]?" + _VALUE), 2, 1),
    # YAML or JSON keys whose name says secret: `client_secret: …`, `"api_key": "…"`.
    (
        "config_secret",
        re.compile(r"(?i)(?<![\w-])['\"]?(" + _KEY_NAME + r")['\"]?[ \t]*:[ \t]*['\"]?([^\s'\",}{]{6,4096})"),
        2,
        1,
    ),
    ("csrf_token", re.compile(r'"(csrf_token)"\s*:\s*"([^"{}\s]{16,1024})"'), 2, 1),
    ("jwt", re.compile(r"\b(eyJ[A-Za-z0-9_-]{8,4096}\.eyJ[A-Za-z0-9_-]{8,8192}\.[A-Za-z0-9_-]{8,4096})"), 1, None),
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
    """A template, an obvious placeholder or a value we masked already: nothing to hide."""
    return bool(_PLACEHOLDER.match(value) or _MASKED.search(value) or "{{" in value or "${" in value)


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
    for m in _PEM.finditer(text):
        for line in _PEM_LINE.findall(m.group(2)):
            if (line, "") not in seen:
                seen.add((line, ""))
                hits.append(SecretHit(kind="private_key", name=m.group(1).lower(), value=line))
    return hits


MIN_GLOBAL = 10  # shorter secrets are masked only where they stood in the input, not wherever the word appears


def scrub(text: str, secrets: list[SecretHit] | tuple[SecretHit, ...]) -> str:
    """Replace every secret value in `text` with its masked form, longest first."""
    for hit in sorted(secrets, key=lambda h: len(h.value), reverse=True):
        if len(hit.value) >= MIN_GLOBAL and hit.value in text:
            text = text.replace(hit.value, hit.masked)
        elif hit.context and hit.context in text:
            # A short value ("kratos" in postgres://kratos:kratos@db) is a common word elsewhere in the reply.
            text = text.replace(hit.context, hit.context.replace(hit.value, hit.masked))
    return text
