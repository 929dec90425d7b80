"""schema-identifiers: no trait is a login identifier, or every identifier trait is optional.

Why: a credential needs an identifier to log in with. Password registration fails with 4000009
"Could not find any login identifiers. Did you forget to set them?" when no trait with
`credentials.password.identifier: true` has a value (selfservice/strategy/password/registration.go);
code registration likewise without a filled `credentials.code.identifier` trait. A schema with no
identifier at all makes every sign-up fail; an identifier trait missing from `required` makes sign-up
fail for users who leave it empty.
Example: traits `email` with only `"verification": {"via": "email"}`.
Fix: mark the email (or username) trait `"credentials": {"password": {"identifier": true}}` and require it.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.schemakit import EXT, as_meant, extension, is_full, traits
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, IdentitySchema, Patch

IDENTIFIER_CREDENTIALS = ("password", "webauthn", "code")


def _identifiers(props: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, trait in props.items():
        creds = as_meant(extension(trait).get("credentials"), ("credentials",))
        for kind in IDENTIFIER_CREDENTIALS:
            if as_meant(creds.get(kind), ("credentials", kind)).get("identifier") is True:
                out.setdefault(kind, []).append(name)
    return out


@rule("schema-identifiers")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(IdentitySchema):
        props, required = traits(artifact.schema)
        if not props or not is_full(artifact.schema):
            continue  # a fragment may leave out the identifier trait: no claim about the whole schema
        target = ev.index_of(artifact)
        found = _identifiers(props)
        if not found:
            email = next((n for n, t in props.items() if isinstance(t, dict) and t.get("format") == "email"), None)
            pick = email or next((n for n in props if "user" in n.lower() or "email" in n.lower()), None)
            path = ("properties", "traits", "properties", pick, EXT, "credentials", "password") if pick else None
            yield Finding(
                rule="schema-identifiers",
                title="No trait is a login identifier",
                detail=(
                    "No trait has `credentials.password.identifier` (or `code` / `webauthn`) set to true, so "
                    'password sign-up fails with 4000009 "Could not find any login identifiers. Did you forget '
                    'to set them?" and nobody can sign in with a password.'
                ),
                fixes=(
                    f"Mark `{pick or 'the email trait'}` with "
                    '`"ory.sh/kratos": {"credentials": {"password": {"identifier": true}}}`.',
                ),
                entries=("ui.4000009",),
                score=93,
                patches=(Patch(target, "set", path, {"identifier": True}, "password identifier"),) if path else (),
            )
            continue
        password = found.get("password", [])
        if password and not any(name in required for name in password):
            names = ", ".join(f"`{n}`" for n in password)
            yield Finding(
                rule="schema-identifiers",
                title=f"The password identifier {names} is optional",
                detail=(
                    f"{names} is not in the traits' `required` list. A user who leaves it empty gets 4000009 "
                    '"Could not find any login identifiers" at password sign-up.'
                ),
                fixes=(f'Add `"{password[0]}"` to `required`.',),
                entries=("ui.4000009",),
                severity="warning",
                score=84,
                patches=(
                    Patch(
                        target,
                        "set",
                        ("properties", "traits", "required"),
                        list(required) + [password[0]],
                        f"{password[0]} is now required",
                    ),
                ),
            )
