"""Flatten a JSON schema (the Kratos config schema) into dotted key paths.

Conventions (the same as knowledge/facts/config_keys.json):
- `a.b.c` for nested object properties;
- `<name>` for a map key the user chooses (patternProperties, or an additionalProperties schema);
- `[]` for array items (`courier.channels[].id`);
- local `$ref`s are resolved; an external ref is resolved only through the `external` callback.
Each key gets the `type`, `default` and `enum` stated where it is first defined (its own schema, then
its `$ref` target), `allowed_values` when it has no type and anyOf / oneOf branches pin it to
different `const` values, and the environment variable Kratos' config loader
maps to it (upper case, `.` -> `_`, `<index>` for array items; none below a `<name>` map).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_ENV_PART = re.compile(r"^[A-Za-z0-9_]+$")
_MISSING = object()


def resolve_local(root: dict, ref: str):
    """Target of a local `#/...` ref, or None for external / broken refs."""
    if not ref.startswith("#"):
        return None
    node = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def env_var(key: str) -> str | None:
    if "<name>" in key:
        return None
    parts = []
    for part in key.replace("[]", ".[]").split("."):
        if part == "[]":
            parts.append("<index>")
        elif _ENV_PART.match(part):
            parts.append(part.upper())
        else:
            return None
    return "_".join(parts)


def flatten_config_schema(root: dict, external: Callable[[str], dict | None] | None = None) -> list[dict]:
    """Rows `{key, type, [default], [enum], [allowed_values], [env_var]}` sorted by key."""
    rows: dict[str, dict] = {}
    consts: dict[str, list] = {}

    def join(prefix: str, name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    def chain(node, doc: dict) -> list[tuple[dict, dict]]:
        """The node and its $ref targets, each with the document it belongs to."""
        out: list[tuple[dict, dict]] = []
        seen: set[int] = set()
        while isinstance(node, dict) and id(node) not in seen:
            seen.add(id(node))
            out.append((node, doc))
            ref = node.get("$ref")
            if not isinstance(ref, str):
                break
            target = resolve_local(doc, ref)
            if target is None and external is not None and not ref.startswith("#"):
                target = external(ref)
                if isinstance(target, dict):
                    doc = target
            node = target
        return out

    def record(path: str, node, doc: dict) -> None:
        nodes = [n for n, _ in chain(node, doc)]
        if path not in rows:  # the first place that defines the key states its type, default and enum
            row = rows[path] = {"key": path}
            for attr in ("type", "default", "enum"):
                for n in nodes:
                    if attr in n:
                        row[attr] = n[attr]
                        break
        const = next((n["const"] for n in nodes if "const" in n), _MISSING)
        if const is not _MISSING:
            values = consts.setdefault(path, [])
            if const not in values:
                values.append(const)

    def walk(node, doc: dict, prefix: str, stack: tuple[int, ...]) -> None:
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            target, target_doc = resolve_local(doc, ref), doc
            if target is None and external is not None and not ref.startswith("#"):
                target = external(ref)
                target_doc = target if isinstance(target, dict) else doc
            if isinstance(target, dict) and id(target) not in stack:
                walk(target, target_doc, prefix, stack + (id(target),))
        for name, sub in (node.get("properties") or {}).items():
            if sub is False:  # a property the schema forbids (e.g. a misplaced "additionalProperties": false)
                continue
            path = join(prefix, name)
            record(path, sub, doc)
            walk(sub, doc, path, stack)
        maps = list((node.get("patternProperties") or {}).values())
        if isinstance(node.get("additionalProperties"), dict):
            maps.append(node["additionalProperties"])
        for sub in maps:
            path = join(prefix, "<name>")
            record(path, sub, doc)
            walk(sub, doc, path, stack)
        items = node.get("items")
        for sub in items if isinstance(items, list) else [items]:
            if isinstance(sub, dict):
                walk(sub, doc, prefix + "[]", stack)
        for kw in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(kw) or []:
                walk(sub, doc, prefix, stack)
        for kw in ("if", "then", "else"):
            walk(node.get(kw), doc, prefix, stack)

    walk(root, root, "", ())
    rows.pop("", None)
    out = []
    for key in sorted(rows):
        row = rows[key]
        result = {"key": key, "type": row.get("type")}
        for attr in ("default", "enum"):
            if attr in row:
                result[attr] = row[attr]
        if row.get("type") is None and len(consts.get(key, [])) > 1:
            result["allowed_values"] = consts[key]
        env = env_var(key)
        if env:
            result["env_var"] = env
        out.append(result)
    return out


def flatten_schema(root: dict) -> set[str]:
    """The key paths only (local refs resolved, external refs ignored)."""
    return {row["key"] for row in flatten_config_schema(root)}
