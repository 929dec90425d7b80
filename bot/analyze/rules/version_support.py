"""version-support: something in the paste needs a newer Kratos than the version the user runs.

Why: users copy configs and requests from current docs while running an older release; Kratos then
rejects the key, answers 404 for the endpoint or no strategy takes the `method`. When the thread names a
version (an image tag `oryd/kratos:v0.13.0`, `kratos version` output, "we run kratos v1.0.0", the target of an
upgrade, a `version:` key in kratos.yml; never a Go module path or a release it "used to" work with), each
config key, endpoint, `method` and message id in the paste is checked against the first release that has
it, computed from the release tags of ory/kratos (knowledge/facts/versions.json, scripts/gen_versions.py).
Example: `selfservice.methods.code.passwordless_enabled` with Kratos v1.0.0 (the key arrived in v1.1.0).
Fix: upgrade to the release named, or use what the running release offers.
"""

from __future__ import annotations

import re

from bot.analyze.configkit import walk
from bot.analyze.evidence import Evidence, body_field, curl_endpoint
from bot.analyze.registry import rule
from bot.analyze.requestkit import api_request, endpoint_key
from bot.extract.version import running_version
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, KratosConfig, KratosError, UiMessage

MAX_FINDINGS = 4


def _key(tag: str) -> tuple:
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([a-z]+)\.?(\d+)?)?", tag)
    if not m:
        return (0,)
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    pre = (0, m.group(4), int(m.group(5) or 0)) if m.group(4) else (1, "", 0)
    return (major, minor, patch, pre)


def named_version(ev: Evidence) -> str | None:
    """The release the user runs: from evidence in this message (bot/extract/version.py), a `version:`
    key in the pasted kratos.yml, or else an earlier turn of the thread."""
    claim = running_version(ev.text or ev.prose)
    if claim is not None and claim.strength >= 3:
        return claim.version
    for config in ev.of(KratosConfig) + ev.earlier(KratosConfig):
        version = config.config.get("version")
        # Three parts: docker-compose's `version: '3.8'` is not a Kratos release.
        if isinstance(version, str) and re.fullmatch(r"v?\d+\.\d+\.\d+(?:-[\w.]+)?", version):
            return version if version.startswith("v") else "v" + version
    if claim is not None:
        return claim.version
    for turn in reversed(ev.history):
        claim = running_version(turn.prose)
        if claim is not None:
            return claim.version
    return None


def _release(since: str, tags: list[str]) -> str:
    """The first published release at or after `since` (`.pre.N` tags are build pins, not releases)."""
    if since not in tags:
        return since
    return next((t for t in tags[tags.index(since) :] if ".pre." not in t and "+" not in t), since)


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
    versions = kb.facts.versions
    running = named_version(ev)
    if not versions or not running:
        return
    first = versions.get("first_release", {})
    coverage = versions.get("coverage", {})
    count = 0
    for kind, item, label in dict.fromkeys(_items(ev, kb)):
        since = first.get(kind, {}).get(item)
        if since is None or since == coverage.get(kind) or _key(since) <= _key(running):
            continue
        since = _release(since, versions.get("tags", []))
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
