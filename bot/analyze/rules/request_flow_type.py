"""request-flow-type: a flow id created for one flow type is submitted to another.

Why: flow ids are per type: a recovery flow id sent to `/self-service/settings?flow=…` is not found
by the settings handler, even though the id looks right. After recovery, the settings flow has a new
id (in `redirect_browser_to` or `continue_with`).
Example: recovery flow `fdae3164-…`, then `POST /self-service/settings?flow=fdae3164-…`.
Fix: use the id of a flow of the endpoint's own type.
Flow types are learned from the thread: create and submit URLs, pasted flows, redirect targets.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.analyze.evidence import Evidence, curl_endpoint, endpoint_of
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Flow, KratosError


def _known_types(ev: Evidence, exclude: Curl) -> dict[str, str]:
    """flow id -> flow type, from everything in the thread except the request being checked."""
    seen: dict[str, str] = {}
    for flow in ev.of(Flow) + ev.earlier(Flow):
        if flow.id and flow.flow_type:
            seen.setdefault(flow.id, flow.flow_type)
    for error in ev.of(KratosError) + ev.earlier(KratosError):
        target = error.redirect_browser_to or ""
        endpoint = endpoint_of(target) if "/self-service/" in target else None
        flow_id = (parse_qs(urlsplit(target).query).get("flow") or [None])[0]
        flow_type = (
            endpoint.flow
            if endpoint
            else next(
                (t for t in ("settings", "login", "registration", "recovery", "verification") if f"/{t}" in target),
                None,
            )
        )
        if flow_id and flow_type:
            seen.setdefault(flow_id, flow_type)
    for curl in ev.of(Curl) + ev.earlier(Curl):
        if curl is exclude:
            continue
        endpoint = curl_endpoint(curl)
        flow_id = endpoint.query.get("flow") or endpoint.query.get("id") if endpoint else None
        if endpoint and flow_id and "{{" not in flow_id:
            seen.setdefault(flow_id, endpoint.flow)
    return seen


@rule("request-flow-type")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        flow_id = endpoint.query.get("flow") if endpoint else None
        if not endpoint or not flow_id or "{{" in flow_id:
            continue
        other = _known_types(ev, curl).get(flow_id)
        if other is None or other == endpoint.flow:
            continue
        yield Finding(
            rule="request-flow-type",
            title=f"`{flow_id}` is a {other} flow, but it is sent to the {endpoint.flow} endpoint",
            detail=(
                f"Flow ids belong to one flow type. Earlier in this thread `{flow_id}` was a {other} flow; "
                f"`/self-service/{endpoint.flow}` cannot find it."
            ),
            fixes=(
                f"Use the id of a {endpoint.flow} flow"
                + (
                    " (after recovery: the settings flow id in `redirect_browser_to` or `continue_with`)."
                    if other == "recovery" and endpoint.flow == "settings"
                    else "."
                ),
            ),
            score=87,
        )
