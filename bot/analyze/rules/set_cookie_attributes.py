"""set-cookie-attributes: `Path=`, `Max-Age=`, `HttpOnly` … pasted into a Cookie request header.

Why: those are attributes of the *Set-Cookie* response header and mean nothing in a request: Go parses
`Path=/` as a cookie named `Path` and Kratos ignores it. The paste shows the header was copied from a
response by hand, which is how stale session and CSRF cookies end up in requests; and an API flow
rejects any cookie with 400 (selfservice/flow/request.go).
Example: `cookie: ory_kratos_session=…; Path=/; Max-Age=31536000; HttpOnly; Secure; SameSite=Strict`.
Fix: send only `name=value` pairs separated by `; `, or let curl manage cookies with `-c jar -b jar`.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

_ATTRS = re.compile(
    r"(?i)(?:^|;)\s*(Path=[^;]*|Max-Age=\d*|Expires=[^;]*|Domain=[^;]*|HttpOnly|Secure|SameSite=\w*)\s*(?=;|$)"
)


def _pairs_only(cookie: str) -> str:
    return "; ".join(p.strip() for p in _ATTRS.sub(";", cookie).split(";") if p.strip())


@rule("set-cookie-attributes")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        attrs: list[str] = []
        for cookie in curl.cookies:
            for m in _ATTRS.finditer(cookie):
                name = m.group(1).split("=", 1)[0]
                if name not in attrs:
                    attrs.append(name)
        if not attrs:
            continue
        shown = ", ".join(f"`{a}`" for a in attrs)
        yield Finding(
            rule="set-cookie-attributes",
            title="Set-Cookie attributes were pasted into the Cookie header",
            detail=(
                f"Your Cookie header carries {shown}. Those are Set-Cookie attributes from a response; a request "
                "sends only `name=value` pairs. Kratos ignores them, but a hand-copied Cookie header is how stale "
                "session and CSRF cookies end up in requests."
            ),
            fixes=(
                "Send only the cookie pairs, e.g. `Cookie: ory_kratos_session=<value>; csrf_token_<hash>=<value>`, "
                "or let curl keep them: `-c cookies.txt` on the first request and `-b cookies.txt` on the next.",
            ),
            entries=("topic.cookies-and-csrf-with-curl",),
            severity="warning",
            score=85,
            patches=tuple(
                Patch(ev.index_of(curl), "set", ("cookie", str(i)), _pairs_only(cookie), "cookie pairs only")
                for i, cookie in enumerate(curl.cookies)
                if _ATTRS.search(cookie)
            ),
        )
