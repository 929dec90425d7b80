"""malformed-flow-id: a `flow=` / `id=` value that is not a UUID.

Why: Kratos parses the flow id with a UUID parser that returns the nil UUID on any error
(selfservice/flow/flow.go GetFlowID), and then answers 400 "The flow query parameter is missing or
malformed." A truncated copy (35 characters, one hex digit lost) looks right at a glance.
Example: `?flow=2a2a701a-7a45-4df1-a710-816cc4f9efc` (last group has 11 hex digits, not 12).
Fix: copy the whole `id` of the flow (or use `ui.action` as the URL, which carries it).
Unresolved `{{templateVariables}}` are reported too, but only when the request failed with a 400 (or that
reason): in Postman or Insomnia the variable is normally filled in, and only an unset one reaches Kratos
literally.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, FlowId, KratosError, Patch

_GROUPS = (8, 4, 4, 4, 12)


def describe(value: str) -> str:
    groups = value.split("-")
    if len(groups) == 5 and all(re.fullmatch(r"[0-9a-fA-F]+", g) for g in groups):
        for index, (group, want) in enumerate(zip(groups, _GROUPS, strict=True)):
            if len(group) != want:
                which = ("first", "second", "third", "fourth", "last")[index]
                return (
                    f"it has {len(value)} characters instead of 36: the {which} group has {len(group)} hex "
                    f"digits, a UUID has {want} there"
                )
    if not re.fullmatch(r"[0-9a-fA-F-]+", value):
        return f"it has characters a UUID cannot have ({len(value)} characters in all)"
    return f"it has {len(value)} characters, a UUID has 36 (8-4-4-4-12 hex digits)"


_FAILED_400 = re.compile(r"\b400\b|missing or malformed|bad request", re.IGNORECASE)


def _failed_with_400(ev: Evidence) -> bool:
    if any(e.code == 400 or "malformed" in (e.reason or "") for e in ev.of(KratosError)):
        return True
    return bool(_FAILED_400.search(ev.prose))


@rule("malformed-flow-id")
def check(ev: Evidence, kb: KnowledgeBase):
    templates = [f for f in ev.of(FlowId) if f.template]
    if templates and _failed_with_400(ev):
        name = templates[0].value
        yield Finding(
            rule="malformed-flow-id",
            title=f"The flow id is the variable `{name}`: check that it is set when the request is sent",
            detail=(
                "If the tool that sends the request does not fill it in "
                "(unset, misspelled, or set in another environment), Kratos receives the literal text and "
                "answers 400 `The flow query parameter is missing or malformed.`"
            ),
            fixes=(
                f"Set `{name}` from the `id` of the response that created the flow (in Postman: a test script "
                "on that request), and check the sent URL in the tool's console.",
            ),
            entries=("reason.flow-param-missing-or-malformed",),
            severity="warning",
            score=80,
        )
    bad = [f for f in ev.of(FlowId) if not f.valid and not f.template]
    for flow_id in bad:
        yield Finding(
            rule="malformed-flow-id",
            title=f"The flow id `{flow_id.value}` is not a valid UUID",
            detail=(
                f"The flow id is malformed: {describe(flow_id.value)}. Kratos cannot parse it: as `?flow=` on a "
                "submit it answers 400 `The flow query parameter is missing or malformed.`; as `?id=` on "
                "`/self-service/<flow>/flows` the flow is not found."
            ),
            fixes=(
                "Copy the complete flow `id` from the response that created the flow (or submit to its "
                "`ui.action`, which already carries the id).",
            ),
            entries=("reason.flow-param-missing-or-malformed",),
            score=97,
            patches=tuple(
                Patch(
                    ev.index_of(curl),
                    "set",
                    ("query", "flow"),
                    "<full-36-character-flow-id>",
                    "flow id: the complete one",
                )
                for curl in ev.of(Curl)
                if f"flow={flow_id.value}" in curl.url
            ),
        )
