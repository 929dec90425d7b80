"""flow-next-step: the user created (or fetched) a self-service flow and asks what to send next.

Why: creating a flow only returns a form description; the next request POSTs to the flow's
`ui.action` (`/self-service/<flow>?flow=<id>`) with the `method`, its fields and, for browser flows,
the `csrf_token` node's value, sending the cookies the create response set. For a login flow created
with `?aal=aal2` that body is the second factor (`totp` + `totp_code`, or `lookup_secret`), sent with
the first-factor session.
Example: "I create the flow with /self-service/login/browser?aal=aal2 — what exactly do I POST?".
Fix: the exact request, for a browser flow (cookies + csrf_token) or an API flow (X-Session-Token).
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.flowkit import json_body, submit_body
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Snippet

_ASKS = re.compile(
    r"(?i)\b(next step|what (?:exactly )?(?:do|should|must) i (?:post|send|submit|do)|how (?:do|can|should) i "
    r"(?:submit|finish|complete|post)|finish it|complete it|then what)\b"
)


@rule("flow-next-step")
def check(ev: Evidence, kb: KnowledgeBase):
    if not _ASKS.search(ev.prose):
        return
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        if endpoint is None or endpoint.variant not in ("browser", "api", "flows"):
            continue
        flow = endpoint.flow or "login"
        aal = endpoint.query.get("aal")
        browser = endpoint.variant != "api"
        method, fields = submit_body(flow, aal)
        body = json_body(method, fields, "<value of the csrf_token node>" if browser else None)
        session = aal == "aal2" or flow == "settings"
        if browser:
            how = (
                'with the cookies of the create response (`credentials: "include"` in fetch, a cookie jar in '
                "curl)" + (" and the first-factor session cookie" if session else "")
            )
            code = "\n".join(
                (
                    f"// ui.action = /self-service/{flow}?flow=<id>; csrf_token from ui.nodes",
                    "await fetch(flow.ui.action, {",
                    '  method: "POST", credentials: "include",',
                    '  headers: {"Content-Type": "application/json", Accept: "application/json"},',
                    f"  body: JSON.stringify({body}),",
                    "});",
                )
            )
            lang = "js"
        else:
            how = "with `X-Session-Token: <session_token>`" if session else "without cookies"
            code = (
                "curl -s -X POST '<ui.action>' -H 'Content-Type: application/json' -H 'Accept: application/json'"
                + (" -H 'X-Session-Token: <session_token>'" if session else "")
                + f" --data '{body}'"
            )
            lang = "bash"
        extra = (
            (
                " The body is the second factor because the flow asks for `aal2`; `lookup_secret` (a backup "
                'code) works the same way with `"method": "lookup_secret"`.'
            )
            if aal == "aal2"
            else (
                " A new password needs a recent sign-in: a session older than "
                "`selfservice.flows.settings.privileged_session_max_age` (default `1h`) gets 403 "
                "`session_refresh_required`, and the user signs in again (a login flow with `refresh=true`)."
            )
            if flow == "settings" and method == "password"
            else ""
        )
        yield Finding(
            rule="flow-next-step",
            title=f"Next step: POST the {flow} form to `ui.action` (`/self-service/{flow}?flow=<id>`)",
            detail=(f"Take `ui.action` from the flow JSON and POST `{body}` to it, {how}.{extra}"),
            fixes=(
                f'POST to `ui.action` (`/self-service/{flow}?flow=<id>`) with `"method": "{method}"`'
                + (", `csrf_token` from `ui.nodes`" if browser else "")
                + " and "
                + ", ".join(f"`{f}`" for f in fields)
                + ".",
            ),
            entries=("topic.aal-step-up",)
            if aal == "aal2"
            else ("topic.submit-login-flow",)
            if flow == "login"
            else (),
            snippet=Snippet(lang, code, "the submit"),
            score=91,
        )
        return
