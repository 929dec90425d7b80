"""spa-json-no-redirect: an SPA submits a browser flow as JSON and waits for the `return_to` redirect.

Why: Kratos redirects (303) only requests that ask for HTML. A browser flow submitted with JSON gets a
200 with the session and, in `continue_with`, an item `redirect_browser_to` holding the `return_to`
target (selfservice/flow/login/hook.go:173, registration/hook.go:248; since v1.3.0, commit 99c945c92): the
app has to navigate there itself. A login that needs aal2 answers 422 `browser_location_change_required`.
Example: login flow created with `?return_to=http://localhost:3000/dashboard`, submitted with fetch → 200,
"kratos never redirects".
Fix: read `continue_with` and set `window.location` to the `redirect_browser_to` item.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Snippet

_NO_REDIRECT = re.compile(r"(?i)(never|not|n't|no)\s+(?:\w+\s+){0,3}redirect|redirect\w*\s+(?:\w+\s+){0,3}(never|not)")


@rule("spa-json-no-redirect")
def check(ev: Evidence, kb: KnowledgeBase):
    if not _NO_REDIRECT.search(ev.prose):
        return
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        if endpoint is None or endpoint.variant != "browser" or "return_to" not in endpoint.query:
            continue
        target = endpoint.query["return_to"]
        code = "\n".join(
            (
                'const res = await fetch(flow.ui.action, {method: "POST", credentials: "include",',
                '  headers: {"Content-Type": "application/json", Accept: "application/json"}, body});',
                "const result = await res.json();",
                'const next = (result.continue_with || []).find(c => c.action === "redirect_browser_to");',
                f'window.location.href = next ? next.redirect_browser_to : "{target}";',
            )
        )
        yield Finding(
            rule="spa-json-no-redirect",
            title="A JSON submit is never redirected: the `return_to` target comes back in `continue_with`",
            detail=(
                "Kratos answers a browser flow submitted as JSON with 200 and the session instead of a 303. "
                "Since v1.3.0 the `return_to` target comes back as the `redirect_browser_to` item of "
                "`continue_with`; before that there is no such item and the SPA uses its own target. Either way "
                "the SPA navigates itself."
            ),
            fixes=("After the 200, read `continue_with` and set `window.location` to the `redirect_browser_to` item.",),
            entries=("topic.default-browser-return-url",),
            snippet=Snippet("js", code, "after the login submit"),
            score=92,
        )
        return
