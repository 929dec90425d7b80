"""Generate knowledge/facts/versions.json: the first Kratos release that has a config key, error id,
UI message id, API endpoint or self-service `method`, and the last release that had items gone at HEAD.

Reads the files of every release tag straight from a Kratos git repository (bare or with a work tree):
the config schema (flattened like knowledge/facts/config_keys.json), `text/message_error.go`
(`ErrID*` string constants), `text/id.go` (the `ID` const blocks, evaluated as Go does), and the
OpenAPI / Swagger spec (paths x methods, and the `method` discriminator mappings of the update bodies).
Facts only, no prose.

Run: python -m kbgen versions --kratos-src DIR [--out FILE]
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from kbgen.gosrc import Unreadable, error_ids, go_int_consts
from kbgen.kratos_facts import SPEC_PATHS, pick_config_schema
from kbgen.schema_flat import flatten_schema
from kbgen.source import Git

KINDS = ("config_key", "error_id", "ui_message", "endpoint", "method")

# v1.2.3, v0.8.0-alpha.1, v0.8.0-alpha.4.pre.0, v0.11.0-alpha.0.pre.1, v0.0.1-alpha.10+oryOS.15
TAG_RE = re.compile(
    r"^v(\d+)\.(\d+)\.(\d+)"
    r"(?:-((?:alpha|beta|rc|pre)(?:\.[0-9A-Za-z]+)*))?"
    r"(?:\+[0-9A-Za-z.-]+)?$"
)

ID_GO = "text/id.go"
# Older releases declared most `text.ID` constants next to their messages in text/message_*.go.
TEXT_GO_RE = re.compile(r"^text/[^/]+(?<!_test)\.go$")
ERROR_GO = "text/message_error.go"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BODY_RE = re.compile(r"^(?:submitSelfService|update)([A-Z][A-Za-z]*)FlowBody$")


# -------------------------------------------------------------------------------------------- tags


def semver_key(tag: str) -> tuple:
    """Sort key with semver precedence: pre-releases before their release, identifiers compared
    numerically when numeric, a longer pre-release list wins when the shared part is equal."""
    m = TAG_RE.match(tag)
    assert m, tag
    core = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    pre = m.group(4)
    if pre is None:
        return (core, 1, ())
    ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (core, 0, ids)


def release_tags(git: Git) -> list[str]:
    tags = [t for t in git.run("tag", "--list").split() if TAG_RE.match(t)]
    return sorted(tags, key=semver_key)


# --------------------------------------------------------------------------------------------- spec


def spec_endpoints(spec: dict) -> set[str]:
    base = spec.get("basePath") or ""
    base = "" if base == "/" else base.rstrip("/")
    out = set()
    for path, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if method in item:
                out.add(f"{method.upper()} {base}{path}")
    return out


def spec_methods(spec: dict) -> set[str]:
    schemas = (spec.get("components") or {}).get("schemas") or spec.get("definitions") or {}
    out = set()
    for name, schema in schemas.items():
        m = BODY_RE.match(name)
        disc = schema.get("discriminator") if isinstance(schema, dict) else None
        if not m or not isinstance(disc, dict) or disc.get("propertyName") != "method":
            continue
        for value in disc.get("mapping") or {}:
            out.add(f"{m.group(1).lower()}:{value}")
    return out


# ------------------------------------------------------------------------------------------ collect


def collect(git: Git, rev: str, cache: dict) -> tuple[dict[str, set[str]], dict[str, str]]:
    """The item sets of one revision and the files they came from. Raises Unreadable."""
    files = git.run("ls-tree", "-r", "--name-only", rev).splitlines()
    fileset = set(files)
    sets: dict[str, set[str]] = {k: set() for k in KINDS}
    used: dict[str, str] = {}

    def parsed(path: str, parse: Callable[[bytes], object]):
        got = git.blob(rev, path)
        if got is None:
            raise Unreadable(f"{path} listed but not readable")
        sha, data = got
        key = (sha, parse.__name__)
        if key not in cache:
            try:
                cache[key] = parse(data)
            except Unreadable:
                raise
            except Exception as exc:  # JSON / UTF-8 errors
                raise Unreadable(f"{path}: {exc}") from exc
        return cache[key]

    def parse_schema(data: bytes) -> set[str]:
        return flatten_schema(json.loads(data))

    def parse_errors(data: bytes) -> set[str]:
        return error_ids(data.decode())

    def parse_spec(data: bytes) -> tuple[set[str], set[str]]:
        spec = json.loads(data)
        return spec_endpoints(spec), spec_methods(spec)

    schema = pick_config_schema(files)
    if schema is None:
        raise Unreadable("no config schema")
    sets["config_key"] = parsed(schema, parse_schema)
    used["config_key"] = schema
    text_go = sorted(f for f in files if TEXT_GO_RE.match(f))
    if ID_GO in text_go:  # evaluate id.go first, other files may refer to its constants
        text_go.remove(ID_GO)
        text_go.insert(0, ID_GO)
    if text_go:
        blobs = []
        for path in text_go:
            got = git.blob(rev, path)
            if got is None:
                raise Unreadable(f"{path} listed but not readable")
            blobs.append(got)
        key = (tuple(sha for sha, _ in blobs), "ui_ids")
        if key not in cache:
            try:
                cache[key] = {str(v) for v in go_int_consts([data.decode() for _, data in blobs]).values()}
            except UnicodeDecodeError as exc:
                raise Unreadable(f"text/*.go: {exc}") from exc
        sets["ui_message"] = cache[key]
        used["ui_message"] = " ".join(text_go)
    if ERROR_GO in fileset:
        sets["error_id"] = parsed(ERROR_GO, parse_errors)
        used["error_id"] = ERROR_GO
    spec = next((p for p in SPEC_PATHS if p in fileset), None)
    if spec is None:
        raise Unreadable("no API spec")
    sets["endpoint"], sets["method"] = parsed(spec, parse_spec)
    used["endpoint"] = used["method"] = spec
    return sets, used


def build(src: Path) -> tuple[dict, dict[str, set[str]]]:
    git = Git(src)
    try:
        head = git.run("rev-parse", "HEAD").strip()
        cache: dict = {}
        head_sets, _ = collect(git, head, cache)
        tags: list[str] = []
        per_tag: dict[str, dict[str, set[str]]] = {}
        coverage: dict[str, str] = {}
        for tag in release_tags(git):
            try:
                sets, used = collect(git, f"refs/tags/{tag}", cache)
            except Unreadable as exc:
                print(f"skip {tag}: {exc}", file=sys.stderr)
                continue
            tags.append(tag)
            per_tag[tag] = sets
            for kind in KINDS:
                if sets[kind] and kind not in coverage:
                    coverage[kind] = tag
    finally:
        git.close()

    first: dict[str, dict[str, str]] = {k: {} for k in KINDS}
    last: dict[str, dict[str, str]] = {k: {} for k in KINDS}
    for tag in tags:
        for kind in KINDS:
            for item in per_tag[tag][kind]:
                first[kind].setdefault(item, tag)
                last[kind][item] = tag

    def order(kind: str, items: Iterable[str]) -> list[str]:
        if kind == "ui_message":
            return sorted(items, key=int)
        return sorted(items)

    doc = {
        "source": "ory/kratos",
        "generated_from": head,
        "tags": tags,
        # first tag whose files yield any item of the kind (earlier tags lack the file or the data)
        "coverage": {k: coverage.get(k) for k in KINDS},
        "first_release": {k: {i: first[k][i] for i in order(k, first[k])} for k in KINDS},
        "removed_after": {k: {i: last[k][i] for i in order(k, set(last[k]) - head_sets[k])} for k in KINDS},
        # at HEAD but in no release tag yet
        "unreleased": {k: order(k, head_sets[k] - set(first[k])) for k in KINDS},
    }
    return doc, head_sets


def write(src: Path, facts: Path, out: Path) -> None:
    """Build versions.json from every release tag of `src` into `out`, after checking the HEAD evaluation
    against the current tables in `facts` (a mismatch there means the readers drifted from Kratos)."""
    started = time.monotonic()
    doc, head_sets = build(src)

    cfg = {r["key"] for r in json.loads((facts / "config_keys.json").read_text(encoding="utf-8"))["rows"]}
    found = cfg & head_sets["config_key"]
    print(
        f"config keys: HEAD flattening finds {len(found)} of {len(cfg)} fact keys "
        f"({len(head_sets['config_key'] - cfg)} extra)"
    )
    for key in sorted(cfg - found):
        print(f"  missing: {key}")
    ui = {str(r["id"]) for r in json.loads((facts / "ui_messages.json").read_text(encoding="utf-8"))["rows"]}
    status = "OK" if ui == head_sets["ui_message"] else "MISMATCH"
    print(f"ui message ids at HEAD: {len(head_sets['ui_message'])} evaluated, {len(ui)} in facts: {status}")
    if status != "OK":
        extra, lacking = sorted(head_sets["ui_message"] - ui), sorted(ui - head_sets["ui_message"])
        print(f"  only evaluated: {extra}; only in facts: {lacking}")

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = ", ".join(f"{k}: {len(doc['first_release'][k])}/{len(doc['removed_after'][k])}" for k in KINDS)
    print(f"{len(doc['tags'])} tags; first_release/removed_after {counts}")
    print(f"wrote {out} in {time.monotonic() - started:.1f}s")
