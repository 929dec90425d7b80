"""identity-mismatch-session: 403 `security_identity_mismatch` on a settings flow.

Why: a settings flow belongs to the identity whose session created it (selfservice/flow/settings/
flow.go `Valid`). After a recovery code succeeds, Kratos signs the user in and returns a new
`ory_kratos_session` cookie in Set-Cookie; the settings flow it creates belongs to that identity. A
request that still carries an older session cookie (another test user, a stale Postman variable)
gets this 403.
Fix: send the `ory_kratos_session` cookie from the response that created the settings flow (a cookie
jar does it), or create a new settings flow with the session you have.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, KratosError, Url


def _recovery_seen(ev: Evidence) -> bool:
    for curl in ev.of(Curl) + ev.earlier(Curl):
        endpoint = curl_endpoint(curl)
        if endpoint and endpoint.flow == "recovery":
            return True
    return any("settings" in (e.redirect_browser_to or "") for e in ev.earlier(KratosError)) or any(
        "/fallback/settings" in u.url for u in ev.earlier(Url)
    )


@rule("identity-mismatch-session")
def check(ev: Evidence, kb: KnowledgeBase):
    if not any(e.id == "security_identity_mismatch" for e in ev.of(KratosError)):
        return
    after_recovery = _recovery_seen(ev)
    detail = (
        "A settings flow is bound to the identity whose session created it. This request carried a session "
        "(the `ory_kratos_session` cookie or an `X-Session-Token`) of a different identity."
    )
    if after_recovery:
        detail += (
            " In your recovery -> settings sequence: the successful recovery code signs the user in and the response "
            "sets a new `ory_kratos_session` cookie (Set-Cookie). The settings flow belongs to that identity, so the "
            "settings request must send that cookie, not one saved from an earlier login."
        )
    yield Finding(
        rule="identity-mismatch-session",
        title="The session sent does not belong to the identity of the settings flow",
        detail=detail,
        fixes=(
            "Use the `ory_kratos_session` cookie from the Set-Cookie of the response that created the settings flow; "
            "with curl, `-c cookies.txt -b cookies.txt` on every call keeps it for you.",
            "Or create a fresh settings flow (`GET /self-service/settings/browser`) with the session you actually "
            "hold, and submit to that one.",
        ),
        entries=("error.security_identity_mismatch",),
        score=90 if after_recovery else 75,
    )
