"""Read identity schemas and print corrected copies with the changed lines marked."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

EXT = "ory.sh/kratos"


def traits(schema: dict) -> tuple[dict, list[str]]:
    """(trait name -> trait schema, required trait names) of a full identity schema."""
    node = (schema.get("properties") or {}).get("traits") or {}
    props = node.get("properties") if isinstance(node, dict) else None
    required = node.get("required") if isinstance(node, dict) else None
    return (props if isinstance(props, dict) else {}), (required if isinstance(required, list) else [])


def extension(trait: Any) -> dict:
    ext = trait.get(EXT) if isinstance(trait, dict) else None
    return ext if isinstance(ext, dict) else {}


def code_config(trait: Any) -> dict | None:
    code = (extension(trait).get("credentials") or {}).get("code")
    return code if isinstance(code, dict) else None


def iter_code_identifiers(schema: dict) -> Iterator[tuple[str, dict, dict]]:
    props, _ = traits(schema)
    for name, trait in props.items():
        code = code_config(trait)
        if code and code.get("identifier") is True:
            yield name, trait, code


_MARK = "@@MARK{}@@"
_SCALAR_ARRAY = re.compile(
    r'\[\n\s+((?:"[^"\n]*"|-?\d+|true|false|null)(?:,\n\s+(?:"[^"\n]*"|-?\d+|true|false|null))*)\n\s+\]'
)


class SchemaEdit:
    """Collects changes to a schema copy; `render()` prints it with `// <-` on changed lines."""

    def __init__(self, schema: dict):
        self.schema = copy.deepcopy(schema)
        self._values: list[tuple[Any, str]] = []

    def set(self, path: tuple[str, ...], value: Any, note: str) -> None:
        node = self.schema
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _MARK.format(len(self._values))
        self._values.append((value, note))

    @property
    def changed(self) -> bool:
        return bool(self._values)

    def render(self) -> str:
        text = json.dumps(self.schema, indent=2, ensure_ascii=False)
        text = _SCALAR_ARRAY.sub(lambda m: "[" + ", ".join(p.strip() for p in m.group(1).split(",\n")) + "]", text)
        lines = []
        for line in text.split("\n"):
            m = re.search(r'"@@MARK(\d+)@@"', line)
            if m:
                value, note = self._values[int(m.group(1))]
                line = line.replace(
                    m.group(0),
                    json.dumps(value, ensure_ascii=False).replace(",", ", ")
                    if not isinstance(value, str)
                    else json.dumps(value),
                )
                line = line.replace(",  ", ", ") + f"  // <- {note}"
            lines.append(line)
        return "\n".join(lines)
