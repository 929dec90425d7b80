"""csrf-from-other-flow: the `csrf_token` in the body was taken from a different flow.

Why: each browser flow carries its own `csrf_token` node, paired with the CSRF cookie. A token
copied from the recovery flow into a settings request (or from login into registration) fails
the CSRF check, or is silently tied to the wrong flow.
Example: POST `/self-service/settings?flow=…` with `"csrf_token": "{{recoveryFlowCsrf}}"`.
Fix: read `csrf_token` from `ui.nodes` of the same flow you submit to.
Detection is by the template variable name (recovery/login/settings/…) against the endpoint's flow.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence, body_field, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding

_FLOW_WORD = re.compile(r"(?i)(login|registration|register|signup|settings?|recovery|recover|verification|verify|totp)")
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
        if named is None or named == "totp" or named == endpoint.flow:
            continue
        step = f" (step {curl.label})" if curl.label else ""
        yield Finding(
            rule="csrf-from-other-flow",
            title=f"The csrf_token comes from the {named} flow, but this is a {endpoint.flow} flow",
            detail=(
                f'The request{step} submits to the {endpoint.flow} flow with `"csrf_token": "{token}"`. '
                f"Every flow has its own CSRF token: take it from the {endpoint.flow} flow's `ui.nodes` "
                f"(the node named `csrf_token`), e.g. `{{{{{endpoint.flow.rstrip('s')}FlowCsrf}}}}`."
            ),
            fixes=(
                f"Fetch the {endpoint.flow} flow (`GET /self-service/{endpoint.flow}/flows?id=<flow id>`) and use "
                f"the `csrf_token` value from its `ui.nodes`, with the matching `csrf_token_*` cookie.",
            ),
            entries=("topic.cookies-and-csrf-with-curl",),
            severity="warning",
            score=85,
        )
