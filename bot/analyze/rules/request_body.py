"""request-body: the body of a self-service submit does not fit the `method` it names.

Why: every update endpoint (`POST /self-service/login`, `/registration`, `/settings`, `/recovery`,
`/verification`) takes one body shape per `method`, and a strategy ignores a body that is not its own:
`"method": "totp"` needs `totp_code` (not `code`), code login needs `identifier`, registration sends
`traits`, not `email` at the top level. The wrong shape ends in 4010002-style "no strategy" errors or
a 400 with the field missing. The shapes come from the API spec (knowledge/facts/endpoints.json).
Example: `{"method": "totp", "code": "123456"}` → the field is `totp_code`.
Fix: the corrected body, with the renamed, missing and unknown fields marked.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

# Not demanded from the body: browser flows need csrf_token (the CSRF rules say so), API flows do not.
NOT_REQUIRED_HERE = {"csrf_token"}
# Top-level fields that are almost always identity traits sent in the wrong place.
TRAIT_LIKE = {"email", "username", "phone", "name"}
# Field names users write for the one Kratos expects; used only when the expected field is allowed.
SYNONYMS = {
    "email": "identifier",
    "username": "identifier",
    "phone": "identifier",
    "user": "identifier",
    "otp": "code",
    "token": "code",
    "totp": "totp_code",
}


def _guess_method(variants: dict, present: set[str]) -> str | None:
    """The method whose fields the body fills best: all its required fields, the fewest unknown ones."""
    best, best_score = None, None
    for name, spec in variants.items():
        required = set(spec["required"]) - {"method"} - NOT_REQUIRED_HERE
        allowed = required | set(spec["optional"])
        if not required <= present:
            continue
        score = (len(present & allowed), -len(present - allowed - {"method"}))
        if best_score is None or score > best_score:
            best, best_score = name, score
    return best


@rule("request-body")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        if endpoint is None or endpoint.variant is not None or curl.method != "POST":
            continue
        row = kb.facts.endpoints.get(f"POST /self-service/{endpoint.flow}")
        if not row or "variants" not in row or not isinstance(curl.body, dict):
            continue
        variants = row["variants"]
        target = ev.index_of(curl)
        method = curl.body.get("method")
        if not isinstance(method, str) or not method:
            guess = _guess_method(variants, {k.split(".", 1)[0] for k in curl.body})
            yield Finding(
                rule="request-body",
                title=f"The {endpoint.flow} body has no `method`",
                detail=(
                    f"Kratos picks the strategy by `method` ({', '.join(f'`{m}`' for m in variants)}); "
                    "without it no strategy takes the request"
                    + (f'. Your fields fit `"method": "{guess}"`.' if guess else ".")
                ),
                fixes=(f'Add `"method": "{guess or "password"}"` to the body.',),
                score=90,
                patches=(Patch(target, "set", ("body", "method"), guess, f"method {guess}"),) if guess else (),
            )
            continue
        if method not in variants:
            best = process.extractOne(method, list(variants), scorer=fuzz.ratio, score_cutoff=60)
            yield Finding(
                rule="request-body",
                title=f'`"method": "{method}"` is not a {endpoint.flow} method',
                detail=f"The {endpoint.flow} flow accepts {', '.join(f'`{m}`' for m in variants)}.",
                fixes=(f'Use `"method": "{best[0]}"`.' if best else "Pick one of the methods above.",),
                score=88,
                patches=(Patch(target, "set", ("body", "method"), best[0], f"method {best[0]}"),) if best else (),
            )
            continue
        spec = variants[method]
        allowed = set(spec["required"]) | set(spec["optional"])
        present = {k.split(".", 1)[0] for k in curl.body}
        unknown = sorted(present - allowed)
        missing = sorted(set(spec["required"]) - present - NOT_REQUIRED_HERE)
        if not unknown and not missing:
            continue
        patches: list[Patch] = []
        lines: list[str] = []
        moved: dict = {}
        for field in unknown:
            synonym = SYNONYMS.get(field)
            if synonym in allowed and synonym not in present:
                missing = [m for m in missing if m != synonym]
                patches.append(Patch(target, "rename", ("body", field), synonym, f"`{field}` is `{synonym}`"))
                lines.append(f"`{field}` should be `{synonym}`")
                continue
            best = process.extractOne(field, missing or sorted(allowed), scorer=fuzz.WRatio, score_cutoff=70)
            if best and best[0] in missing:
                missing.remove(best[0])
                patches.append(Patch(target, "rename", ("body", field), best[0], f"`{field}` is `{best[0]}`"))
                lines.append(f"`{field}` should be `{best[0]}`")
            elif field in TRAIT_LIKE and "traits" in allowed and "traits" not in present:
                moved[field] = curl.body[field]
                patches.append(Patch(target, "remove", ("body", field), note=f"{field} goes into traits"))
                lines.append(f"`{field}` belongs inside `traits`")
                missing = [m for m in missing if m != "traits"]
            else:
                patches.append(Patch(target, "remove", ("body", field), note=f"`{field}` is not a {method} field"))
                lines.append(f"`{field}` is not a field of `{method}`")
        if moved:
            note = "traits" + (" (settings replaces all traits: send every one)" if endpoint.flow == "settings" else "")
            patches.append(Patch(target, "set", ("body", "traits"), moved, note))
        for field in missing:
            patches.append(Patch(target, "set", ("body", field), f"<{field}>", f"`{field}` is required"))
            lines.append(f"`{field}` is required")
        yield Finding(
            rule="request-body",
            title=f'The body does not fit `"method": "{method}"` of the {endpoint.flow} flow',
            detail=(
                "; ".join(lines)
                + ". Fields of this method: "
                + ", ".join(f"`{f}`" for f in spec["required"] + spec["optional"])
                + "."
            ),
            fixes=("Send the fields of this method only (see the corrected request).",),
            score=90,
            patches=tuple(patches),
        )
