"""code-registration-traits: the code submit of a code registration lacks or changes the traits.

Why: a code registration is two submits of the same flow. The second (with `code`) must carry the same
`traits` as the first: without them Kratos answers 4000002 "Property traits is missing."; with any
difference, even in letter case, 4000036 "The provided traits do not match the traits previously
associated with this flow." (selfservice/strategy/code/strategy_registration.go compares them).
Example: first `{"traits": {"email": "jane@example.com"}}`, then
`{"code": "…", "traits": {"email": "Jane@example.com"}}`.
Fix: resend the traits exactly as in the first submit (the flow's hidden `traits.*` nodes hold them).
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, body_field, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, UiMessage


def _flat(traits: object, prefix: str = "traits") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(traits, dict):
        for key, value in traits.items():
            out.update(_flat(value, f"{prefix}.{key}") if isinstance(value, dict) else {f"{prefix}.{key}": str(value)})
    return out


def _first_traits(ev: Evidence) -> dict | None:
    """Traits of the earlier code registration submit (the one without `code`)."""
    for curl in ev.of(Curl) + ev.earlier(Curl):
        endpoint = curl_endpoint(curl)
        if (
            endpoint
            and endpoint.flow == "registration"
            and body_field(curl, "method") == "code"
            and isinstance(curl.body, dict)
            and "code" not in curl.body
            and isinstance(curl.body.get("traits"), dict)
        ):
            return curl.body["traits"]
    return None


@rule("code-registration-traits")
def check(ev: Evidence, kb: KnowledgeBase):
    ids = {m.id for m in ev.of(UiMessage)}
    code_submits = [
        c for c in ev.of(Curl) if isinstance(c.body, dict) and "code" in c.body and body_field(c, "method") == "code"
    ]
    first = _first_traits(ev)
    if first is None or not (ids & {4000002, 4000036} or code_submits):
        return
    bodies = code_submits + [c for c in ev.of(Curl) if isinstance(c.body, dict) and "traits" in c.body]
    current = next((c.body.get("traits") for c in bodies if isinstance(c.body.get("traits"), dict)), None)
    if current is None or 4000002 in ids:
        yield Finding(
            rule="code-registration-traits",
            title="Send the traits again with the code",
            detail=(
                "A code registration is submitted twice to the same flow; the submit with `code` must carry "
                "the same `traits` as the first one (the form keeps them as hidden `traits.*` nodes)."
            ),
            fixes=(
                'POST `{"method": "code", "code": "<code>", "csrf_token": …, "traits": '
                + str(first).replace("'", '"')
                + "}` — the traits unchanged.",
            ),
            entries=("ui.4000002",),
            score=92,
        )
        return
    before, after = _flat(first), _flat(current)
    changed = [
        (k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)
    ]
    if not changed:
        return
    lines = "; ".join(f"`{k}` was `{a}`, now `{b}`" for k, a, b in changed[:4])
    yield Finding(
        rule="code-registration-traits",
        title="The traits sent with the code differ from the first submit",
        detail=(f"{lines}. Kratos compares them exactly (letter case included) and answers 4000036."),
        fixes=(
            "Send the traits exactly as in the first submit: "
            + ", ".join(f"`{k}: {a}`" for k, a, _ in changed[:4])
            + ".",
        ),
        entries=("ui.4000036",),
        score=95,
    )
