"""Walk a pasted Kratos config against the config key facts: which keys exist, which are free-form."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.kb.loader import Facts
from bot.models import KratosConfig

MAX_NODES = 5000
_PY_TYPES = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
}


@dataclass(frozen=True)
class Node:
    path: tuple[str, ...]  # where it is in the pasted document, list items by index (see models.Patch)
    dotted: str  # its config key name, list items as `[]`: a.b[].c
    value: Any
    row: dict | None  # the facts row, None for an unknown key


def has_children(facts: Facts, generic: str) -> bool:
    return generic in facts.parent_keys


def generic_of(facts: Facts, key: str) -> str | None:
    row = facts.config_key(key)
    return row["key"] if row else None


def parent_of(facts: Facts, name: str) -> str:
    """The facts' name of the key that holds `name` (`a.b[].c` -> `a.b[]`); "" at the top level."""
    parent = name.rpartition(".")[0]
    if parent.endswith("[]"):
        base = generic_of(facts, parent[:-2])
        return base + "[]" if base else ""
    return (generic_of(facts, parent) or "") if parent else ""


def walk(facts: Facts, config: dict) -> Iterator[Node]:
    """Every key of the document; descent stops at unknown keys and at free-form objects."""
    stack: list[tuple[tuple[str, ...], str, Any]] = [((), "", config)]
    budget = MAX_NODES
    while stack and budget > 0:
        path, prefix, node = stack.pop()
        budget -= 1
        items = node.items() if isinstance(node, dict) else []
        for key, value in items:
            here = path + (str(key),)
            name = f"{prefix}.{key}" if prefix else str(key)
            row = facts.config_key(name)
            yield Node(here, name, value, row)
            if row is None or not has_children(facts, row["key"]):
                continue
            if isinstance(value, dict):
                stack.append((here, name, value))
            elif isinstance(value, list):
                for i, item in enumerate(value[:100]):
                    if isinstance(item, dict):
                        stack.append((here + (str(i),), name + "[]", item))


def siblings(facts: Facts, parent_generic: str) -> list[str]:
    """The last segments of the known keys directly below `parent_generic`."""
    prefix = parent_generic + "." if parent_generic else ""
    out = []
    for key in facts.config_keys:
        if key.startswith(prefix) and key != parent_generic:
            rest = key[len(prefix) :]
            if rest and "." not in rest and "[" not in rest:
                out.append(rest)
    return out


def type_ok(row: dict, value: Any) -> bool:
    kinds = row.get("type")
    if kinds is None or value is None:
        return True
    kinds = kinds if isinstance(kinds, list) else [kinds]
    for kind in kinds:
        py = _PY_TYPES.get(kind)
        if py is None:
            return True
        if isinstance(value, bool) and kind in ("integer", "number"):
            continue
        if isinstance(value, py):
            return True
    return False


def get(config: dict, dotted_key: str) -> Any:
    node: Any = config
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def value_or_default(facts: Facts, config: dict, key: str) -> Any:
    value = get(config, key)
    if value is None:
        row = facts.config_keys.get(key) or {}
        return row.get("default")
    return value


def looks_complete(artifact: KratosConfig) -> bool:
    """A whole kratos.yml rather than a fragment: cross-key checks only make sense then."""
    roots = set(artifact.config)
    return (
        artifact.source in ("yaml", "json", "helm")
        and len(roots & {"dsn", "serve", "selfservice", "identity", "courier", "secrets"}) >= 3
    )


def key_name(artifact: KratosConfig, key: str) -> str:
    """How the user wrote the key: the env var name for env config, else the dotted path."""
    for env, path in artifact.env_names:
        if path == key:
            return f"{env} ({key})"
    return key


def host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""
