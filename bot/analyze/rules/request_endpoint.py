"""request-endpoint: the request's method and path are not a Kratos API endpoint.

Why: a wrong path or method gets 404 or 405 from Kratos (or from a proxy in front), which users read
as "Kratos is broken". Typical mistakes: POST to `/self-service/login/browser` (that endpoint only
creates a flow, with GET; the form goes to `/self-service/login?flow=…`), `GET /self-service/login/flows`
without `?id=`, or an admin path without the `/admin` prefix.
Example: `curl -X POST http://127.0.0.1:4433/self-service/login/browser -d '{…}'`.
Fix: the endpoint it most likely meant, from the API's own list of operations.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.requestkit import api_request, endpoint_key, nearest, paths_for
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

# Submitting to the create endpoint is the most common mistake; say exactly what to do instead.
_CREATE = ("/browser", "/api")


@rule("request-endpoint")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        req = api_request(curl.method, curl.url)
        if req is None or "{{" in req.path or endpoint_key(kb.facts, req) is not None:
            continue
        allowed = paths_for(kb.facts, req.path)
        target = ev.index_of(curl)
        if allowed:
            title = f"`{req.method} {req.path}` does not exist: this path takes {', '.join(allowed)}"
            detail = f"Kratos serves `{req.path}` only with {' or '.join(allowed)}."
            fixes: list[str] = []
            patches: tuple[Patch, ...] = ()
            if req.path.endswith(_CREATE) and req.method == "POST" and req.path.startswith("/self-service/"):
                flow = req.path.split("/")[2]
                detail += (
                    f" `{req.path}` only creates the flow (GET); the form is submitted to "
                    f"`/self-service/{flow}?flow=<id>`, the flow's `ui.action`."
                )
                fixes.append(
                    f"Create the flow with `GET {req.path}`, then POST the body to `ui.action` "
                    f"(`/self-service/{flow}?flow=<id>`)."
                )
                patches = (
                    Patch(
                        target,
                        "set",
                        ("url",),
                        f"{req.prefix}/self-service/{flow}?flow=<flow id>",
                        f"submit to /self-service/{flow}?flow=…",
                    ),
                )
            else:
                fixes.append(f"Use {' or '.join(allowed)} for `{req.path}`.")
        else:
            guess = nearest(kb.facts, req)
            title = f"`{req.method} {req.path}` is not a Kratos API endpoint"
            detail = "Kratos has no such endpoint, so the request gets 404 (or 405)."
            fixes = [f"Did you mean `{guess}`?"] if guess else ["Check the path against the API reference."]
            patches = ()
            if guess and guess.split(" ", 1)[0] == req.method and "{" not in guess:
                patches = (
                    Patch(
                        target,
                        "set",
                        ("url",),
                        req.prefix + guess.split(" ", 1)[1] + (f"?{req.query}" if req.query else ""),
                        f"path {guess.split(' ', 1)[1]}",
                    ),
                )
        yield Finding(
            rule="request-endpoint",
            title=title,
            detail=detail,
            fixes=tuple(fixes),
            entries=("topic.browser-vs-api-flows",) if req.path.startswith("/self-service/") else (),
            score=88,
            patches=patches,
        )
