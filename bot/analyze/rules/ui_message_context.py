"""ui-message-context: name the value a UI message's `context` says Kratos rejected.

Why: validation messages carry the offending value or limits in `context` (`value`, `property`,
`expected`, `actual`, `min_length`, …). Quoting it back ties the answer to what the user actually sent,
e.g. an email without `@` for 4000040 "Enter a valid email address".
Example: `{"id": 4000040, "context": {"value": "jane.doe.example.com"}}`.
Fix: the entry's fix, for the value named.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, UiMessage

# Context keys that name what the user sent or the limit it broke (timestamps and ids say nothing new).
_USEFUL = (
    "value",
    "property",
    "name",
    "expected",
    "actual",
    "pattern",
    "min_length",
    "max_length",
    "min",
    "max",
    "minimum",
    "maximum",
    "reason",
    "identifier",
    "provider",
)
_HINTS = {
    4000040: lambda v: " It has no `@`." if "@" not in v else "",
}


@rule("ui-message-context")
def check(ev: Evidence, kb: KnowledgeBase):
    for message in ev.of(UiMessage):
        useful = tuple((k, v) for k, v in message.context if k in _USEFUL)
        if not useful or message.id not in kb.by_ui_id:
            continue
        context = dict(useful)
        field = message.node or context.get("property") or context.get("name") or ""
        shown = ", ".join(f"`{k}`: `{v}`" for k, v in useful[:4])
        value = context.get("value", "")
        hint = _HINTS.get(message.id, lambda v: "")(value) if value else ""
        # No entry link: this only names the value; the message's own entry still gives its full advice.
        yield Finding(
            rule="ui-message-context",
            title=f"{message.id} on {('`' + field + '`') if field else 'the form'}: {shown}",
            detail=f"Kratos attached {shown} to this message.{hint}",
            severity="info",
            score=60,
        )
