"""config-values: a known config key with a value of the wrong type or outside its allowed values.

Why: Kratos validates its config against the schema at start-up: `enabled: "true"` (a string) where a
boolean is expected, `log.level: warn` (the enum says `warning`), or `courier.delivery_strategy: smtps`
stop Kratos with a schema error that names the key only by its JSON pointer.
Example: `selfservice.flows.recovery.use: otp` → one of `link`, `code`.
Fix: the allowed value closest to what was written, marked in the corrected config.
"""

from __future__ import annotations

import yaml
from rapidfuzz import fuzz, process

from bot.analyze.configkit import key_name, type_ok, walk
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Patch

MAX_FINDINGS = 6


def _coerce(kind: str, value: object) -> object | None:
    """The value in the right type when the intent is clear ("true" -> true, "4433" -> 4433)."""
    text = str(value).strip().lower()
    if kind == "boolean" and text in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return text in ("true", "yes", "on", "1")
    if kind == "integer" and text.isdigit():
        return int(text)
    if kind == "string" and isinstance(value, int | float | bool):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _yaml(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip().removesuffix("...").strip()


def _expects_url(row: dict) -> bool:
    default = row.get("default")
    name = row["key"].rsplit(".", 1)[-1].lower()
    return name.endswith(("url", "uri", "urls")) or (isinstance(default, str) and "://" in default)


def _fix(row: dict, kind: str, name: str, value: object) -> tuple[object | None, str]:
    """The corrected value (None when the intent is unclear) and the advice, which shows what a valid value
    looks like rather than the refused one: a number where a URL belongs (`ui_url: 42`) is no URL quoted."""
    default = row.get("default")
    example = f"; the default is `{_yaml(default)}`" if default is not None and type_ok(row, default) else ""
    if row.get("enum"):
        return None, "Use one of " + ", ".join(f"`{_yaml(e)}`" for e in row["enum"]) + "."
    if kind == "string" and _expects_url(row):
        return None, f"Set `{row['key']}` to a full URL such as `https://auth.example.com/…`{example}."
    if kind == "string" and isinstance(default, str):
        # A string with a shape (`24h`, `info`): the number is most likely missing its unit or name.
        return None, f"Give `{row['key']}` a string value{example}."
    fixed = _coerce(kind, value)
    if fixed is None:
        return None, f"Give `{row['key']}` {_a(kind)} value{example}."
    # Rendered as YAML reads it: `"42"` stays a string, where `42` would be the same refused number again.
    return fixed, f"Write `{name}: {_yaml(fixed)}`."


@rule("config-values")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        target = ev.index_of(artifact)
        count = 0
        for node in walk(kb.facts, artifact.config):
            row = node.row
            if row is None or count >= MAX_FINDINGS or isinstance(node.value, dict | list):
                continue
            shown = key_name(artifact, node.dotted)
            enum = row.get("enum")
            if enum and node.value not in enum and type_ok(row, node.value):
                count += 1
                best = process.extractOne(str(node.value), [str(e) for e in enum], scorer=fuzz.WRatio, score_cutoff=60)
                yield Finding(
                    rule="config-values",
                    title=f"`{shown}: {node.value}` is not an allowed value",
                    detail=f"`{row['key']}` takes one of " + ", ".join(f"`{e}`" for e in enum) + ".",
                    fixes=(f"Use `{best[0]}`." if best else "Pick one of the allowed values.",),
                    score=88,
                    patches=(Patch(target, "set", node.path, best[0], f"was {node.value!r}"),) if best else (),
                )
            elif not type_ok(row, node.value):
                count += 1
                kind = row["type"] if isinstance(row["type"], str) else row["type"][0]
                fixed, fix = _fix(row, kind, node.path[-1], node.value)
                yield Finding(
                    rule="config-values",
                    title=f"`{shown}` must be {_a(kind)}, not `{node.value!r}`",
                    detail="Kratos validates the config types at start-up and refuses this value.",
                    fixes=(fix,),
                    score=86,
                    patches=(Patch(target, "set", node.path, fixed, _a(kind)),) if fixed is not None else (),
                )
