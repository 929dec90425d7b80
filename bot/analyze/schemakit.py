"""Read identity schemas and print corrected copies with the changed lines marked."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

from rapidfuzz import fuzz, process

EXT = "ory.sh/kratos"


TRAITS_PATH = ("properties", "traits", "properties")


def traits(schema: dict) -> tuple[dict, list[str]]:
    """(trait name -> trait schema, required trait names) of a full identity schema."""
    props, required, _ = trait_root(schema)
    return props, required


def is_full(schema: dict) -> bool:
    props = schema.get("properties")
    return isinstance(props, dict) and isinstance(props.get("traits"), dict)


def trait_root(schema: dict) -> tuple[dict, list[str], tuple[str, ...]]:
    """Traits, required names and the JSON path of the traits' properties.

    A full schema has them at properties.traits.properties; a pasted fragment such as
    `"phone": {"type": "string", "ory.sh/kratos": {…}}` is the traits' properties itself.
    """
    if is_full(schema):
        node = schema["properties"]["traits"]
        props = node.get("properties")
        required = node.get("required")
        return (props if isinstance(props, dict) else {}), (required if isinstance(required, list) else []), TRAITS_PATH
    fragment = {k: v for k, v in schema.items() if isinstance(v, dict) and (EXT in v or "type" in v)}
    return fragment, [], ()


def extension(trait: Any) -> dict:
    ext = trait.get(EXT) if isinstance(trait, dict) else None
    return ext if isinstance(ext, dict) else {}


def code_config(trait: Any) -> dict | None:
    code = (extension(trait).get("credentials") or {}).get("code")
    return code if isinstance(code, dict) else None


_MARK = "@@MARK{}@@"
_NOTE = "@@NOTE{}@@"
_SCALAR_ARRAY = re.compile(
    r'\[\n\s+((?:"[^"\n]*"|-?\d+|true|false|null)(?:,\n\s+(?:"[^"\n]*"|-?\d+|true|false|null))*)\n\s+\]'
)


def rename_key(mapping: dict, old: str, new: str, value: Any) -> bool:
    """Rename `old` to `new` in place, keeping the key's position (users compare line by line).

    Refuses (returns False) when `new` exists already: a rename must never overwrite the user's data.
    """
    if new in mapping and new != old:
        return False
    items = [(new, value) if k == old else (k, v) for k, v in mapping.items()]
    mapping.clear()
    mapping.update(items)
    return True


def parents(doc: Any, path: tuple[str, ...], create: bool = False) -> list[dict]:
    """The objects that hold `path`'s last key, following models.Patch's convention for list items: an index
    is that item, `[]` every item. `create` adds the missing objects on the way (for a `set`)."""
    nodes = [doc]
    for part in path[:-1]:
        step: list = []
        for node in nodes:
            if isinstance(node, list):
                if part == "[]":
                    step.extend(node)
                elif part.isdigit() and int(part) < len(node):
                    step.append(node[int(part)])
            elif isinstance(node, dict):
                if part not in node and create:
                    node[part] = type(node)()  # a round-trip YAML map makes one of its kind
                if part in node:
                    step.append(node[part])
        nodes = step
    return [node for node in nodes if isinstance(node, dict)]


class JsonEdit:
    """Changes to a copy of a JSON document; `render()` prints it with `// <- note` on changed lines."""

    def __init__(self, doc: Any):
        self.doc = copy.deepcopy(doc)
        self._values: list[tuple[Any, str]] = []
        self._notes: list[str] = []

    def set(self, path: tuple[str, ...], value: Any, note: str) -> None:
        for parent in parents(self.doc, path, create=True):
            parent[path[-1]] = _MARK.format(len(self._values))
            self._values.append((value, note))

    def remove(self, path: tuple[str, ...], note: str) -> None:
        for parent in parents(self.doc, path):
            if path[-1] not in parent:
                continue
            del parent[path[-1]]
            # The note goes first in the parent so its line (and comma) can become a comment line.
            items = list(parent.items())
            parent.clear()
            parent[_NOTE.format(len(self._notes))] = ""
            parent.update(items)
            self._notes.append(note)

    def rename(self, path: tuple[str, ...], new_name: str, note: str) -> None:
        for parent in parents(self.doc, path):
            if path[-1] not in parent:
                continue
            value = parent[path[-1]]
            if rename_key(parent, path[-1], new_name, _MARK.format(len(self._values))):
                self._values.append((value, note))

    @property
    def changed(self) -> bool:
        return bool(self._values or self._notes)

    def render(self) -> str:
        text = json.dumps(self.doc, indent=2, ensure_ascii=False)
        text = _SCALAR_ARRAY.sub(lambda m: "[" + ", ".join(p.strip() for p in m.group(1).split(",\n")) + "]", text)
        lines = []
        for line in text.split("\n"):
            note = re.search(r'"@@NOTE(\d+)@@": ""', line)
            if note:
                indent = line[: len(line) - len(line.lstrip())]
                lines.append(f"{indent}// <- {self._notes[int(note.group(1))]}")
                continue
            m = re.search(r'"@@MARK(\d+)@@"', line)
            if m:
                value, note_text = self._values[int(m.group(1))]
                rendered = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
                line = line.replace(m.group(0), rendered) + f"  // <- {note_text}"
            lines.append(line)
        return "\n".join(lines)


# What the `ory.sh/kratos` extension accepts, per Kratos' identity extension meta-schema: section ->
# option -> value type (`bool`) or the allowed strings. tests/test_schema_doctor.py compares it with the
# meta-schema in ../shared/kratos when that is present.
EXTENSION_OPTIONS: dict[str, dict[str, dict[str, object]]] = {
    "credentials": {
        "password": {"identifier": bool},
        "webauthn": {"identifier": bool},
        "passkey": {"display_name": bool},
        "totp": {"account_name": bool},
        "code": {"identifier": bool, "via": ("email", "sms")},
    },
    "verification": {"": {"via": ("email", "sms")}},
    "recovery": {"": {"via": ("email", "sms")}},
    "organizations": {"": {"matcher": ("email_domain",)}},
}
# Formats a trait with `verification` may have (the identity meta-schema's `then` branch).
VERIFICATION_FORMATS = ("email", "tel", "date", "time", "date-time", "no-validate")


def _option_schema(options: dict[str, object]) -> dict:
    props = {}
    for name, kind in options.items():
        props[name] = {"type": "boolean"} if kind is bool else {"type": "string", "enum": list(kind)}
    return {"type": "object", "additionalProperties": False, "properties": props}


def extension_schema() -> dict:
    """A JSON Schema for one trait's `ory.sh/kratos` value, built from EXTENSION_OPTIONS."""
    props: dict[str, dict] = {}
    for section, groups in EXTENSION_OPTIONS.items():
        if "" in groups:
            props[section] = _option_schema(groups[""])
        else:
            props[section] = {
                "type": "object",
                "additionalProperties": False,
                "properties": {name: _option_schema(opts) for name, opts in groups.items()},
            }
    return {"type": "object", "additionalProperties": False, "properties": props}


def allowed_keys_at(path: tuple[str, ...]) -> list[str]:
    """The keys the extension allows below `path` (relative to the `ory.sh/kratos` object)."""
    if not path:
        return list(EXTENSION_OPTIONS)
    groups = EXTENSION_OPTIONS.get(path[0], {})
    if "" in groups:
        return list(groups[""]) if len(path) == 1 else []
    if len(path) == 1:
        return list(groups)
    return list(groups.get(path[1], {})) if len(path) == 2 else []


def closest(word: str, choices: list[str]) -> str | None:
    """The choice `word` is a typo of. Plain edit-distance ratio: "identifer" is close to "identifier", a
    different word ("passwordless") is not close to "password"."""
    best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=85) if choices else None
    return best[0] if best else None


def as_meant(options: Any, path: tuple[str, ...]) -> dict:
    """An object of the extension (at `path` below `ory.sh/kratos`) with each misspelt option under the name
    schema-extension renames it to. Rules that read options see what the user meant, so they do not add a
    second `password` next to the `pasword` that the rename fixes."""
    if not isinstance(options, dict):
        return {}
    allowed = allowed_keys_at(path)
    out: dict = {}
    for key, value in options.items():
        out.setdefault(key if key in allowed else (closest(key, allowed) or key), value)
    return out


def walk_keys(doc: Any, limit: int = 2000) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """(path of the parent, key, value) for every key of every object in a JSON document, bounded."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), doc)]
    while stack and limit > 0:
        path, node = stack.pop()
        limit -= 1
        if isinstance(node, dict):
            for key, value in node.items():
                yield path, key, value
                if isinstance(value, dict | list) and key != EXT:
                    stack.append((path + (key,), value))
        elif isinstance(node, list):
            stack.extend((path + (str(i),), v) for i, v in enumerate(node[:200]))


def iter_extensions(schema: dict) -> Iterator[tuple[tuple[str, ...], dict]]:
    """(JSON path, value) of every `ory.sh/kratos` object in the schema, nested traits included."""
    for path, key, value in walk_keys(schema):
        if key == EXT:
            yield path + (key,), value


_NEAR_EXT = re.compile(r"ory\.(sh|com)\s*/\s*kratos|ory\s*/\s*kratos", re.I)


def near_extension_keys(schema: dict) -> Iterator[tuple[tuple[str, ...], str]]:
    """Keys that look like a misspelled `ory.sh/kratos` (Kratos silently ignores them)."""
    for path, key, _ in walk_keys(schema):
        if key != EXT and _NEAR_EXT.search(key):
            yield path, key
