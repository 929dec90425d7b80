"""Generate the fact tables of knowledge/facts/ from a Kratos source checkout.

Tables (each written as `{"source", "ref", "commit", "count", "rows"}`):

- ui_messages: every `text.ID` constant (ids evaluated from the const blocks as Go does) with the
  constructor in `text/message_*.go` that builds it: type, text as written, text kind.
- error_ids: the `ErrID*` constants of `text/message_error.go`, with the statuses and reasons of the
  herodot errors that carry them.
- reasons: the literal strings Kratos attaches to HTTP errors (see kbgen/kratos_errors.py).
- config_keys: the flattened config schema (`embedx/config.schema.json`).
- endpoints: the operations of `spec/api.json` with the `method` variants of the update bodies.

Facts only (ids, texts as written in the source, key paths, endpoint paths), never prose.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from kbgen import kratos_errors
from kbgen.goindex import Func, GoFile, GoTree, local_assignments
from kbgen.gosrc import Unreadable, error_id_consts, go_int_consts, unquote
from kbgen.kratos_errors import Extractor, composite_fields
from kbgen.schema_flat import flatten_config_schema
from kbgen.source import Checkout

SOURCE = "ory/kratos"
TABLES = ("ui_messages", "error_ids", "reasons", "config_keys", "endpoints")
ID_GO = "text/id.go"
ERROR_GO = "text/message_error.go"
# Where the Kratos config schema lived over time, newest first.
CONFIG_SCHEMA_PATHS = (
    "embedx/config.schema.json",
    "driver/config/.schema/config.schema.json",
    ".schema/config.schema.json",
    "docs/config.schema.json",
)
# Copies or foreign schemas that are not the Kratos config schema itself.
CONFIG_SCHEMA_EXCLUDE = re.compile(
    r"(^|/)(oryx|\.schemastore|node_modules|vendor|test|tests|fixtures|stub|stubs|internal|docs/versioned_docs)/"
)
SPEC_PATHS = ("spec/api.json", "spec/swagger.json", ".schema/api.swagger.json", "docs/api.swagger.json")
DOCS_API = "https://www.ory.com/docs/kratos/reference/api"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Shipped Go code: no _test.go files, generated SDKs (pkg/), end-to-end tests (test/), examples or
# tooling. Test-helper packages inside the module tree are kept, as in the reference data.
_EXCLUDED_DIR = re.compile(
    r"(^|/)(node_modules|testdata)(/|$)|^(pkg|test|examples|contrib|docs|script|scripts|\.github)/"
)


def shipped(path: str) -> bool:
    return path.endswith(".go") and not path.endswith("_test.go") and not _EXCLUDED_DIR.search(path)


def go_tree(src: Checkout) -> GoTree:
    return GoTree(src.files(), src.text, shipped)


# -------------------------------------------------------------------------------------- UI messages


def _text_package(src: Checkout) -> list[str]:
    files = [f for f in src.files() if re.fullmatch(r"text/[^/]+\.go", f) and not f.endswith("_test.go")]
    if ID_GO in files:  # evaluate id.go first, other files may refer to its constants
        files.remove(ID_GO)
        files.insert(0, ID_GO)
    return files


def _message_text(ex: Extractor, f: GoFile, fn: Func, a: int, b: int) -> tuple[str, str]:
    """(text as written, text kind) of the `Text:` field of a `Message{}` built in constructor `fn`."""
    toks = f.toks
    if b - a == 1 and toks[a].kind == "ident":
        name = toks[a].text
        if name in fn.params:
            return "{" + name + "}", "parameter"
        for va, vb in local_assignments(f, fn, name, a):
            got = ex.string(f, va, vb, fn)
            if got.is_format and got.literal:
                return got.text, "computed"  # e.g. `reason := fmt.Sprintf(...)`, then extended
        return "{" + name + "}", "variable"
    got = ex.string(f, a, b, fn)
    if got.literal and not got.dynamic:
        return got.text, "format" if got.is_format else "literal"
    return "{" + f.source(a, b) + "}", "expression"


def ui_messages(src: Checkout, tree: GoTree | None = None) -> list[dict]:
    paths = _text_package(src)
    try:
        ids = go_int_consts([src.text(p) or "" for p in paths])
    except Unreadable as exc:
        raise Unreadable(f"text/*.go: {exc}") from exc
    tree = tree or go_tree(src)
    ex = Extractor(tree, {})
    pkg = tree.package("text")
    files = sorted(pkg.files, key=lambda f: f.path) if pkg else []
    types: dict[str, str] = {}
    for f in files:
        for name, spec in f.specs.items():
            if spec.kind == "const" and spec.span and spec.span[1] - spec.span[0] == 1:
                tok = f.toks[spec.span[0]]
                if tok.kind == "string":
                    types[name] = unquote(tok.text)
    built: dict[str, dict] = {}
    for f in files:
        if not re.fullmatch(r"text/message_[^/]+\.go", f.path):
            continue
        for fn in f.funcs:
            a, b = fn.body
            for i in range(a + 1, b):
                t = f.toks[i]
                if not (t.text == "Message" and f.toks[i + 1].text == "{" and f.toks[i - 1].text in ("&", "return")):
                    continue
                fields = composite_fields(f.toks, i + 1)
                id_span = fields.get("ID")
                if not id_span or id_span[1] - id_span[0] != 1:
                    continue
                id_name = f.toks[id_span[0]].text
                if id_name not in ids or id_name in built:
                    continue
                text, kind = _message_text(ex, f, fn, *fields["Text"]) if "Text" in fields else (None, None)
                typ = types.get(f.toks[fields["Type"][1] - 1].text) if "Type" in fields else None
                built[id_name] = {"type": typ, "text": text, "text_kind": kind}
    rows = []
    for name, value in sorted(ids.items(), key=lambda kv: kv[1]):
        got = built.get(name)
        rows.append(
            {
                "id": value,
                "name": name,
                "type": got["type"] if got else None,
                "text": got["text"] if got else None,
                "text_kind": got["text_kind"] if got else None,
                "has_constructor": got is not None,
            }
        )
    return rows


# ----------------------------------------------------------------------------------------- config keys


def pick_config_schema(files: Iterable[str]) -> str | None:
    names = [f for f in files if f.endswith("config.schema.json")]
    for path in CONFIG_SCHEMA_PATHS:
        if path in names:
            return path
    rest = [f for f in names if f.split("/")[-1] == "config.schema.json" and not CONFIG_SCHEMA_EXCLUDE.search(f)]
    return sorted(rest, key=lambda f: (f.count("/"), f))[0] if rest else None


def config_keys(src: Checkout) -> list[dict]:
    path = pick_config_schema(src.files())
    raw = src.read(path) if path else None
    if raw is None:
        raise Unreadable("no config schema (embedx/config.schema.json or an older place)")
    schema = json.loads(raw)

    ids: dict[str, dict] | None = None

    def external(ref: str) -> dict | None:
        # refs such as `ory://tracing-config` name the `$id` of a schema shipped in the same checkout
        nonlocal ids
        if ids is None:
            ids = {}
            for path in src.files():
                if not path.endswith(".json") or "schema" not in path or _EXCLUDED_DIR.search(path):
                    continue
                data = src.read(path) or b""
                if b'"$id"' not in data[:2000]:
                    continue
                try:
                    doc = json.loads(data)
                except ValueError:
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("$id"), str):
                    ids.setdefault(doc["$id"], doc)
        return ids.get(ref)

    return flatten_config_schema(schema, external)


# ------------------------------------------------------------------------------------------- endpoints

_ERRID_DOC_RE = re.compile(r"(?m)^\s*`([a-z0-9_]+)`\s*:")


def documented_error_ids(description: str) -> list[str]:
    """The `error.id` values an operation description lists (one per "`id`: meaning" line), repeats kept."""
    at = description.find("error.id")
    return _ERRID_DOC_RE.findall(description[at:]) if at >= 0 else []


def _deref(spec: dict, node):
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 20:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target = spec
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, dict) else None
        if target is None:
            return node
        node = target
        seen += 1
    return node


def _body_schema(spec: dict, op: dict) -> dict | None:
    content = ((op.get("requestBody") or {}).get("content")) or {}
    for media in ("application/json", *content):
        schema = (content.get(media) or {}).get("schema")
        if schema:
            return schema
    for param in op.get("parameters") or []:
        if param.get("in") == "body" and param.get("schema"):
            return param["schema"]
    return None


def _variants(spec: dict, op: dict) -> dict | None:
    body = _body_schema(spec, op)
    if not body:
        return None
    node = _deref(spec, body)
    disc = node.get("discriminator") if isinstance(node, dict) else None
    if not isinstance(disc, dict) or disc.get("propertyName") != "method":
        return None
    by_ref = {ref: method for method, ref in (disc.get("mapping") or {}).items()}
    out: dict[str, dict] = {}
    for branch in node.get("oneOf") or []:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        method = by_ref.get(ref)
        target = _deref(spec, branch)
        if method is None or not isinstance(target, dict):
            continue
        required = list(target.get("required") or [])
        optional = sorted(p for p in (target.get("properties") or {}) if p not in required)
        out[method] = {"required": required, "optional": optional}
    return out or None


def endpoints(src: Checkout) -> list[dict]:
    path = next((p for p in SPEC_PATHS if src.read(p) is not None), None)
    if path is None:
        raise Unreadable("no API spec (spec/api.json or an older place)")
    spec = json.loads(src.read(path) or b"{}")
    base = spec.get("basePath") or ""
    base = "" if base == "/" else base.rstrip("/")
    rows = []
    for route, item in (spec.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        shared = item.get("parameters") or []
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = [_deref(spec, p) for p in [*shared, *(op.get("parameters") or [])]]
            tags = op.get("tags") or []
            row = {
                "method": method.upper(),
                "path": base + route,
                "operation_id": op.get("operationId"),
                "query": [
                    {"name": p.get("name"), "required": bool(p.get("required", False))}
                    for p in params
                    if isinstance(p, dict) and p.get("in") == "query"
                ],
                "error_ids": documented_error_ids(op.get("description") or ""),
                "docs_url": f"{DOCS_API}#tag/{tags[0]}/operation/{op.get('operationId')}" if tags else DOCS_API,
            }
            variants = _variants(spec, op)
            if variants:
                row["variants"] = variants
            rows.append(row)
    return sorted(rows, key=lambda r: (r["path"], r["method"]))


# ------------------------------------------------------------------------------------------- all tables


def error_id_names(src: Checkout) -> dict[str, str]:
    text = src.text(ERROR_GO)
    return error_id_consts(text) if text else {}


def generate(src: Checkout, tables: tuple[str, ...] = TABLES) -> dict[str, dict]:
    """The fact table documents of one checkout, by table name."""
    built: dict[str, list[dict]] = {}
    tree = go_tree(src)
    if "ui_messages" in tables:
        built["ui_messages"] = ui_messages(src, tree)
    if "error_ids" in tables or "reasons" in tables:
        names = error_id_names(src)
        found = kratos_errors.extract(tree, names)
        if "error_ids" in tables:
            built["error_ids"] = kratos_errors.error_id_rows(found, names)
        if "reasons" in tables:
            built["reasons"] = kratos_errors.reason_rows(found)
    if "config_keys" in tables:
        built["config_keys"] = config_keys(src)
    if "endpoints" in tables:
        built["endpoints"] = endpoints(src)
    return {
        name: {"source": SOURCE, "ref": src.ref, "commit": src.commit, "count": len(rows), "rows": rows}
        for name, rows in built.items()
    }


def write(out: Path, docs: dict[str, dict]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
