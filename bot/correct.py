"""Corrected artifacts: apply every finding's patches to the pasted schema, request or config and
print the result with each change pointed out.

Several rules may fix the same paste (a malformed flow id and a wrong csrf_token in one curl); the
user gets one corrected copy, not one per rule.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
from collections import defaultdict
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import yaml

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
            config = _config(artifact.config, patches)
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


_PLAIN = re.compile(r"[A-Za-z_/](?:[\w./:@-]*[\w./@-])?")  # no spaces, no trailing colon
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value) -> str:
    # Most config values are plain words, URLs or numbers; the YAML emitter is only needed for the rest.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip().removesuffix("...").strip()


class _TooLong(Exception):
    pass


def _yaml_lines(
    node, path: tuple[str, ...], notes: dict, indent: int = 0, budget: list[int] | None = None
) -> list[str]:
    budget = [MAX_LINES] if budget is None else budget
    budget[0] -= len(node) if isinstance(node, dict | list) else 1
    if budget[0] < 0:
        raise _TooLong
    pad = "  " * indent
    out: list[str] = []
    for note in notes.get(("removed",) + path, []):
        out.append(f"{pad}# <- {note}")
    if isinstance(node, dict):
        for key, value in node.items():
            here = path + (str(key),)
            mark = f"  # <- {notes[here]}" if here in notes else ""
            if isinstance(value, dict | list) and value:
                out.append(f"{pad}{key}:{mark}")
                out.extend(_yaml_lines(value, here, notes, indent + 1, budget))
            else:
                out.append(f"{pad}{key}: {_scalar(value)}{mark}")
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, dict | list) and item:
                sub = _yaml_lines(item, path + ("[]",), notes, indent + 1, budget)
                out.append(f"{pad}- {sub[0].strip()}")
                out.extend(sub[1:])
            else:
                out.append(f"{pad}- {_scalar(item)}")
    return out


def _config(config: dict, patches: list[Patch]) -> Snippet | None:
    """Config comes back as YAML, each changed key marked with `# <-`; None when it would be too long."""
    doc = copy.deepcopy(config)
    notes: dict[tuple[str, ...], object] = {}
    for patch in patches:
        key = patch.path[-1]
        # _yaml_lines walks list items as "[]": a note on providers.0.scope is keyed providers.[].scope.
        where = tuple("[]" if p.isdigit() else p for p in patch.path[:-1])
        for parent in parents(doc, patch.path, create=patch.op == "set"):
            if patch.op == "set":
                parent[key] = patch.value
                notes[where + (key,)] = patch.note
            elif patch.op == "remove" and key in parent:
                del parent[key]
                notes.setdefault(("removed",) + where, []).append(patch.note)
            elif patch.op == "rename" and key in parent:
                rename_key(parent, key, str(patch.value), parent[key])
                notes[where + (str(patch.value),)] = patch.note
    try:
        lines = _yaml_lines(doc, (), notes)
    except _TooLong:
        return None
    return Snippet("yaml", "\n".join(lines), "corrected config: changed lines end with `# <-`")


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
    lines += [f"--header {_quote(f'{k}: {v}')}" for k, v in headers]
    lines += [f"--cookie {_quote(c)}" for c in dict.fromkeys(cookies)]
    if body is not None:
        data = json.dumps(body, ensure_ascii=False) if isinstance(body, dict | list) else str(body)
        lines.append(f"--data {_quote(data)}")
    label = f" (step {curl.label})" if curl.label else ""
    return Snippet("bash", " \\\n  ".join(lines), f"corrected request{label}; changed: " + "; ".join(notes))
