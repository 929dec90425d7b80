"""startup-validation: explain Kratos' own "configuration contains values or keys which are invalid" report.

Why: Kratos checks its config against the schema of *its own release* and refuses to start. The report
names a pointer and a `^--` reason, but the usual cause is not visible in it: a key copied from newer
docs or the quickstart on master, run with an older image (`additionalProperties "code" not allowed` under
`selfservice.methods` on v0.10), a required key that never reached Kratos (Helm values outside
`kratos.config`), or an enum value the release does not have yet. Each line is checked against the key
table and the first release of each key (knowledge/facts/versions.json); the version the user runs is read
from evidence only (bot/extract/version.py).
Example: `serve.admin: map[base_url:…]  ^-- additionalProperties "base_url" not allowed` on an image older
than v0.4.0-alpha.1.
Fix: run a release that has the key (or the docs and quickstart of the release you run); add the missing
key where Kratos reads it.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, process

from bot.analyze.configkit import siblings
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.versionkit import first_release, named_version, release_key
from bot.extract.startup_output import StartupProblem, parse
from bot.kb.loader import KnowledgeBase
from bot.models import Finding

MAX_FINDINGS = 5
_HELM = re.compile(r"(?i)\bhelm\b|values\.ya?ml|\bchart\b|kratos\.config")
# What the config schema requires (embedx/config.schema.json: root `required`, selfservice and identity).
REQUIRED = ("dsn", "identity.schemas", "selfservice.default_browser_return_url")


def _dotted(pointer: str | None, name: str = "") -> str:
    """Kratos prints list items as `.0`; the key table writes them `[]`."""
    path = ".".join(p for p in (pointer or "", name) if p)
    return re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", path)


def _generic(kb: KnowledgeBase, path: str) -> str | None:
    row = kb.facts.config_key(path)
    return row["key"] if row else None


def _rows_named(kb: KnowledgeBase, name: str) -> list[str]:
    """Keys whose last segment is `name`: a `^--` line pasted without its pointer."""
    return [k for k in kb.facts.config_keys if k.rsplit(".", 1)[-1] == name]


def _since(kb: KnowledgeBase, keys: list[str]) -> str | None:
    """The earliest first release among `keys` (None when any of them has always been there)."""
    found = [first_release(kb, "config_key", k) for k in keys]
    if not found or any(s is None for s in found):
        return None
    return min(found, key=release_key)


def _leaves(value: Any, path: str, depth: int = 0) -> list[str]:
    if not isinstance(value, dict) or depth > 8:
        return []
    out = []
    for key, sub in list(value.items())[:200]:
        here = f"{path}.{key}" if path else str(key)
        out.append(here)
        out += _leaves(sub, here, depth + 1)
    return out


def _newer_inside(kb: KnowledgeBase, problem: StartupProblem, running: str | None) -> list[tuple[str, str]]:
    """(key, first release) for keys in the printed value that the running release (if known) lacks,
    newest first: the real reason a parent is refused is often a key one level down."""
    out = []
    for path in _leaves(problem.value, _dotted(problem.pointer)):
        key = _generic(kb, path)
        since = first_release(kb, "config_key", key) if key else None
        if since and (running is None or release_key(running) < release_key(since)):
            out.append((key, since))
    out.sort(key=lambda item: release_key(item[1]), reverse=True)
    return list(dict.fromkeys(out))[:3]


def _older_name(kb: KnowledgeBase, key: str) -> str | None:
    """The name the key had in the releases just before it (the latest rename into it)."""
    rows = [(old, row) for old, row in kb.config_renames.items() if row.get("new") == key]
    if not rows:
        return None
    old, row = max(rows, key=lambda item: release_key(item[1]["last_release_with_old"]))
    return f"`{old}` (until {row['last_release_with_old']})"


def _too_new(key: str, since: str, running: str | None, kb: KnowledgeBase, shown: str) -> Finding:
    who = f"you run {running}" if running else "the Kratos that printed this is older"
    older = _older_name(kb, key)
    fixes = [
        f"Upgrade Kratos to {since} or newer (image tag `oryd/kratos:{since}`).",
        "Or keep the config to what your release knows: use the docs and the quickstart of that release "
        f"(`git checkout {running or '<your version>'}` in the kratos repository), not those of master.",
    ]
    if older:
        fixes.append(f"Before {since} this setting was {older}.")
    if running is None:
        fixes.append("Check which release you run with `kratos version` (or the image tag).")
    return Finding(
        rule="startup-validation",
        title=f"`{shown}` exists only from Kratos {since}; {who}",
        detail=(
            "Kratos validates its config against the schema of its own release, so a key from newer docs or a "
            "newer quickstart is refused as `additionalProperties … not allowed` and Kratos does not start."
        ),
        fixes=tuple(fixes),
        score=90 if running else 86,
        config_keys=(key,),
    )


def _additional(kb: KnowledgeBase, problem: StartupProblem, running: str | None) -> list[Finding]:
    out = []
    for name in problem.names[:3]:
        path = _dotted(problem.pointer, name)
        shown = path if problem.pointer is not None else name
        keys = [k for k in [_generic(kb, path)] if k] if problem.pointer is not None else _rows_named(kb, name)
        if keys:
            since = _since(kb, keys)
            if since and (running is None or release_key(running) < release_key(since)):
                out.append(_too_new(keys[0], since, running, kb, shown))
                continue
            inner = _newer_inside(kb, problem, running)
            if inner:
                key, since = inner[0]
                out.append(_too_new(key, since, running, kb, key))
                continue
            out.append(
                Finding(
                    rule="startup-validation",
                    title=f"`{shown}` is a key of current Kratos, but the release you run refuses it",
                    detail="Kratos checks its config against the schema of its own release.",
                    fixes=("Say which Kratos version you run (`kratos version` or the image tag).",),
                    severity="warning",
                    score=70,
                    config_keys=tuple(keys[:1]),
                )
            )
            continue
        renamed = next(
            (row for old, row in kb.config_renames.items() if path == old or path.startswith(old + ".")), None
        )
        if renamed is not None:
            new, note = renamed.get("new"), renamed.get("note")
            out.append(
                Finding(
                    rule="startup-validation",
                    title=(
                        f"`{shown}` was renamed to `{new}` in {renamed['first_release_with_new']}"
                        if new
                        else f"`{shown}` was removed in {renamed['first_release_with_new']}"
                    ),
                    detail="The config is older than the Kratos release that reads it.",
                    fixes=(f"Use `{new}`." if new else "Remove it.", *([note] if note else [])),
                    score=88,
                )
            )
            continue
        parent = _generic(kb, _dotted(problem.pointer)) if problem.pointer else ""
        choices = siblings(kb.facts, parent or "") if parent is not None else []
        best = process.extractOne(name, choices, scorer=fuzz.ratio, score_cutoff=70) if choices else None
        out.append(
            Finding(
                rule="startup-validation",
                title=f"`{shown}` is not a Kratos config key",
                detail="Kratos refuses to start with a key its config schema does not have."
                + (f" Did you mean `{(parent + '.' if parent else '') + best[0]}`?" if best else ""),
                fixes=(f"Rename it to `{best[0]}`." if best else "Remove it or move it to the right section.",),
                score=88,
            )
        )
    return out


def _missing(kb: KnowledgeBase, problem: StartupProblem, helm: bool) -> Finding:
    names = [_dotted(problem.pointer, n) for n in problem.names] or [_dotted(problem.pointer)]
    shown = ", ".join(f"`{n}`" for n in names if n) or "a required key"
    fixes = []
    if helm:
        fixes.append(
            "With the Helm chart, Kratos' config comes only from the chart values under `kratos.config` "
            "(the chart renders it into Kratos' config file); keys elsewhere in values.yaml do not reach Kratos."
        )
    fixes.append(
        "A config Kratos starts with has at least " + ", ".join(f"`{k}`" for k in REQUIRED) + " (a list of "
        "schemas, each with an `id` and a `url`)."
    )
    return Finding(
        rule="startup-validation",
        title=f"{shown} is required and missing from the config Kratos loaded",
        detail="Kratos refuses to start when a key its config schema requires is absent.",
        fixes=tuple(fixes),
        score=86,
        config_keys=tuple(k for k in (_generic(kb, n) for n in names) if k),
    )


def _enum(kb: KnowledgeBase, problem: StartupProblem) -> Finding:
    path = _dotted(problem.pointer)
    key = _generic(kb, path) if path else None
    allowed = ", ".join(f"`{v}`" for v in problem.names)
    current = (kb.facts.config_keys.get(key) or {}).get("enum") or [] if key else []
    newer = problem.value if isinstance(problem.value, str) and problem.value in current else None
    fixes = [f"Use one of {allowed}."]
    if newer:
        fixes.append(f"Current Kratos accepts `{newer}` here: the release you run is older than the docs you follow.")
    return Finding(
        rule="startup-validation",
        title=f"`{path or 'a value'}` is `{problem.value}`, but this Kratos accepts only {allowed}",
        detail="Kratos validates config values against the enum of its own release.",
        fixes=tuple(fixes),
        score=88,
        config_keys=(key,) if key else (),
    )


@rule("startup-validation")
def check(ev: Evidence, kb: KnowledgeBase):
    problems = parse(ev.text)
    if not problems:
        return
    running = named_version(ev)
    helm = bool(_HELM.search(ev.text))
    findings: list[Finding] = []
    for problem in problems:
        if problem.kind == "additional":
            findings += _additional(kb, problem, running)
        elif problem.kind == "missing":
            findings.append(_missing(kb, problem, helm))
        elif problem.kind == "enum":
            findings.append(_enum(kb, problem))
        elif problem.kind == "type" and problem.pointer:
            expected, got = problem.names
            findings.append(
                Finding(
                    rule="startup-validation",
                    title=f"`{_dotted(problem.pointer)}` must be a {expected}, not a {got}",
                    detail="Kratos validates the type of every config value at start-up.",
                    fixes=(f"Write `{_dotted(problem.pointer)}` as a {expected}.",),
                    score=86,
                )
            )
        elif problem.kind == "wrapper" and isinstance(problem.value, dict):
            inner = _newer_inside(kb, problem, running)
            if inner:
                key, since = inner[0]
                findings.append(_too_new(key, since, running, kb, key))
    seen: set[str] = set()
    for finding in findings:
        if finding.title not in seen and len(seen) < MAX_FINDINGS:
            seen.add(finding.title)
            yield finding
