"""What a rule sees: the artifacts in focus (this message, or the earlier one a follow-up is
about), the words the user wrote, and the thread's history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from bot.context import Turn
from bot.models import Artifact, Curl, Flow

FLOW_PATH = re.compile(r"/self-service/(login|registration|settings|recovery|verification)(/browser|/api|/flows)?\b")


@dataclass(frozen=True)
class Evidence:
    focus: tuple[Artifact, ...]
    prose: str
    history: tuple[Turn, ...] = ()
    carried: bool = False  # focus came from an earlier turn
    text: str = ""  # the whole message, pastes included (versions hide in image tags and tool output)

    def of(self, kind: type) -> list:
        return [a for a in self.focus if isinstance(a, kind)]

    def index_of(self, artifact: Artifact) -> int:
        """Position of `artifact` in the focus, the target of its patches."""
        return next(i for i, a in enumerate(self.focus) if a is artifact)

    def earlier(self, kind: type) -> list:
        """Artifacts of `kind` from earlier turns, newest first."""
        return [a for turn in reversed(self.history) for a in turn.artifacts if isinstance(a, kind)]


@dataclass(frozen=True)
class Endpoint:
    flow: str | None  # login, settings, ...
    variant: str | None  # browser | api | flows | None (the submit endpoint)
    path: str  # from /self-service/... on
    query: dict[str, str]


def endpoint_of(url: str) -> Endpoint | None:
    m = FLOW_PATH.search(url)
    if m is None:
        return None
    path_and_query = url[m.start() :]
    parts = urlsplit("http://x" + path_and_query)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return Endpoint(flow=m.group(1), variant=(m.group(2) or "").lstrip("/") or None, path=parts.path, query=query)


def curl_endpoint(curl: Curl) -> Endpoint | None:
    return endpoint_of(curl.url)


def login_submits(ev: Evidence, methods) -> Iterator[tuple[Curl, Endpoint, str]]:
    """(curl, endpoint, method) for each `POST /self-service/login?flow=` in focus whose method is in `methods`."""
    for curl in ev.of(Curl):
        endpoint = curl_endpoint(curl)
        method = body_field(curl, "method")
        if endpoint is not None and endpoint.flow == "login" and not endpoint.variant and method in methods:
            yield curl, endpoint, method


def body_field(curl: Curl, name: str) -> str | None:
    if isinstance(curl.body, dict):
        value = curl.body.get(name)
        return value if isinstance(value, str) else None
    return None


def login_flow_origin(ev: Evidence, flow_id: str | None) -> tuple[str | None, str, str]:
    """(AAL the login flow asked for, how we know, `api` or `browser`) from this message or earlier turns."""
    for flow in ev.of(Flow) + ev.earlier(Flow):
        if flow.requested_aal and (flow_id is None or flow.id == flow_id):
            return (
                flow.requested_aal,
                f"the pasted flow has `requested_aal: {flow.requested_aal}`",
                flow.client or "browser",
            )
    for when, curls in (("in this message", ev.of(Curl)), ("earlier in this thread", ev.earlier(Curl))):
        for curl in curls:
            endpoint = curl_endpoint(curl)
            if endpoint and endpoint.flow == "login" and endpoint.variant in ("browser", "api"):
                if endpoint.query.get("aal"):
                    return endpoint.query["aal"], f"created {when} with `aal={endpoint.query['aal']}`", endpoint.variant
                return "aal1", f"created {when} without `aal`, which means aal1", endpoint.variant
    return None, "", "browser"
