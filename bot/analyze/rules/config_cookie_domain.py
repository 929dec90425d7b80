"""config-cookie-domain: the cookie domain does not cover the host Kratos is served on.

Why: a browser only stores a cookie whose `Domain` matches the host that set it. With `cookies.domain`
(CSRF and continuity cookies) or `session.cookie.domain` (the session) set to a domain that is not the
host of `serve.public.base_url` or one of its parents, browsers drop the cookies and every browser flow
fails with a CSRF error or "no session".
Example: `serve.public.base_url: https://auth.example.com/` and `session.cookie.domain: example.org`.
Fix: set the domain to the base URL's host or a parent of it (`example.com` covers `auth.example.com`).
"""

from __future__ import annotations

from bot.analyze.configkit import get, host_of
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig


def common_parent(domain: str, host: str) -> str | None:
    """The longest parent domain of both (at least two labels): `app.example.com`, `auth.example.com` -> example.com."""
    a, b = domain.lower().lstrip(".").split("."), host.split(".")
    shared: list[str] = []
    while a and b and a[-1] == b[-1]:
        shared.insert(0, a.pop())
        b.pop()
    return ".".join(shared) if len(shared) >= 2 else None


def covers(domain: str, host: str) -> bool:
    domain = domain.lower().lstrip(".")
    return host == domain or host.endswith("." + domain)


@rule("config-cookie-domain")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        host = host_of(str(get(artifact.config, "serve.public.base_url") or ""))
        if not host:
            continue
        for key in ("cookies.domain", "session.cookie.domain"):
            domain = get(artifact.config, key)
            if not isinstance(domain, str) or not domain or covers(domain, host):
                continue
            parent = common_parent(domain, host)
            advice = (
                f"Set `{key}: {parent}`: a parent of both `{host}` and `{domain.lstrip('.')}`, so the cookie "
                "reaches the app and Kratos."
                if parent
                else f"Set `{key}` to `{host}` or a parent domain of it (`serve.public.base_url` is `{host}`)."
            )
            yield Finding(
                rule="config-cookie-domain",
                title=f"`{key}: {domain}` does not cover the Kratos host `{host}`",
                detail=(
                    f"Browsers refuse a cookie for `{domain}` set by `{host}`, so the "
                    + ("session cookie" if key.startswith("session") else "CSRF cookie")
                    + " is never stored and browser flows fail."
                ),
                fixes=(advice,),
                entries=("topic.cookie-domain-subdomains",),
                config_keys=(key, "serve.public.base_url"),
                score=86,
            )
