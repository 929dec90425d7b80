"""session-token-from-cookie: the `ory_kratos_session` cookie value sent as `X-Session-Token`.

Why: the session cookie is an encoded, signed container that holds the session token, not the token
itself (session/manager_http.go). Sent as `X-Session-Token` it matches no session, and whoami answers
401. A backend that got the browser's cookie must forward the cookie.
Example: `curl -H "X-Session-Token: MTcwMDAwMDAwMHxEdi1…" http://kratos:4433/sessions/whoami`.
Fix: `curl -H "Cookie: ory_kratos_session=<value>" …/sessions/whoami` (or use the SDK's `cookie` argument).
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

# The cookie starts with the base64 of a Unix timestamp ("1700000000|…" -> "MTcwMDAw…"). The header value
# arrives masked (bot.extract.masking keeps the first four characters of a long token).
_COOKIE_VALUE = re.compile(r"^MT(?:[A-Za-z0-9_=-]{20,}|[A-Za-z0-9_=-]{2}…\*{4}$)")


@rule("session-token-from-cookie")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        token = curl.header("x-session-token") or ""
        if not _COOKIE_VALUE.match(token):
            continue
        yield Finding(
            rule="session-token-from-cookie",
            title="The `ory_kratos_session` cookie value is not a session token",
            detail=(
                "The value sent as `X-Session-Token` is the session cookie: an encoded, signed container that "
                "holds the token, not the token itself, so Kratos finds no session (401). Forward it as the "
                "cookie instead."
            ),
            fixes=(
                "Send `Cookie: ory_kratos_session=<value>` to `/sessions/whoami` (SDK: the `cookie` parameter "
                "of `toSession`).",
                "Use `X-Session-Token` only with the `session_token` of an API flow.",
            ),
            entries=("reason.no-session-credentials",),
            score=93,
            patches=(
                Patch(ev.index_of(curl), "remove", ("header", "X-Session-Token"), note="no X-Session-Token"),
                Patch(
                    ev.index_of(curl),
                    "set",
                    ("header", "Cookie"),
                    f"ory_kratos_session={token}",
                    "the cookie, forwarded as a cookie",
                ),
            ),
        )
