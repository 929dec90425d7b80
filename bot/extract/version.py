"""Which Kratos release the user runs, from evidence only.

A version number in a message is often not the running Kratos: a Go module in a stack trace
(`github.com/ory/x@v0.0.392`), the SDK or Helm chart version, Node or Postgres, or the release something
*used to* work with ("with v0.5.x it was possible…"). Taking any of those as the running release leads to
upgrade advice that breaks the user's config. So a claim counts only when its context says it is Kratos
and it is current:

| source | example | strength |
|---|---|---|
| `kratos version` output | `Version:    v1.3.1` followed by `Build Commit:` | 5 |
| image tag | `oryd/kratos:v1.3.1`, `oryd/kratos:v1.3.1-distroless` | 4 |
| upgrade target | "upgraded from 0.10.1 to 0.11.0", "v0.6.3 -> v0.7.3" | 4 |
| Helm `appVersion` | `appVersion: v1.3.1` | 3 |
| statement | "we run kratos v1.0.0", "Kratos version: 1.1.0", "### Version", "the current version (v0.6.0)" | 2 |
| bare release on a use verb | "I'm on v0.11.0" | 1 |

The strongest claim wins; among equals, the last one in the message (later text corrects earlier).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_V = r"v?(\d{1,2}\.\d{1,2}(?:\.(?:\d{1,2}|x))?(?:-(?:alpha|beta|rc|pre)(?:\.\d{1,3}){0,2})?)"
_END = r"(?![\w]|\.\d)"  # not followed by more of a version; a sentence's full stop is fine

_KRATOS_VERSION_OUTPUT = re.compile(r"(?im)^\s*version:\s+" + _V + r"\s*\n(?=\s*build (?:commit|timestamp))")
_IMAGE = re.compile(r"(?i)\boryd/kratos(?:-distroless)?:" + _V + r"(?:-distroless)?\b")
_APP_VERSION = re.compile(r"(?im)^\s*appVersion:\s*[\"']?" + _V + r"[\"']?\s*$")
_UPGRADE = re.compile(
    r"(?i)\b(?:upgrad|migrat|updat|bump|mov|switch|went)\w*\b[^.\n]{0,60}?"
    r"(?:from\s+)?(?:ory\s+)?(?:kratos\s+)?(?:version\s+)?"
    + _V
    + r"\s*(?:to|->|→|=>|—>)\s*(?:kratos\s+)?(?:version\s+)?"
    + _V
    + _END
)
_ARROW = re.compile(r"(?i)\b" + _V + r"\s*(?:->|→|=>)\s*" + _V + _END)
_STATEMENT = re.compile(
    r"(?i)\b(?:ory[\s/]+)?kratos(?:\s+(?:server|binary|image|release))?(?:\s+version)?\s*[:=@]?\s*\(?" + _V + _END
)
_CURRENT_RELEASE = re.compile(r"(?i)\b(?:current|latest)\s+(?:released?\s+|stable\s+)?version\s*\(?" + _V + _END)
_VERSION_LABEL = re.compile(r"(?im)^\s*(?:#{1,4}\s*)?(?:kratos\s+)?version\s*[:\n]\s*\n?\s*`?" + _V + r"`?\s*$")
_USE_VERB = re.compile(
    r"(?i)\b(?:on|using|running|run|use|with|deployed|installed|have)\s+(?:the\s+)?(?:current\s+|latest\s+)?"
    r"(?:release\s+|version\s+)?\(?v(\d{1,2}\.\d{1,2}(?:\.(?:\d{1,2}|x))?(?:-(?:alpha|beta|rc|pre)(?:\.\d{1,3}){0,2})?)"
    + _END
)
# Words right before a number that make it something else than the running Kratos.
_OTHER_THING = re.compile(
    r"(?i)(?:@|\b(?:ory/x|ory/herodot|ory/fosite|ory/hydra|hydra|keto|oathkeeper|elements|client[-\w]*|sdk|"
    r"node(?:js)?|go|golang|postgres(?:ql)?|mysql|cockroach(?:db)?|redis|helm|chart|compose|docker|python|npm|"
    r"next(?:js)?|react|k8s|kubernetes|kubectl|ubuntu|debian|alpine|java|php|ruby|rust)\b[\w\s:/@=-]{0,12})$"
)
_PAST_BEFORE = re.compile(
    r"(?i)\b(?:used to|previously|before|prior to|earlier|older|back (?:then|in)|in the past|worked|working|"
    r"until|till|since|(?:migrat|upgrad|com|mov)\w*\s+from|was on|were on)\b[^.!?\n]{0,40}$"
)
_PAST_AFTER = re.compile(
    r"(?i)^[^.!?\n]{0,40}\b(?:was possible|it worked|worked|used to|was working|and (?:earlier|older|below))\b"
)


@dataclass(frozen=True)
class VersionClaim:
    version: str  # "v1.3.1"; a series ("v0.5.x") becomes its first release, "v0.5.0"
    source: str
    strength: int
    at: int  # character offset of the claim, to prefer the later of two equal ones


def _norm(raw: str) -> str:
    raw = raw.lower().removeprefix("v")
    raw = re.sub(r"\.x$", ".0", raw)
    if raw.count(".") == 1 and "-" not in raw:
        raw += ".0"
    return "v" + raw


def _current(text: str, start: int, end: int) -> bool:
    """Not a release the user left behind ("worked with v0.5", "since v1.0")."""
    return not (_PAST_BEFORE.search(text[max(0, start - 60) : start]) or _PAST_AFTER.search(text[end : end + 60]))


def _other_thing(text: str, start: int) -> bool:
    return bool(_OTHER_THING.search(text[max(0, start - 40) : start]))


MAX_SCAN = 60_000  # versions are stated near the start or the end; a big log in between is not read twice


@lru_cache(maxsize=8)  # two rules and the decision stage ask about the same message
def claims(text: str) -> tuple[VersionClaim, ...]:
    """Every Kratos version claim in `text` that passes the evidence rules, in text order."""
    if len(text) > MAX_SCAN:
        text = text[: MAX_SCAN - 10_000] + "\n" + text[-10_000:]
    out: list[VersionClaim] = []
    for m in _KRATOS_VERSION_OUTPUT.finditer(text):
        out.append(VersionClaim(_norm(m.group(1)), "kratos version output", 5, m.start(1)))
    for m in _IMAGE.finditer(text):
        out.append(VersionClaim(_norm(m.group(1)), "image tag", 4, m.start(1)))
    upgrade_spans = []
    for pattern in (_UPGRADE, _ARROW):
        for m in pattern.finditer(text):
            if any(s <= m.start(2) < e for s, e in upgrade_spans):
                continue
            upgrade_spans.append((m.start(), m.end()))
            if pattern is _ARROW and _other_thing(text, m.start(1)):
                continue
            out.append(VersionClaim(_norm(m.group(2)), "upgrade target", 4, m.start(2)))
    for m in _APP_VERSION.finditer(text):
        out.append(VersionClaim(_norm(m.group(1)), "Helm appVersion", 3, m.start(1)))
    taken = {c.at for c in out}
    for pattern, source, strength in (
        (_VERSION_LABEL, "version label", 2),
        (_CURRENT_RELEASE, "current release", 2),
        (_STATEMENT, "statement", 2),
        (_USE_VERB, "use verb", 1),
    ):
        for m in pattern.finditer(text):
            at = m.start(1)
            if at in taken or any(s <= at < e for s, e in upgrade_spans):
                continue
            if pattern is _USE_VERB and _other_thing(text, m.start()):
                continue
            if not _current(text, m.start(), m.end()):
                continue
            taken.add(at)
            out.append(VersionClaim(_norm(m.group(1)), source, strength, at))
    return tuple(sorted(out, key=lambda c: c.at))


def running_version(text: str) -> VersionClaim | None:
    """The release the user runs, or None when the message gives no trustworthy evidence."""
    found = claims(text)
    if not found:
        return None
    return max(found, key=lambda c: (c.strength, c.at))


__all__ = ["VersionClaim", "claims", "running_version"]
