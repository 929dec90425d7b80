"""schema-additional-properties: the form sends a trait that a closed traits schema does not list.

Why: with `"additionalProperties": false` on `traits`, JSON Schema validation refuses every trait the
schema does not define, so a registration or settings submit with an extra field (`traits.phone` from a
custom UI) fails with a generic validation message (4000001). The schema and the requests come from the
same thread.
Example: schema traits `email` only, `additionalProperties: false`; body `{"traits": {"email": …, "phone": …}}`.
Fix: add the field to the schema's traits, or stop sending it.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.registry import rule
from bot.analyze.schemakit import is_full, traits
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, IdentitySchema


@rule("schema-additional-properties")
def check(ev: Evidence, kb: KnowledgeBase):
    schemas = [s for s in ev.of(IdentitySchema) + ev.earlier(IdentitySchema) if is_full(s.schema)]
    if not schemas:
        return
    schema = schemas[0].schema
    node = schema["properties"]["traits"]
    if node.get("additionalProperties") is not False:
        return
    props, _ = traits(schema)
    for curl in ev.of(Curl) + ev.earlier(Curl):
        endpoint = curl_endpoint(curl)
        body = curl.body if isinstance(curl.body, dict) else {}
        sent = body.get("traits") if isinstance(body.get("traits"), dict) else {}
        extra = sorted(set(sent) - set(props))
        if not extra or (endpoint and endpoint.flow not in ("registration", "settings")):
            continue
        names = ", ".join(f"`{n}`" for n in extra)
        yield Finding(
            rule="schema-additional-properties",
            title=f"The request sends {names}, which the closed traits schema does not define",
            detail=(
                'The traits schema has `"additionalProperties": false`, so every trait it does not list is '
                "refused by validation (a generic 4000001 message on the form)."
            ),
            fixes=(f"Add {names} under `properties.traits.properties` in the identity schema, or stop sending it.",),
            entries=("topic.identity-schema-basics",),
            score=87,
        )
        return
