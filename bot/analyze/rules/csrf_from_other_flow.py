"""csrf-from-other-flow: a settings request sends the `csrf_token` of the login or recovery flow.

Why: the `csrf_token` is checked against the CSRF cookie, not against a flow (x/nosurfx, ory/nosurf).
But Kratos rotates that cookie when it issues a session, which a successful login, registration or
recovery does (session/manager_http.go). A token read from those flows before that moment no longer
matches the cookie the settings request carries.
Example: POST `/self-service/settings?flow=…` with `"csrf_token": "{{recoveryFlowCsrf}}"`.
Fix: read `csrf_token` from the settings flow (fetched after the session was issued).
Detection is by the template variable name against the endpoint's flow; only the settings flow is
checked, because only there a session was certainly issued in between.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence, body_field, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

SESSION_ISSUING = ("login", "recovery", "registration")
_FLOW_WORD = re.compile(r"(?i)(login|registration|register|signup|settings?|recovery|recover|verification|verify)")
_CANONICAL = {
    "register": "registration",
    "signup": "registration",
    "setting": "settings",
    "recover": "recovery",
    "verify": "verification",
}


def _flow_in_name(name: str) -> str | None:
    m = _FLOW_WORD.search(name)
    if m is None:
        return None
    word = m.group(1).lower()
    return _CANONICAL.get(word, word)


@rule("csrf-from-other-flow")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        token = body_field(curl, "csrf_token")
        if endpoint is None or endpoint.variant is not None or not token or "{{" not in token:
            continue
        named = _flow_in_name(token)
        if endpoint.flow != "settings" or named not in SESSION_ISSUING:
            continue
        step = f" (step {curl.label})" if curl.label else ""
        yield Finding(
            rule="csrf-from-other-flow",
            title=f"The csrf_token comes from the {named} flow, but this is the settings flow",
            detail=(
                f'The request{step} submits to the settings flow with `"csrf_token": "{token}"`. The token must '
                f"match the CSRF cookie, and Kratos replaced that cookie when the {named} flow issued the session. "
                "Take the token from the settings flow's `ui.nodes` (the node named `csrf_token`), e.g. "
                "`{{settingFlowCsrf}}`."
            ),
            fixes=(
                "Fetch the settings flow (`GET /self-service/settings/flows?id=<flow id>`) with the new session "
                "cookie and use the `csrf_token` value from its `ui.nodes`.",
            ),
            entries=("topic.cookies-and-csrf-with-curl",),
            severity="warning",
            score=85,
            patches=(
                Patch(
                    ev.index_of(curl),
                    "set",
                    ("body", "csrf_token"),
                    "{{settingFlowCsrf}}",
                    "csrf_token from the settings flow",
                ),
            ),
        )
