"""live-secrets: a session cookie, session token, API key, bearer token or config secret in a shared message.

Why: anyone who can read the channel can use a live session or key until it expires or is revoked.
The reply masks every secret it quotes; this rule tells the user to revoke what they pasted.
Example: `cookie: ory_kratos_session=MTc0…`.
Fix: revoke the session (log out, or `DELETE /admin/sessions/{id}`), rotate API keys and config secrets
(`secrets.cookie` and `secrets.cipher` take a list: the first value signs, the others still verify), change
passwords.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.extract.secrets import LIVE_KINDS
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, Secret

_NAMES = {
    "session_cookie": "session cookie",
    "session_token": "session token",
    "access_token": "access token",
    "refresh_token": "refresh token",
    "api_key": "API key",
    "bearer": "bearer token",
    "jwt": "JWT",
    "password": "password",
    "csrf_cookie": "CSRF cookie",
    "csrf_token": "CSRF token",
    "private_key": "private key",
}
# Config secrets are named by their key: `secrets.cookie`, `...providers[].client_secret`.
_ROTATE = {"config_secret", "private_key"}


def _short(key: str) -> str:
    parts = key.split(".")
    return key if len(parts) <= 3 else "…" + ".".join(parts[-3:])


@rule("live-secrets")
def check(ev: Evidence, kb: KnowledgeBase):
    if ev.carried:
        return
    secrets = ev.of(Secret)
    live = [s for s in secrets if s.secret_kind in LIVE_KINDS]
    passwords = [s for s in secrets if s.secret_kind == "password"]
    rotate = [s for s in secrets if s.secret_kind in _ROTATE]
    if not live and not passwords and not rotate:
        return
    what = sorted(
        {
            f"{_NAMES[s.secret_kind]} (`{s.name}`)" if s.name != s.secret_kind else _NAMES[s.secret_kind]
            for s in live + passwords
        }
    ) + sorted({f"`{_short(s.name)}`" if s.secret_kind == "config_secret" else _NAMES[s.secret_kind] for s in rotate})
    fixes = []
    if live:
        fixes.append(
            "Revoke it now: log that session out, or as admin `DELETE /admin/sessions/{id}` "
            "(all of a user's: `DELETE /admin/identities/{id}/sessions`); rotate any API key."
        )
    if passwords:
        fixes.append("If the password is real, change it.")
    if rotate:
        fix = "Rotate the secrets and keys you pasted: renew client secrets and API keys where they were issued."
        if any(s.name.startswith("secrets") or s.name.startswith("SECRETS_") for s in rotate):
            fix += (
                " In `secrets.*` put a new value first and keep the old one after it: Kratos signs with the first "
                "and still accepts the others, so sessions survive the change."
            )
        fixes.append(fix)
    if live:
        fixes.append("Next time paste `ory_kratos_session=<redacted>`: the value is never needed to debug.")
        title = "You pasted a live secret: " + ", ".join(what)
        detail = "Anyone who can read the message can use it until it expires or is revoked. I masked it in this reply."
    elif passwords and not rotate:
        title = "Your paste contains a password"
        detail = "I masked it in this reply."
    else:
        title = "Your paste contains secrets: " + ", ".join(what[:6])
        detail = "I masked them in this reply."
    yield Finding(
        rule="live-secrets",
        title=title,
        detail=detail,
        fixes=tuple(fixes),
        severity="error",
        score=60,
    )
