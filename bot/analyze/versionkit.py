"""Releases: which one the user runs, the first release that has a config key, endpoint or id, and advice
fitted to the running release (`fit_fix`, `fit_finding`: the one check every fix and patch goes through).

The first releases come from the release tags of ory/kratos (knowledge/facts/versions.json,
`python -m kbgen versions`); `.pre.N` tags are build pins, so a fact first seen in one is reported with the
release that shipped it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

from bot.analyze.evidence import Evidence
from bot.extract.version import running_version
from bot.kb.loader import KnowledgeBase
from bot.models import Artifact, Finding, KratosConfig, Patch


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


# A config key as advice writes it: in backticks, dotted, optionally followed by `: value`.
_ADVISED_KEY = re.compile(r"`([A-Za-z_][\w\[\]<>-]*(?:\.[\w\[\]<>-]+)+)(?::[^`]*)?`")


def too_new(kb: KnowledgeBase, running: str, key: str) -> str | None:
    """The release that brought config key `key`, when the user's `running` release predates it."""
    row = kb.facts.config_key(key)
    since = first_release(kb, "config_key", row["key"]) if row else None
    return since if since and release_key(since) > release_key(running) else None


def _latest(kb: KnowledgeBase, running: str, keys: Iterator[str]) -> str | None:
    found = [since for key in keys if (since := too_new(kb, running, key))]
    return max(found, key=release_key) if found else None


def fit_fix(kb: KnowledgeBase, running: str, fix: str) -> str:
    """`fix`, saying which release it needs when it names a config key the running release lacks."""
    since = _latest(kb, running, iter(_ADVISED_KEY.findall(fix))) if running else None
    return f"{fix} (needs Kratos {since} or newer; you run {running})" if since else fix


def _names(path: tuple[str, ...], value: Any) -> Iterator[str]:
    """The config key names a patch writes: its path and, for an object value, every key inside."""
    name = ""
    for part in path:
        name += "[]" if part == "[]" or part.isdigit() else (f".{part}" if name else part)
    yield name
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _names((*path, str(key)), sub)
    elif isinstance(value, list):
        for item in value[:20]:
            yield from _names((*path, "[]"), item)


def _patch_fits(kb: KnowledgeBase, running: str, patch: Patch) -> bool:
    if patch.op == "remove":
        return True
    path, value = (patch.path[:-1] + (str(patch.value),), None) if patch.op == "rename" else (patch.path, patch.value)
    return _latest(kb, running, _names(path, value)) is None


def fit_finding(kb: KnowledgeBase, running: str, finding: Finding, focus: tuple[Artifact, ...]) -> Finding:
    """The finding with its fixes fitted to the running release and the config patches that write a key
    it lacks dropped (the fix says which release has it)."""
    if not running:
        return finding
    fixes = tuple(fit_fix(kb, running, fix) for fix in finding.fixes)
    patches = tuple(
        p
        for p in finding.patches
        if not (0 <= p.target < len(focus) and isinstance(focus[p.target], KratosConfig)) or _patch_fits(kb, running, p)
    )
    if fixes == finding.fixes and patches == finding.patches:
        return finding
    return dataclasses.replace(finding, fixes=fixes, patches=patches)
