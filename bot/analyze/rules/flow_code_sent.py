"""flow-code-sent: a flow in state `sent_email` after a code request: this 400 is the normal answer.

Why: when the code method sends a one-time code (registration, login, recovery, verification), Kratos
answers the JSON submit with the flow itself, `state: sent_email` and an info message (1040005,
1010014, 1060003, 1080003). For registration and login that comes with HTTP 400
(selfservice/strategy/code/strategy_registration.go), which looks like an error but means "code sent".
Example: POST `{"method": "code", "traits": {…}}` → 400 with `"state": "sent_email"`.
Fix: render the flow again and POST the code: `{"method": "code", "code": "<code>", "csrf_token": …}`,
plus the same `traits` again for registration (the form carries them as hidden `traits.*` nodes).
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.flowkit import json_body
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, Flow

_CODE_FIELD = {"login": "identifier", "registration": "traits"}


@rule("flow-code-sent")
def check(ev: Evidence, kb: KnowledgeBase):
    for flow in ev.of(Flow):
        if flow.state != "sent_email":
            continue
        kind = flow.flow_type or "registration"
        fields = {"code": "<code from the email>"}
        extra = ""
        if kind == "registration":
            extra = " Send the same `traits` again with the code (the form keeps them as hidden `traits.*` nodes)."
        elif kind == "login":
            fields["identifier"] = "<the same identifier>"
        body = json_body("code", fields, "<csrf_token>")
        if kind == "registration":
            body = body[:-1] + ', "traits": {…the same traits…}}'
        yield Finding(
            rule="flow-code-sent",
            title=f"Not an error: `state: sent_email` means the {kind} code was sent",
            detail=(
                f"The code method answers the first submit with the flow itself in state `sent_email` (for "
                f"registration and login with HTTP 400). That is expected: the user now types the code.{extra}"
            ),
            fixes=(
                f"POST `{body}` to the same `ui.action`"
                + (f" (`/self-service/{kind}?flow={flow.id}`)" if flow.id else "")
                + ".",
            ),
            entries=("topic.resend-code",),
            severity="info",
            score=93,
        )
