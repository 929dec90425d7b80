"""request-accept-json: a script calls a browser flow endpoint without `Accept: application/json`.

Why: browser flow endpoints negotiate the answer (x/isjsonrequest.go): only a request that asks for JSON
(`Accept: application/json`, or a JSON body with `Content-Type: application/json`) gets the flow as JSON.
Anything else, curl's default `Accept: */*` included, gets a 303 redirect to the flow's `ui_url`, so the
script sees an HTML page or an empty body instead of the flow.
Example: `curl http://127.0.0.1:4433/self-service/login/browser`.
Fix: add `-H 'Accept: application/json'` (or use the `/api` flow).
Quiet when the headers come from a file (`-H @headers.txt`): it may hold the Accept header.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch


def asks_for_json(curl: Curl) -> bool:
    accept = (curl.header("accept") or "").lower()
    content_type = (curl.header("content-type") or "").lower()
    return "application/json" in accept or content_type.startswith("application/json")


@rule("request-accept-json")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        if curl.client not in ("curl", "http") or endpoint is None or endpoint.variant != "browser":
            continue
        if asks_for_json(curl) or "headers" in curl.unknown:
            continue
        yield Finding(
            rule="request-accept-json",
            title="No `Accept: application/json`: Kratos answers this browser endpoint with a 303 redirect",
            detail=(
                f"`/self-service/{endpoint.flow}/browser` sends the flow as JSON only to requests that ask for "
                f"JSON; everything else is redirected (303) to `selfservice.flows.{endpoint.flow}.ui_url`, so "
                "the script gets an HTML page or an empty body instead of the flow."
            ),
            fixes=("Add `-H 'Accept: application/json'`, or use the `/api` variant of the flow for scripts.",),
            entries=("topic.browser-vs-api-flows",),
            severity="warning",
            score=78,
            patches=(
                Patch(ev.index_of(curl), "set", ("header", "Accept"), "application/json", "Accept: application/json"),
            ),
        )
