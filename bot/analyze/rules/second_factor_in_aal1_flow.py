"""second-factor-in-aal1-flow: `totp` or `lookup_secret` submitted to an aal1 login flow.

Why: those strategies only answer login flows that requested AAL2 (selfservice/strategy/totp/login.go
checks `CheckAAL(f, aal2)` and does not even render its fields otherwise). In an aal1 flow no strategy
takes the body, so Kratos answers 4010002 "Could not find a strategy to log you in with".
Example: a flow created with `/self-service/login/browser?aal=aal1`, then `"method": "totp"`.
Fix: finish the first factor in the aal1 flow, then create a new flow with `?aal=aal2` (sending the
session) and submit `method: totp` with `totp_code` there. The flow's AAL is read from the same
message or from earlier turns (the create request, or a pasted flow's `requested_aal`).
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, body_field, login_flow_origin, login_submits
from bot.analyze.flowkit import base_url, curl_lines, json_body
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, Snippet, UiMessage

# webauthn is left out: with passwordless WebAuthn enabled it is a first factor (webauthn/login.go).
SECOND_FACTORS = {"totp": "totp_code", "lookup_secret": "lookup_secret"}


def _steps(base: str, method: str, body2: str, api: bool) -> str:
    if api:
        first = json_body("password", {"identifier": "<identifier>", "password": "<password>"}, None)
        return "\n".join(
            (
                "# 1. first factor in an aal1 API flow: the answer holds session_token",
                curl_lines("POST", f"{base}/self-service/login?flow=<aal1 flow id>", body=first),
                "# 2. new login flow for the second factor, created with that session token",
                curl_lines("GET", f"{base}/self-service/login/api?aal=aal2", token=True),
                f"# 3. submit {method} to the aal2 flow with the same token (changed: new flow id)",
                curl_lines("POST", f"{base}/self-service/login?flow=<aal2 flow id>", body=body2, token=True),
            )
        )
    first = json_body(
        "password", {"identifier": "<identifier>", "password": "<password>"}, "<csrf_token of the aal1 flow>"
    )
    return "\n".join(
        (
            "# 1. first factor in the aal1 flow you already have",
            curl_lines("POST", f"{base}/self-service/login?flow=<aal1 flow id>", jar=True, body=first),
            "# 2. new login flow for the second factor; the cookie jar sends the session from step 1",
            curl_lines("GET", f"{base}/self-service/login/browser?aal=aal2", jar=True),
            f"# 3. submit {method} to the aal2 flow (changed: new flow id and its csrf_token)",
            curl_lines("POST", f"{base}/self-service/login?flow=<aal2 flow id>", jar=True, body=body2),
        )
    )


@rule("second-factor-in-aal1-flow")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl, endpoint, method in login_submits(ev, SECOND_FACTORS):
        aal, seen, variant = login_flow_origin(ev, endpoint.query.get("flow"))
        if aal == "aal2":
            continue
        api = variant == "api"
        no_strategy = any(m.id == 4010002 for m in ev.of(UiMessage))
        base = base_url(curl)
        code_field = SECOND_FACTORS[method]
        code_value = body_field(curl, code_field) or f"<{code_field}>"
        body2 = json_body(method, {code_field: code_value}, None if api else "<csrf_token of the aal2 flow>")
        snippet = _steps(base, method, body2, api)
        where = f" ({seen})" if aal else ""
        yield Finding(
            rule="second-factor-in-aal1-flow",
            title=f"`{method}` is a second factor, but this login flow asks for the first factor{where}",
            detail=(
                f"`{method}` only answers login flows created with `?aal=aal2`. "
                + (
                    f"This flow was {seen}, "
                    if aal and seen.startswith("created")
                    else f"Here {seen}, "
                    if aal
                    else "If this flow was created without `?aal=aal2`, then "
                )
                + ("so " if aal else "")
                + "no strategy accepts the body"
                + (" and Kratos answers 4010002." if no_strategy else ".")
                + " A second factor needs a first-factor session first."
            ),
            fixes=(
                "Sign in with the first factor (`password` or `code`) in an aal1 flow; that creates a session.",
                (
                    "Create a new login flow with `GET /self-service/login/api?aal=aal2`, sending that session as "
                    "`X-Session-Token`."
                    if api
                    else "Create a new login flow with `?aal=aal2`, sending that session (the cookie jar keeps it)."
                ),
                f'Submit `"method": "{method}"` with `{code_field}` to the aal2 flow.',
            ),
            entries=("ui.4010002", "topic.aal-step-up"),
            snippet=Snippet("bash", snippet, "steps 2 and 3 are new; your TOTP request moves to the aal2 flow"),
            score=96 if aal == "aal1" else 75,
        )
