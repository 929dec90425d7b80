"""Releases: which one the user runs, and the first release that has a config key, endpoint or id.

The first releases come from the release tags of ory/kratos (knowledge/facts/versions.json,
`python -m kbgen versions`); `.pre.N` tags are build pins, so a fact first seen in one is reported with the
release that shipped it.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.extract.version import running_version
from bot.kb.loader import KnowledgeBase
from bot.models import KratosConfig


def release_key(tag: str) -> tuple:
    """Sort key of a release tag: v0.11.0-alpha.1 < v0.11.0 < v0.11.1."""
    m = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([a-z]+)\.?(\d+)?)?", tag)
    if not m:
        return (0,)
    major, minor, patch = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    pre = (0, m.group(4), int(m.group(5) or 0)) if m.group(4) else (1, "", 0)
    return (major, minor, patch, pre)


def published(since: str, tags: list[str]) -> str:
    """The first published release at or after `since`."""
    if since not in tags:
        return since
    return next((t for t in tags[tags.index(since) :] if ".pre." not in t and "+" not in t), since)


def first_release(kb: KnowledgeBase, kind: str, item: str) -> str | None:
    """The first published release that has `item` (a config key, endpoint, …), or None when it has been
    there since the oldest release the tags cover (then the version is never the cause)."""
    versions = kb.facts.versions or {}
    since = versions.get("first_release", {}).get(kind, {}).get(item)
    if since is None or since == versions.get("coverage", {}).get(kind):
        return None
    return published(since, versions.get("tags", []))


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
