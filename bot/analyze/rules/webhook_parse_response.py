"""webhook-parse-response: a `web_hook` with `response.parse: true` whose answer Kratos does not apply.

Why: a parsing webhook's 200 answer is read only from a top-level `identity` object
(selfservice/hook/web_hook.go parseWebhookResponse): `{"traits": …}` at the top level is ignored
silently. The traits under `identity` then replace all traits (not merged), and the identity is validated against
the identity schema again, so a new trait must exist in the schema.
Example: hook config with `response: {parse: true}`, webhook answering `{"traits": {"customer_id": "c1"}}`.
Fix: answer `{"identity": {"traits": {…all traits…}}}` and define new traits in the schema.
Fires only when the user says the returned data was not applied (traits not saved, ignored, …).
"""

from __future__ import annotations

import json
import re

from bot.analyze.configkit import walk
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Snippet


def _parsing_hook(kb: KnowledgeBase, config: dict) -> bool:
    return any(node.path[-2:] == ("response", "parse") and node.value is True for node in walk(kb.facts, config))


# The symptom: what the webhook returned did not end up on the identity.
_NOT_APPLIED = re.compile(
    r"(?i)\b(traits?|not (?:saved|updated|applied|stored|set)|ignor\w*|no effect|never (?:saved|set))\b"
)


@rule("webhook-parse-response")
def check(ev: Evidence, kb: KnowledgeBase):
    if not _NOT_APPLIED.search(ev.prose):
        return
    if not any(_parsing_hook(kb, c.config) for c in ev.of(KratosConfig) + ev.earlier(KratosConfig)):
        return
    example = {"identity": {"traits": {"email": "jane@example.com", "customer_id": "c1"}}}
    yield Finding(
        rule="webhook-parse-response",
        title='A parsing webhook\'s answer must be `{"identity": {"traits": …}}`',
        detail=(
            "With `response.parse: true` Kratos reads a 200 answer only from a top-level `identity` object; "
            '`{"traits": …}` at the top level is ignored without an error. The returned traits '
            "replace all traits (send the whole object, not just the new field), and the identity is validated "
            "against the identity schema again, so a new trait such as `customer_id` must be defined there."
        ),
        fixes=(
            'Answer 200 with `{"identity": {"traits": {…all traits…}}}`.',
            "Add the new trait to `properties.traits.properties` of the identity schema.",
        ),
        entries=("topic.webhook-modify-or-block",),
        snippet=Snippet("json", json.dumps(example, indent=2), "the webhook's 200 answer"),
        score=90,
    )
