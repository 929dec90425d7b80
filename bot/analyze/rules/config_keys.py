"""config-keys: keys in a pasted Kratos config that Kratos does not have (typos, renamed, removed).

Why: Kratos validates its config against its JSON schema at start-up and refuses keys it does not
know, and keys renamed in older releases (`selfservice.strategies` → `selfservice.methods`) are the
most common leftovers in copied configs. The key table is knowledge/facts/config_keys.json; renames
come from the config schema's history (knowledge/config_renames.yaml).
Example: `selfservice.flows.setting.ui_url` → `selfservice.flows.settings.ui_url`.
Fix: the corrected config with each renamed key marked; a did-you-mean from the sibling keys.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.analyze.configkit import generic_of, key_name, parent_of, siblings, walk
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Patch

MAX_FINDINGS = 8


def _schema_url(target: int, node) -> tuple[Patch, ...]:
    """identity.default_schema_url → an identity.schemas entry plus default_schema_id (v0.9 and later)."""
    return (
        Patch(target, "remove", node.path, note="identity.default_schema_url moved into identity.schemas"),
        Patch(target, "set", ("identity", "default_schema_id"), "default", "names the schema below"),
        Patch(target, "set", ("identity", "schemas"), [{"id": "default", "url": node.value}], "was default_schema_url"),
    )


# Renames that change the shape of the value, with the rewrite that keeps the user's setting.
MIGRATIONS = {"identity.default_schema_url": _schema_url}


def _rename(kb: KnowledgeBase, name: str) -> tuple[dict, str | None] | None:
    """The renames table row covering `name` (the key or a parent of it) and the new full path."""
    for old, row in kb.config_renames.items():
        if name == old or name.startswith(old + "."):
            new = row.get("new")
            return row, (new + name[len(old) :]) if new else None
    return None


def _env_findings(kb: KnowledgeBase, artifact: KratosConfig):
    names = [
        row["env_var"] for row in kb.facts.config_keys.values() if row.get("env_var") and "<" not in row["env_var"]
    ]
    for name in artifact.env_unknown[:MAX_FINDINGS]:
        best = process.extractOne(name, names, scorer=fuzz.ratio, score_cutoff=85)
        yield Finding(
            rule="config-keys",
            title=f"`{name}` is not an environment variable Kratos reads",
            detail=(
                "Kratos maps environment variables to config keys by name and silently ignores the ones that match "
                "no key, so this setting has no effect." + (f" Did you mean `{best[0]}`?" if best else "")
            ),
            fixes=(f"Rename it to `{best[0]}`." if best else "Check the name against the configuration reference.",),
            score=88,
        )


@rule("config-keys")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        yield from _env_findings(kb, artifact)
        target = ev.index_of(artifact)
        count = 0
        for node in walk(kb.facts, artifact.config):
            if node.row is not None or count >= MAX_FINDINGS:
                continue
            count += 1
            shown = key_name(artifact, node.dotted)
            renamed = _rename(kb, node.dotted)
            if renamed is not None:
                row, new = renamed
                when = f"after {row['last_release_with_old']} (gone in {row['first_release_with_new']})"
                if new:
                    title = f"`{shown}` was renamed to `{new}` {when}"
                    fix = f"Use `{new}`." + (f" {row['note']}" if row.get("note") else "")
                    patches: tuple[Patch, ...] = ()
                    new_parent, _, new_name = new.rpartition(".")
                    if node.dotted in MIGRATIONS:
                        patches = MIGRATIONS[node.dotted](target, node)
                    elif row.get("drop_in") is False:
                        patches = ()
                    elif node.dotted.rpartition(".")[0] == new_parent:
                        patches = (Patch(target, "rename", node.path, new_name, f"was {node.dotted}"),)
                    elif generic_of(kb.facts, new) and "[]" not in new:
                        # A key that moved into a list item would need to know which item: left to the user.
                        patches = (
                            Patch(target, "remove", node.path, note=f"{node.dotted} moved to {new}"),
                            Patch(target, "set", tuple(new.split(".")), node.value, f"was {node.dotted}"),
                        )
                else:
                    title = f"`{shown}` was removed {when}"
                    fix = "Remove it." + (f" {row['note']}" if row.get("note") else "")
                    patches = (Patch(target, "remove", node.path, note=f"{node.dotted} no longer exists"),)
                yield Finding(
                    rule="config-keys",
                    title=title,
                    detail="Current Kratos refuses to start with this key in its config.",
                    fixes=(fix,),
                    score=90,
                    patches=patches,
                )
                continue
            parent = parent_of(kb.facts, node.dotted)
            choices = siblings(kb.facts, parent)
            best = process.extractOne(node.path[-1], choices, scorer=fuzz.ratio, score_cutoff=70) if choices else None
            suggestion = f" Did you mean `{(parent + '.' if parent else '') + best[0]}`?" if best else ""
            allowed = ", ".join(f"`{c}`" for c in sorted(choices)[:12])
            yield Finding(
                rule="config-keys",
                title=f"`{shown}` is not a Kratos config key",
                detail=(
                    f"Kratos refuses to start with an unknown key in its config.{suggestion}"
                    + ("" if best or not choices else f" Keys here: {allowed}.")
                ),
                fixes=(f"Rename it to `{best[0]}`." if best else "Remove it or move it to the right section.",),
                score=88,
                patches=(Patch(target, "rename", node.path, best[0], f"was {node.path[-1]!r}"),) if best else (),
            )
