"""browser-flow-non-browser-client: curl (a script, Postman, a server) drives a `/browser` flow without cookies.

Why: `/self-service/<flow>/browser` creates a browser flow. It sets a CSRF cookie and expects that
cookie plus the `csrf_token` from `ui.nodes` on submit, and it answers JSON clients with 422
`browser_location_change_required` where a browser would follow a redirect. curl keeps no cookies
unless told to (`-c`/`-b`). A command that already sends cookies (`-c`/`-b`, `--cookie-jar`, `--cookie`,
a `Cookie:` header) is how a browser flow is tested with curl, so it is left alone.
Example: `curl '{{host}}/self-service/login/browser?aal=aal1' -H 'accept: application/json'`.
Fix: for scripts, mobile apps and servers use `/self-service/<flow>/api` (no cookies, no CSRF, JSON
answers, a `session_token`); to test a browser flow with curl, keep a cookie jar and send csrf_token.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.flowkit import base_url, curl_lines, json_body, submit_body
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Snippet


@rule("browser-flow-non-browser-client")
def check(ev: Evidence, kb: KnowledgeBase):
    seen: set[str] = set()
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        # Only clients that keep no cookies by themselves; an SPA's fetch is a browser client.
        if (
            endpoint is None
            or endpoint.variant != "browser"
            or endpoint.flow in seen
            or curl.client not in ("curl", "http")
            or curl.cookie_jar
            or curl.cookies
        ):
            continue
        flow = endpoint.flow or "login"
        seen.add(flow)
        base = base_url(curl)
        query = "&".join(f"{k}={v}" for k, v in endpoint.query.items())
        create = f"{base}/self-service/{flow}/browser" + (f"?{query}" if query else "")
        method, fields = submit_body(flow, endpoint.query.get("aal"))
        browser = "\n".join(
            (
                "# browser flow from curl: keep the cookies, send the flow's csrf_token",
                curl_lines("GET", create, jar=True),
                "# -> from the JSON take `ui.action` (the submit URL with ?flow=<id>) and the `csrf_token` node",
                curl_lines("POST", "<ui.action>", jar=True, body=json_body(method, fields, "<csrf_token>")),
            )
        )
        api_query = "&".join(f"{k}={v}" for k, v in endpoint.query.items() if k in ("aal", "refresh"))
        # Settings and an aal2 login act on an existing session: the API flow needs its token.
        token = flow == "settings" or endpoint.query.get("aal") == "aal2"
        api = "\n".join(
            (
                "# API flow: no cookies, no CSRF token",
                curl_lines(
                    "GET", f"{base}/self-service/{flow}/api" + (f"?{api_query}" if api_query else ""), token=token
                ),
                curl_lines(
                    "POST", f"{base}/self-service/{flow}?flow=<id>", body=json_body(method, fields, None), token=token
                ),
            )
        )
        result = {
            "login": "the response holds `session_token`; send it as `X-Session-Token`",
            "recovery": "the answer is JSON (with `feature_flags.use_continue_with_transitions: true`, a 200 with "
            "`continue_with` items that carry the session token)",
        }.get(flow, "the answers are JSON")
        yield Finding(
            rule="browser-flow-non-browser-client",
            title=f"A browser {flow} flow driven by curl: use the cookie jar, or the `/self-service/{flow}/api` flow",
            detail=(
                f"`/self-service/{flow}/browser` creates a browser flow. Its response sets a CSRF cookie, and the "
                f"submit must send that cookie back together with the `csrf_token` from `ui.nodes`. Without a "
                f"cookie jar curl drops the cookie and the submit fails the CSRF check. For a script, a mobile app "
                f"or a backend, the API flow `/self-service/{flow}/api` is the right one: no cookies, no CSRF, "
                f"and {result}."
            ),
            fixes=(
                f"Non-browser client: create the flow with `GET /self-service/{flow}/api`, then POST the body to "
                f"`/self-service/{flow}?flow=<id>` (the flow's `ui.action`).",
                "Testing the browser flow with curl: `-c cookies.txt -b cookies.txt` on every request, and send "
                "`csrf_token` from `ui.nodes` in the body.",
            ),
            entries=("topic.browser-vs-api-flows",),
            snippet=Snippet("bash", browser + "\n\n" + api, "both ways, with the body the next step needs"),
            severity="warning",
            score=82,
        )
