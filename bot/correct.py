"""Corrected artifacts: apply every finding's patches to the pasted schema, request or config and
print the result with each change pointed out.

Several rules may fix the same paste (a malformed flow id and a wrong csrf_token in one curl); the
user gets one corrected copy, not one per rule.
"""

from __future__ import annotations

import json
import shlex
from collections import defaultdict
from io import StringIO
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.comments import CommentedMap

from bot.analyze.schemakit import JsonEdit, parents, rename_key
from bot.models import Artifact, Curl, Finding, IdentitySchema, KratosConfig, Patch, Snippet

MAX_CORRECTIONS = 3
# Lines of one corrected config. Pastes are measured when parsed (bot.extract.jsonblobs.MAX_NODES), so this
# only keeps a config that is big but within that budget from becoming a reply nobody reads.
MAX_LINES = 2_000


def corrections(focus: tuple[Artifact, ...], findings: list[Finding]) -> list[Snippet]:
    by_target: dict[int, list[Patch]] = defaultdict(list)
    for finding in findings:
        for patch in finding.patches:
            if 0 <= patch.target < len(focus):
                by_target[patch.target].append(patch)
    out: list[Snippet] = []
    for target, patches in sorted(by_target.items()):
        artifact = focus[target]
        if isinstance(artifact, IdentitySchema):
            out.append(_json_doc(artifact.schema, patches, "corrected schema"))
        elif isinstance(artifact, KratosConfig) and not artifact.cut:
            # A corrected copy of a cut-off paste would present the missing part as deleted.
            config = _config(artifact, patches)
            if config is not None:
                out.append(config)
        elif isinstance(artifact, Curl):
            out.append(_curl(artifact, patches))
    return out[:MAX_CORRECTIONS]


def _apply(edit: JsonEdit, patches: list[Patch]) -> None:
    for patch in patches:
        if patch.op == "set":
            edit.set(patch.path, patch.value, patch.note)
        elif patch.op == "remove":
            edit.remove(patch.path, patch.note)
        elif patch.op == "rename":
            edit.rename(patch.path, str(patch.value), patch.note)


def _json_doc(doc: dict, patches: list[Patch], what: str) -> Snippet:
    edit = JsonEdit(doc)
    _apply(edit, patches)
    return Snippet("json", edit.render(), f"{what}: changed lines end with `// <-` (remove those comments)")


def _indents(text: str) -> tuple[int, int]:
    """(mapping indent, offset of a list's dash) of the paste, so the corrected copy lines up with it."""
    mapping = offset = None
    lines = [line for line in text.split("\n") if line.strip() and not line.lstrip().startswith("#")]
    for prev, line in zip(lines, lines[1:], strict=False):
        if not prev.rstrip().endswith(":"):
            continue
        body = prev.lstrip()
        # A key that opens a list item (`- id:`) stands two columns right of its dash.
        at = len(prev) - len(body) + (2 if body.startswith("- ") else 0)
        step = len(line) - len(line.lstrip()) - at
        if line.lstrip().startswith("- ") and offset is None and step >= 0:
            offset = step
        elif not line.lstrip().startswith("- ") and mapping is None and step > 0:
            mapping = step
        if mapping is not None and offset is not None:
            break
    return mapping or 2, 2 if offset is None else offset


def _yaml(text: str) -> YAML:
    mapping, offset = _indents(text)
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.allow_duplicate_keys = True  # PyYAML read the paste with the last value winning; so does the copy
    y.width = 4096  # a long URL stays on its line
    y.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return y


def _overlay(node, masked, seen: set[int]) -> None:
    """Put the masked values of the config into the round-trip document: the pasted text was masked by
    value, the config by where each value stands, and only the latter is sure to have caught every one."""
    if id(node) in seen:
        return  # a YAML alias: its node is done once
    seen.add(id(node))
    pairs = (
        [(k, masked[k]) for k in node if k in masked]
        if isinstance(node, dict) and isinstance(masked, dict)
        else list(enumerate(masked[: len(node)]))
        if isinstance(node, list) and isinstance(masked, list)
        else []
    )
    for key, want in pairs:
        have = node[key]
        if isinstance(have, dict | list):
            if want is None:
                node[key] = None  # masking gave up on this part: print none of it
            else:
                _overlay(have, want, seen)
        elif isinstance(want, str) and have != want:
            node[key] = want


def _too_big(node) -> bool:
    budget, stack = MAX_LINES, [node]
    while stack:
        item = stack.pop()
        budget -= 1
        if budget < 0:
            return True
        stack.extend(item.values() if isinstance(item, dict) else item if isinstance(item, list) else ())
    return False


def _round_trip(artifact: KratosConfig) -> tuple[YAML, CommentedMap, CommentedMap] | None:
    """(emitter, document to print, the config inside it); None when it would be too long to read."""
    text = artifact.pasted
    if text.count("\n") <= MAX_LINES and artifact.source in ("yaml", "helm"):
        y = _yaml(text)
        try:
            doc = y.load(text)
            config = doc["kratos"]["config"] if artifact.source == "helm" else doc
        except (YAMLError, KeyError, TypeError):
            doc = None  # ruamel reads YAML 1.2 and stricter than PyYAML: print from the config instead
        if isinstance(doc, CommentedMap) and isinstance(config, CommentedMap):
            _overlay(config, artifact.config, set())
            if artifact.source == "helm":
                # The kratos.config block is the part to correct: the rest of the values file is left out.
                for key in [k for k in doc if k != "kratos"]:
                    del doc[key]
                for key in [k for k in doc["kratos"] if k != "config"]:
                    del doc["kratos"][key]
            return y, doc, config
    if _too_big(artifact.config):
        return None
    y = _yaml("")
    out = StringIO()
    y.dump(artifact.config, out)
    doc = y.load(out.getvalue())
    return y, doc, doc


def _mark(parent, key: str, note: str) -> None:
    """End the key's line with `# <- note`, keeping the user's own comment there after it."""
    if not isinstance(parent, CommentedMap):
        return  # inside a value a patch set: that value's key is marked already
    old = parent.ca.items.get(key, [None, None, None])[2]
    mine = f"<- {note}" + (f"  {old.value.strip()}" if old is not None else "")
    parent.yaml_add_eol_comment(mine, key)


def _rename(parent: dict, key: str, new: str) -> bool:
    if new in parent and new != key:
        return False  # never overwrite the user's data
    if not isinstance(parent, CommentedMap):
        return rename_key(parent, key, new, parent[key])
    # Keys merged in from an anchor (`<<: *flow`) are no place of their own: only the map's own keys move.
    own = [k for k, _ in parent.non_merged_items()]
    comment = parent.ca.items.pop(key, None)
    parent[new] = parent.pop(key)
    if comment is not None:
        parent.ca.items[new] = comment
    for later in own[own.index(key) + 1 :]:
        parent.move_to_end(later)
    return True


def _note_first(parent: dict, note: str) -> None:
    """Like the schema copy: a removed key's note stands first in the mapping it was taken from."""
    if isinstance(parent, CommentedMap) and parent:
        column = parent.lc.col if parent.lc.col is not None else 0
        parent.yaml_set_comment_before_after_key(next(iter(parent)), before=f"<- {note}", indent=column)


def _config(artifact: KratosConfig, patches: list[Patch]) -> Snippet | None:
    """The config as the user wrote it (comments, key order, quoting), each changed key marked with `# <-`;
    None when it would be too long to read."""
    found = _round_trip(artifact)
    if found is None:
        return None
    y, doc, config = found
    removed: list[tuple[dict, str]] = []  # noted once every patch is in: a move may refill the mapping
    for patch in patches:
        key = patch.path[-1]
        for parent in parents(config, patch.path, create=patch.op == "set"):
            if patch.op == "set":
                parent[key] = patch.value
                _mark(parent, key, patch.note)
            elif patch.op == "remove" and key in parent:
                del parent[key]
                removed.append((parent, patch.note))
            elif patch.op == "rename" and key in parent and _rename(parent, key, str(patch.value)):
                _mark(parent, str(patch.value), patch.note)
    for parent, note in removed:
        _note_first(parent, note)
    out = StringIO()
    y.dump(doc, out)
    text = out.getvalue().rstrip("\n")
    if text.count("\n") >= MAX_LINES:
        return None
    return Snippet("yaml", text, "corrected config: changed lines end with `# <-`")


def _quote(value: str) -> str:
    """Shell-quote like the user did: `"$TOKEN"` must stay expandable, so keep double quotes for `$`."""
    if "$" in value and '"' not in value and "`" not in value and "\\" not in value:
        return f'"{value}"'
    return shlex.quote(value)


def _curl(curl: Curl, patches: list[Patch]) -> Snippet:
    url = curl.url
    headers = [list(h) for h in curl.headers if h[0].lower() != "cookie"]
    cookies = list(curl.cookies)
    body = dict(curl.body) if isinstance(curl.body, dict) else curl.body
    notes: list[str] = []
    for patch in patches:
        kind, name = patch.path[0], (patch.path[1] if len(patch.path) > 1 else "")
        if kind == "url" and patch.op == "set":
            url = str(patch.value)
        elif kind == "url" and patch.op == "replace":
            old, new = patch.value
            url = url.replace(old, new, 1)
        elif kind == "query":
            parts = urlsplit(url)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            if patch.op == "remove":
                query.pop(name, None)
            else:
                query[name] = str(patch.value)
            url = urlunsplit(parts._replace(query=urlencode(query, safe="{}<>")))
        elif kind == "body" and isinstance(body, dict):
            if patch.op == "remove":
                body.pop(name, None)
            elif patch.op == "rename" and name in body:
                rename_key(body, name, str(patch.value), body[name])
            else:
                body[name] = patch.value
        elif kind == "header":
            headers = [h for h in headers if h[0].lower() != name.lower()]
            if patch.op == "set":
                headers.append([name, str(patch.value)])
        elif kind == "cookie":
            index = int(name or 0)
            if patch.op == "remove":
                cookies = [c for i, c in enumerate(cookies) if i != index]
            elif index < len(cookies):
                cookies[index] = str(patch.value)
            else:
                cookies.append(str(patch.value))
        if patch.note and patch.note not in notes:
            notes.append(patch.note)
    lines = [f"curl --request {curl.method}", f"--url {_quote(url)}"]
    # No fix touches these; without the user's cookie jar the corrected request would fail the CSRF check.
    lines += [" ".join((option[0], *map(_quote, option[1:]))) for option in curl.options]
    lines += [f"--header {_quote(f'{k}: {v}')}" for k, v in headers]
    lines += [f"--cookie {_quote(c)}" for c in dict.fromkeys(cookies)]
    if body is not None:
        data = json.dumps(body, ensure_ascii=False) if isinstance(body, dict | list) else str(body)
        lines.append(f"--data {_quote(data)}")
    label = f" (step {curl.label})" if curl.label else ""
    return Snippet("bash", " \\\n  ".join(lines), f"corrected request{label}; changed: " + "; ".join(notes))
