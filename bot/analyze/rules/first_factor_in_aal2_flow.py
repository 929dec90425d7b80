"""first-factor-in-aal2-flow: a first factor (`password`, `oidc`, `passkey`) submitted to an aal2 login flow.

Why: those strategies only answer login flows that ask for `aal1` (selfservice/strategy/password/login.go
`CheckAAL(f, aal1)`, likewise oidc and passkey). A flow created with `?aal=aal2` is the step-up after
a first-factor login, so a password sent there matches no strategy: 4010002.
Example: flow with `"requested_aal": "aal2"`, body `{"method": "password", …}`.
Fix: sign in with the password in a flow without `aal` (aal1); submit the second factor to the aal2 flow.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, login_flow_origin, login_submits
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding

FIRST_FACTORS = ("password", "oidc", "passkey", "identifier_first")


@rule("first-factor-in-aal2-flow")
def check(ev: Evidence, kb: KnowledgeBase):
    for _curl, endpoint, method in login_submits(ev, FIRST_FACTORS):
        if login_flow_origin(ev, endpoint.query.get("flow"))[0] != "aal2":
            continue
        yield Finding(
            rule="first-factor-in-aal2-flow",
            title=f"`{method}` is a first factor, but this login flow asks for aal2",
            detail=(
                f"`{method}` cannot be submitted to an aal2 flow: it only answers login flows that ask for aal1. "
                "This flow was created with `?aal=aal2`, the step after a first-factor login, so no strategy "
                "takes the body (4010002)."
            ),
            fixes=(
                "For the first sign-in create a login flow without `aal` (it is aal1) and submit the password there.",
                'In the aal2 flow submit the second factor (`"method": "totp"` with `totp_code`, or '
                "`lookup_secret`), sending the session of the first-factor login.",
            ),
            entries=("ui.4010002", "topic.aal-step-up"),
            score=95,
        )
