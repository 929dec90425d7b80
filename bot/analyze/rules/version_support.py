"""version-support: something in the paste needs a newer Kratos than the version the user runs.

Why: users copy configs and requests from current docs while running an older release; Kratos then
rejects the key, answers 404 for the endpoint or no strategy takes the `method`. When the thread names a
version (an image tag `oryd/kratos:v0.13.0`, `kratos version` output, "we run kratos v1.0.0", the target of an
upgrade, a `version:` key in kratos.yml; never a Go module path or a release it "used to" work with), each
config key, endpoint, `method` and message id in the paste is checked against the first release that has
it, computed from the release tags of ory/kratos (knowledge/facts/versions.json, `python -m kbgen versions`).
Example: `selfservice.methods.code.passwordless_enabled` with Kratos v1.0.0 (the key arrived in v1.1.0).
Fix: upgrade to the release named, or use what the running release offers.
"""

from __future__ import annotations

from bot.analyze.configkit import walk
from bot.analyze.evidence import Evidence, body_field, curl_endpoint
from bot.analyze.registry import rule
from bot.analyze.requestkit import api_request, endpoint_key
from bot.analyze.versionkit import first_release, named_version, release_key
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, KratosConfig, KratosError, UiMessage

MAX_FINDINGS = 4


def _items(ev: Evidence, kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    """(kind, id in versions.json, how to name it) for everything in focus."""
    out: list[tuple[str, str, str]] = []
    for config in ev.of(KratosConfig):
        for node in walk(kb.facts, config.config):
            if node.row is not None:
                out.append(("config_key", node.row["key"], f"config key `{node.row['key']}`"))
    for curl in ev.of(Curl):
        req = api_request(curl.method, curl.url)
        key = endpoint_key(kb.facts, req) if req else None
        if key:
            out.append(("endpoint", key, f"endpoint `{key}`"))
        endpoint = curl_endpoint(curl)
        method = body_field(curl, "method")
        if endpoint and endpoint.variant is None and method:
            out.append(("method", f"{endpoint.flow}:{method}", f"the `{method}` method of the {endpoint.flow} flow"))
    for message in ev.of(UiMessage):
        if message.id:
            out.append(("ui_message", str(message.id), f"UI message {message.id}"))
    for error in ev.of(KratosError):
        if error.id:
            out.append(("error_id", error.id, f"error id `{error.id}`"))
    return out


@rule("version-support")
def check(ev: Evidence, kb: KnowledgeBase):
    running = named_version(ev)
    if not kb.facts.versions or not running:
        return
    count = 0
    for kind, item, label in dict.fromkeys(_items(ev, kb)):
        since = first_release(kb, kind, item)
        if since is None or release_key(since) <= release_key(running):
            continue
        count += 1
        if count > MAX_FINDINGS:
            break
        yield Finding(
            rule="version-support",
            title=f"{label[:1].upper() + label[1:]} needs Kratos {since} or newer; you run {running}",
            detail=(
                f"The first Kratos release that has {label} is {since} (from the release tags of ory/kratos). "
                f"On {running} it does not exist, which explains a config error, a 404 or a form no strategy "
                "accepts."
            ),
            fixes=(f"Upgrade Kratos to {since} or newer, or follow the docs of {running}.",),
            severity="warning",
            score=84,
        )
