"""spa-cross-origin: a browser app on another origin than Kratos loses its cookies (CORS, credentials).

Why: an SPA on `http://localhost:3000` calling Kratos on `http://localhost:4433` is cross-origin. The
browser only sends and stores Kratos' cookies (CSRF and `ory_kratos_session`) when the request uses
`credentials: "include"` (axios `withCredentials: true`) and Kratos answers with CORS headers for that
origin with credentials (`serve.public.cors.enabled: true`, the origin in `allowed_origins`; CORS is off
by default). Without both, flows fail with `security_csrf_violation` ("Cookie Header is empty") or
`session_inactive`.
Example: `fetch('http://localhost:4433/self-service/settings/browser')` from `http://localhost:3000`.
Fix: credentials on every call to Kratos, and CORS for the app's origin.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.analyze.configkit import get
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.requestkit import api_request
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, KratosConfig, KratosError, Snippet, Url

_ORIGIN = re.compile(r"\bhttps?://[a-z0-9.-]+(?::\d{2,5})?", re.IGNORECASE)
_SPA = re.compile(r"(?i)\b(react|vue|angular|svelte|next\.?js|nuxt|spa|single.page|fetch|axios|ajax|frontend)\b")
_ORY_HOST = re.compile(r"://(?:[a-z0-9-]+\.)*ory\.(?:sh|com|dev)\b")
_SYMPTOM = re.compile(
    r"(?i)\b(cors|cookies?|credentials|csrf|401|403|unauthori[sz]ed|no (active )?session|"
    r"session_inactive|logged out|not logged in|preflight)\b"
)
_ERRORS = {"session_inactive", "security_csrf_violation"}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@rule("spa-cross-origin")
def check(ev: Evidence, kb: KnowledgeBase):
    texts = [ev.prose] + [t.prose for t in reversed(ev.history)]
    requests = ev.of(Curl) + ev.earlier(Curl)
    js = [c for c in requests if c.client in ("fetch", "axios")]
    errors = {e.id for e in ev.of(KratosError)}
    # Only a cookie symptom makes this the cause: a fetch that got its 200 has other troubles.
    symptom = bool(errors & _ERRORS) or any(_SYMPTOM.search(t) for t in texts[:2])
    if not symptom or not (js or any(_SPA.search(t) for t in texts)):
        return
    kratos = {_origin(c.url) for c in requests if api_request(c.method, c.url) and c.url.startswith("http")}
    for config in ev.of(KratosConfig) + ev.earlier(KratosConfig):
        base = str(get(config.config, "serve.public.base_url") or "")
        if base.startswith("http"):
            kratos.add(_origin(base))
    origins = [o.lower() for t in texts for o in _ORIGIN.findall(t)]
    origins += [
        _origin(u.url)
        for u in ev.of(Url) + ev.earlier(Url)
        if u.url.startswith("http") and not api_request("GET", u.url)
    ]
    kratos |= {o for o in origins if o.endswith((":4433", ":4434"))}
    # Ory's own hosts show up in error `details.docs` links; they are never the user's app.
    apps = [o for o in dict.fromkeys(origins) if o not in kratos and not _ORY_HOST.search(o)]
    no_credentials = [c for c in js if not c.credentials]
    if not apps and not no_credentials:
        return
    app = apps[0] if apps else "<your app's origin>"
    fixes = []
    if no_credentials or not js:
        fixes.append(
            'Send cookies on every call to Kratos: `credentials: "include"` in fetch (axios: `withCredentials: true`).'
        )
    fixes.append(
        f"Enable CORS on the public API for `{app}`: `serve.public.cors.enabled: true`, "
        f"`serve.public.cors.allowed_origins: [{app}]`, `serve.public.cors.allow_credentials: true`."
    )
    fixes.append(
        "Use the same host name for app and Kratos (`localhost` everywhere, not `127.0.0.1` in one place): "
        "cookies are per host."
    )
    config = (
        "serve:\n  public:\n    cors:\n      enabled: true\n      allowed_origins:\n"
        f"        - {app}\n      allow_credentials: true"
    )
    yield Finding(
        rule="spa-cross-origin",
        title=f"Cross-origin app ({app} → {', '.join(sorted(kratos)) or 'Kratos'}): cookies need credentials and CORS",
        detail=(
            "The browser sends and keeps Kratos' CSRF and session cookies only if each request uses "
            '`credentials: "include"` and Kratos allows that origin with credentials. CORS is off by default.'
            + (" The `fetch` here has no `credentials`." if no_credentials else "")
        ),
        fixes=tuple(fixes),
        entries=("topic.cors-public-api",),
        snippet=Snippet("yaml", config, "kratos.yml"),
        config_keys=(
            "serve.public.cors.enabled",
            "serve.public.cors.allowed_origins",
            "serve.public.cors.allow_credentials",
        ),
        score=91,
    )
