"""schema-code-identifier: problems with `credentials.code` identifiers in an identity schema.

Why: for one-time-code login Kratos must deliver the code, so a trait marked
`"code": {"identifier": true}` also needs `"via": "email"` or `"via": "sms"`. Without it Kratos starts,
but validating any identity that fills the trait (registration, settings, admin create/update) fails
with `channel type "" must be one of email, sms` (identity/extension_credentials.go).
With `via: email` on a trait whose `format` is not `email` (a username) Kratos skips address
validation and would send the code to whatever the user typed. And when the only code identifier trait
is optional, identities without it cannot sign in with a code (4000035). A schema with no code
identifier at all, pasted where code login fails (4000035 in the thread, or the user says so), is the
cause itself: no identity has a `code` credential.
Example: `"username": {"ory.sh/kratos": {"credentials": {"code": {"identifier": true}}}}`.
Fix: put the code identifier on the email (`via: email`) or phone (`via: sms`) trait and let users type
that address as `identifier`; make that trait required if every user must be able to use code login.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.schemakit import EXT, code_config, trait_root
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, IdentitySchema, Patch, UiMessage

_ADDRESS_FORMATS = {"email": "email", "tel": "sms"}
_WANTS = re.compile(r"(?i)\b(user ?name|login|nick|handle)\b")
_CODE_LOGIN = re.compile(r"(?i)\b(?:sign|log)\s*-?\s*in (?:with|by|via) (?:a |one-time |an? email )?code|code login")


def _code_login_fails(ev: Evidence) -> bool:
    if any(m.id == 4000035 for m in ev.of(UiMessage) + ev.earlier(UiMessage)):
        return True
    return any(_CODE_LOGIN.search(t) for t in [ev.prose] + [t.prose for t in ev.history])


def _wanted_trait(ev: Evidence, props: dict) -> str | None:
    """A non-address trait the user said they want to sign in with by code (this turn or earlier)."""
    texts = [ev.prose] + [t.prose for t in reversed(ev.history)]
    for text in texts:
        if "code" not in text.lower():
            continue
        for name in props:
            if name.lower() in text.lower() and props[name].get("format") not in _ADDRESS_FORMATS:
                return name
        if _WANTS.search(text):
            for name, trait in props.items():
                if "user" in name.lower() and trait.get("format") not in _ADDRESS_FORMATS:
                    return name
    return None


@rule("schema-code-identifier")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(IdentitySchema):
        props, required, prefix = trait_root(artifact.schema)
        full = bool(prefix)
        if not props:
            continue
        target = ev.index_of(artifact)
        findings: list[Finding] = []
        code_traits = [
            (n, t, code_config(t))
            for n, t in props.items()
            if code_config(t) and code_config(t).get("identifier") is True
        ]
        for name, trait, code in code_traits:
            via = code.get("via")
            fmt = trait.get("format")
            path = prefix + (name, EXT, "credentials", "code")
            if via not in ("email", "sms"):
                fixed_via = _ADDRESS_FORMATS.get(fmt)
                findings.append(
                    Finding(
                        rule="schema-code-identifier",
                        title=f"`{name}` is a code identifier without a valid `via`",
                        detail=(
                            (
                                f'`{name}` has `"code": {{"identifier": true}}` but no `via`. Kratos starts, but every '
                                "registration or update that fills this trait fails with "
                                '`channel type "" must be one of email, sms`: it needs to know where to send the code.'
                            )
                            if via is None
                            else (
                                f'`{name}` has `"via": {via!r}`. The extension only accepts `email` or `sms`, so '
                                "Kratos rejects the identity schema when it loads it and does not start."
                            )
                        ),
                        fixes=(
                            (
                                f'Add `"via": "{fixed_via}"`.'
                                if fixed_via
                                else f"A `{name}` cannot receive a code: move the code identifier to the email trait "
                                f'(`"via": "email"`) or a phone trait (`"via": "sms"`).'
                            ),
                        ),
                        entries=("topic.code-login-identifier",),
                        patches=(
                            Patch(target, "set", path, {"identifier": True, "via": fixed_via}, f"added via {fixed_via}")
                            if fixed_via
                            else Patch(target, "remove", path, note=f"{name} cannot receive a code"),
                        ),
                    )
                )
            elif via == "email" and fmt not in (None, "email"):
                findings.append(
                    Finding(
                        rule="schema-code-identifier",
                        title=f"`{name}` sends codes by email but its format is `{fmt}`",
                        detail=(
                            f"With `via: email` on a `{fmt}` trait Kratos does not check that the value is an email "
                            "address, and mails the code to whatever the user typed."
                        ),
                        fixes=('Keep the code identifier on a trait with `"format": "email"`.',),
                        entries=("topic.code-login-identifier",),
                        severity="warning",
                        score=80,
                    )
                )
        address_traits = [n for n, t in props.items() if isinstance(t, dict) and t.get("format") in _ADDRESS_FORMATS]
        if not code_traits and address_traits and _code_login_fails(ev):
            name = address_traits[0]
            via = _ADDRESS_FORMATS[props[name]["format"]]
            ext = props[name].get(EXT) if isinstance(props[name].get(EXT), dict) else {}
            creds = dict(ext.get("credentials") or {}) if isinstance(ext.get("credentials"), dict) else {}
            creds["code"] = {"identifier": True, "via": via}
            findings.append(
                Finding(
                    rule="schema-code-identifier",
                    title="No trait in this schema is a code identifier",
                    detail=(
                        "Kratos gives an identity a `code` credential only for traits marked "
                        '`"code": {"identifier": true, "via": …}`. This schema has none, so no identity can sign in '
                        'with a code and Kratos answers 4000035 ("This account does not exist or has not setup sign '
                        'in with code.").'
                    ),
                    fixes=(
                        f'Add `"code": {{"identifier": true, "via": "{via}"}}` to `credentials` of `{name}`.',
                        "Identities created before the change get the code credential the next time they are "
                        "updated (settings, or the admin API).",
                    ),
                    entries=("topic.code-login-identifier", "ui.4000035"),
                    score=93,
                    patches=(
                        Patch(target, "set", prefix + (name, EXT, "credentials"), creds, f"{name}: code identifier"),
                    ),
                )
            )
        wanted = _wanted_trait(ev, props)
        if wanted and not any(name == wanted for name, _, _ in code_traits):
            address = next((n for n, _, c in code_traits if c.get("via") in ("email", "sms")), None)
            findings.append(
                Finding(
                    rule="schema-code-identifier",
                    title=f"`{wanted}` cannot be a code identifier: a code has to be delivered somewhere",
                    detail=(
                        f"Kratos sends the one-time code to the trait marked as code identifier, using its `via` "
                        f"(email or sms). A `{wanted}` is not an address, so it cannot carry `via`"
                        + (f"; in this schema `{address}` is the code identifier." if address else ".")
                    ),
                    fixes=(
                        (
                            f"Users sign in with code by typing their {address} as `identifier` "
                            f"(`{wanted}` stays the password identifier).",
                        )
                        if address
                        else ('Add `"code": {"identifier": true, "via": "email"}` to the email trait.',)
                    ),
                    entries=("topic.code-login-identifier", "ui.4000035"),
                    score=92,
                )
            )
        optional = [n for n, _, c in code_traits if c.get("via") in ("email", "sms") and n not in required]
        if (
            full
            and optional
            and len(optional) == len([1 for _, _, c in code_traits if c.get("via") in ("email", "sms")])
        ):
            names = ", ".join(f"`{n}`" for n in optional)
            new_required = list(required) + [optional[0]]
            findings.append(
                Finding(
                    rule="schema-code-identifier",
                    title=f"{names} is the only code identifier and it is optional",
                    detail=(
                        f"{names} is not in the traits' `required` list, so identities without it have no `code` "
                        'credential and get 4000035 ("This account does not exist or has not setup sign in with '
                        'code.") when they try code login.'
                    ),
                    fixes=(
                        f'If every user must be able to sign in with a code, add `"{optional[0]}"` to `required`.',
                        "If it stays optional, offer those users another method (password) and send the address, "
                        "never the username, as `identifier` for code login.",
                    ),
                    entries=("ui.4000035",),
                    severity="warning",
                    score=85,
                    patches=(
                        Patch(
                            target,
                            "set",
                            ("properties", "traits", "required"),
                            new_required,
                            f"{optional[0]} is now required",
                        ),
                    ),
                )
            )
        if not findings:
            continue
        yield from findings
