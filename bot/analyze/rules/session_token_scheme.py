"""session-token-scheme: a session token sent in an `Authorization` header with a scheme other than `Bearer`.

Why: Kratos reads a session token from `X-Session-Token`, from the session cookie, or from `Authorization`
when that header is exactly two words and the first is `bearer` (any case) (session/helper.go,
bearerTokenFromRequest; session/manager_http.go, extractToken). `Authorization: session <token>`,
`Authorization: Token <token>` or a bare token are ignored: the request has no session, and whoami or a
settings flow answers 401 `session_inactive`.
Example: `GET /self-service/settings/api` with `Authorization: session ZXtN3s…`.
Fix: `X-Session-Token: <session_token>` (or `Authorization: Bearer <session_token>`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

_SESSION_PATHS = ("/sessions", "/self-service/")


@rule("session-token-scheme")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        auth = (curl.header("authorization") or "").strip()
        if not auth or curl.header("x-session-token") or curl.cookies:
            continue  # nothing to judge, or the session travels another way
        if not urlsplit(curl.url).path.startswith(_SESSION_PATHS):
            continue  # the admin API and other services have their own schemes
        parts = auth.split(" ")
        if len(parts) == 2 and parts[0].lower() == "bearer":
            continue
        scheme = f"`{parts[0]}` scheme" if len(parts) > 1 else "bare token"
        token = parts[-1]
        yield Finding(
            rule="session-token-scheme",
            title=f"Kratos ignores an `Authorization` header with a {scheme}",
            detail=(
                "Kratos takes a session token from `X-Session-Token: <token>` or from `Authorization: Bearer "
                "<token>` (exactly those two words); any other form is ignored, so this request carries no "
                "session and gets 401 `session_inactive`."
            ),
            fixes=("Send the token as `X-Session-Token: <session_token>` (or `Authorization: Bearer <token>`).",),
            entries=("reason.no-session-credentials",),
            score=94,
            patches=(
                Patch(ev.index_of(curl), "remove", ("header", "Authorization"), note="not a scheme Kratos reads"),
                Patch(ev.index_of(curl), "set", ("header", "X-Session-Token"), token, "the session token"),
            ),
        )
