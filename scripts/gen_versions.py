"""Generate knowledge/facts/versions.json: the first Kratos release that has a config key, error id,
UI message id, API endpoint or self-service `method`, and the last release that had items gone at HEAD.

Reads the files of every release tag straight from a Kratos git repository (bare or with a work tree):
the config schema (flattened like knowledge/facts/config_keys.json), `text/message_error.go`
(`ErrID*` string constants), `text/id.go` (the `ID` const blocks, evaluated as Go does), and the
OpenAPI / Swagger spec (paths x methods, and the `method` discriminator mappings of the update bodies).
Facts only, no prose.

Run: python scripts/gen_versions.py [--kratos-src DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = Path("/work/.mirror/ory+kratos/repo")
DEFAULT_OUT = ROOT / "knowledge" / "facts" / "versions.json"

KINDS = ("config_key", "error_id", "ui_message", "endpoint", "method")

# v1.2.3, v0.8.0-alpha.1, v0.8.0-alpha.4.pre.0, v0.11.0-alpha.0.pre.1, v0.0.1-alpha.10+oryOS.15
TAG_RE = re.compile(
    r"^v(\d+)\.(\d+)\.(\d+)"
    r"(?:-((?:alpha|beta|rc|pre)(?:\.[0-9A-Za-z]+)*))?"
    r"(?:\+[0-9A-Za-z.-]+)?$"
)

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
ID_GO = "text/id.go"
# Older releases declared most `text.ID` constants next to their messages in text/message_*.go.
TEXT_GO_RE = re.compile(r"^text/[^/]+(?<!_test)\.go$")
ERROR_GO = "text/message_error.go"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
BODY_RE = re.compile(r"^(?:submitSelfService|update)([A-Z][A-Za-z]*)FlowBody$")


class Unreadable(Exception):
    """A file of a tag exists but cannot be parsed."""


# --------------------------------------------------------------------------------------------- git


class Git:
    """Reads blobs through one long-running `git cat-file --batch`."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.proc = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def run(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.repo), *args], check=True, capture_output=True, text=True).stdout

    def blob(self, rev: str, path: str) -> tuple[str, bytes] | None:
        """(blob sha, content) of rev:path, or None when the path does not exist at rev."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(f"{rev}:{path}\n".encode())
        self.proc.stdin.flush()
        header = self.proc.stdout.readline().decode().split()
        if len(header) != 3:  # "<rev:path> missing" / "ambiguous"
            return None
        sha, kind, size = header
        data = self.proc.stdout.read(int(size))
        self.proc.stdout.read(1)  # trailing newline
        if kind != "blob":
            return None
        return sha, data

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait()


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


# ------------------------------------------------------------------------------------ config schema


def pick_config_schema(files: Iterable[str]) -> str | None:
    names = [f for f in files if f.endswith("config.schema.json")]
    for path in CONFIG_SCHEMA_PATHS:
        if path in names:
            return path
    rest = [f for f in names if f.split("/")[-1] == "config.schema.json" and not CONFIG_SCHEMA_EXCLUDE.search(f)]
    return sorted(rest, key=lambda f: (f.count("/"), f))[0] if rest else None


def _resolve_local(root: dict, ref: str):
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


def flatten_schema(root: dict) -> set[str]:
    """Dotted key paths of a JSON schema: nested `properties`, `<name>` for user-chosen map keys
    (additionalProperties / patternProperties schemas), `[]` for array items. Local refs are resolved,
    external refs ignored; properties in allOf/anyOf/oneOf branches and if/then/else are included."""
    keys: set[str] = set()

    def join(prefix: str, name: str) -> str:
        return f"{prefix}.{name}" if prefix else name

    def walk(node, prefix: str, stack: tuple[int, ...]) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node and isinstance(node["$ref"], str):
            target = _resolve_local(root, node["$ref"])
            if target is not None and id(target) not in stack:
                walk(target, prefix, stack + (id(target),))
        for name, sub in (node.get("properties") or {}).items():
            if sub is False:  # a property the schema forbids (e.g. a misplaced "additionalProperties": false)
                continue
            path = join(prefix, name)
            keys.add(path)
            walk(sub, path, stack)
        maps = list((node.get("patternProperties") or {}).values())
        if isinstance(node.get("additionalProperties"), dict):
            maps.append(node["additionalProperties"])
        for sub in maps:
            path = join(prefix, "<name>")
            keys.add(path)
            walk(sub, path, stack)
        items = node.get("items")
        for sub in items if isinstance(items, list) else [items]:
            if isinstance(sub, dict):
                walk(sub, prefix + "[]", stack)
        for kw in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(kw) or []:
                walk(sub, prefix, stack)
        for kw in ("if", "then", "else"):
            walk(node.get(kw), prefix, stack)

    walk(root, "", ())
    keys.discard("")
    return keys


# ------------------------------------------------------------------------------------------ Go text


def strip_go_comments(src: str) -> str:
    """Remove // and /* */ comments, keeping string and rune literals and line breaks."""
    out: list[str] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            block = src[i : (n if j < 0 else j + 2)]
            out.append("\n" * block.count("\n") or " ")
            i = n if j < 0 else j + 2
        elif c in "\"'`":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if c != "`" and src[j] == "\\" else 1
            out.append(src[i : j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


_TOKEN_RE = re.compile(
    r"\s*(?:(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]+|[0-9][0-9_]*)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)"
    r"|(<<|>>|&\^|[-+*/%&|^()]))"
)


class _Expr:
    """Recursive-descent evaluator for Go integer constant expressions."""

    PREC = {"|": 1, "^": 1, "+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "<<": 2, ">>": 2, "&": 2, "&^": 2}

    def __init__(self, text: str, iota: int, consts: dict[str, int]):
        self.toks: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                raise Unreadable(f"cannot tokenise constant expression {text!r}")
            num, name, op = m.groups()
            self.toks.append(("num", num) if num else ("name", name) if name else ("op", op))
            pos = m.end()
        self.i = 0
        self.iota = iota
        self.consts = consts

    def value(self) -> int:
        v = self.binary(1)
        if self.i != len(self.toks):
            raise Unreadable(f"trailing tokens in constant expression: {self.toks[self.i :]}")
        return v

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def binary(self, prec: int) -> int:
        left = self.unary()
        while True:
            t = self.peek()
            if not t or t[0] != "op" or t[1] not in self.PREC or self.PREC[t[1]] < prec:
                return left
            self.i += 1
            right = self.binary(self.PREC[t[1]] + 1)
            left = self.apply(t[1], left, right)

    @staticmethod
    def apply(op: str, a: int, b: int) -> int:
        if op == "/":
            q = abs(a) // abs(b)  # Go truncates towards zero
            return q if (a >= 0) == (b >= 0) else -q
        if op == "%":
            return a - b * _Expr.apply("/", a, b)
        ops: dict[str, Callable[[int, int], int]] = {
            "+": lambda x, y: x + y,
            "-": lambda x, y: x - y,
            "*": lambda x, y: x * y,
            "<<": lambda x, y: x << y,
            ">>": lambda x, y: x >> y,
            "&": lambda x, y: x & y,
            "|": lambda x, y: x | y,
            "^": lambda x, y: x ^ y,
            "&^": lambda x, y: x & ~y,
        }
        return ops[op](a, b)

    def unary(self) -> int:
        t = self.peek()
        if t is None:
            raise Unreadable("empty constant expression")
        self.i += 1
        kind, text = t
        if kind == "op" and text in "+-^":
            v = self.unary()
            return {"+": v, "-": -v, "^": ~v}[text]
        if kind == "op" and text == "(":
            v = self.binary(1)
            self.expect(")")
            return v
        if kind == "num":
            return int(text.replace("_", ""), 0) if not re.fullmatch(r"0[0-7_]+", text) else int(text, 8)
        if kind == "name":
            if text == "iota":
                return self.iota
            nxt = self.peek()
            if nxt == ("op", "("):  # type conversion such as ID(5) or int(x)
                self.i += 1
                v = self.binary(1)
                self.expect(")")
                return v
            if text in self.consts:
                return self.consts[text]
            raise Unreadable(f"unknown identifier {text!r} in constant expression")
        raise Unreadable(f"unexpected token {text!r}")

    def expect(self, op: str) -> None:
        if self.peek() != ("op", op):
            raise Unreadable(f"expected {op!r}")
        self.i += 1


def _split_top(text: str) -> list[str]:
    """Split an expression list on commas outside parentheses."""
    parts, depth, cur = [], 0, []
    for c in text:
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        depth += (c == "(") - (c == ")")
        cur.append(c)
    parts.append("".join(cur))
    return [p.strip() for p in parts]


def _closing_paren(text: str, start: int) -> int:
    """Index of the `)` closing the `(` just before `start`, skipping string and rune literals."""
    depth, j, n = 1, start, len(text)
    while j < n:
        c = text[j]
        if c in "\"'`":
            k = j + 1
            while k < n and text[k] != c:
                k += 2 if c != "`" and text[k] == "\\" else 1
            j = k + 1
            continue
        depth += (c == "(") - (c == ")")
        if depth == 0:
            return j
        j += 1
    raise Unreadable("unclosed const block")


_SPEC_RE = re.compile(
    r"^(?P<names>[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*(?P<type>[A-Za-z_][\w.]*)?\s*(?:=\s*(?P<expr>.+))?$"
)


def go_int_consts(sources: str | Iterable[str], type_name: str = "ID") -> dict[str, int]:
    """Evaluate every integer constant of type `type_name` in Go source files of one package, as the
    compiler does: iota counts the specs of a const block (blank `_` specs included), a spec without
    `= expr` repeats the type and expression list of the previous spec."""
    consts: dict[str, int] = {}
    typed: dict[str, int] = {}
    for src in [sources] if isinstance(sources, str) else sources:
        _eval_consts(strip_go_comments(src), type_name, consts, typed)
    return typed


def _eval_consts(text: str, type_name: str, consts: dict[str, int], typed: dict[str, int]) -> None:

    def handle_spec(line: str, iota: int, prev: tuple[str | None, list[str]] | None):
        m = _SPEC_RE.match(line)
        if not m:
            raise Unreadable(f"cannot parse const spec {line!r}")
        names = [n.strip() for n in m.group("names").split(",")]
        if m.group("expr") is not None:
            spec = (m.group("type"), _split_top(m.group("expr")))
        elif m.group("type") is not None:
            raise Unreadable(f"const spec with a type but no value: {line!r}")
        elif prev is None:
            raise Unreadable(f"first const spec without a value: {line!r}")
        else:
            spec = prev
        ctype, exprs = spec
        if len(exprs) != len(names):
            raise Unreadable(f"{len(names)} names but {len(exprs)} values in {line!r}")
        for name, expr in zip(names, exprs, strict=True):
            if expr.startswith(('"', "`", "'")):
                continue  # string / rune constant
            try:
                value = _Expr(expr, iota, consts).value()
            except Unreadable:
                if ctype == type_name:
                    raise
                continue  # some other (float, string, ...) constant: not needed
            if name == "_":
                continue
            consts[name] = value
            if ctype == type_name:
                typed[name] = value
        return spec

    pos = 0
    for m in re.finditer(r"(?m)^\s*const\b\s*(\()?", text):
        if m.start() < pos:
            continue
        if m.group(1):  # const ( ... )
            end = _closing_paren(text, m.end())
            prev = None
            iota = 0
            for raw in text[m.end() : end].split("\n"):
                line = raw.strip().rstrip(";").strip()
                if not line:
                    continue
                prev = handle_spec(line, iota, prev)
                iota += 1
            pos = end + 1
        else:
            eol = text.find("\n", m.end())
            handle_spec(text[m.end() : len(text) if eol < 0 else eol].strip(), 0, None)
            pos = m.end()


_ERRID_RE = re.compile(r"\b(ErrID\w*)\s*(?:string\s*)?=\s*(?:\"((?:[^\"\\]|\\.)*)\"|`([^`]*)`)")


def error_ids(src: str) -> set[str]:
    text = strip_go_comments(src)
    return {m.group(2) if m.group(2) is not None else m.group(3) for m in _ERRID_RE.finditer(text)}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kratos-src", type=Path, default=DEFAULT_SRC, help="Kratos git repository (bare or not)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not (args.kratos_src / "HEAD").is_file() and not (args.kratos_src / ".git").exists():
        sys.exit(f"not a git repository: {args.kratos_src}")
    started = time.monotonic()
    doc, head_sets = build(args.kratos_src)

    facts = ROOT / "knowledge" / "facts"
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

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = ", ".join(f"{k}: {len(doc['first_release'][k])}/{len(doc['removed_after'][k])}" for k in KINDS)
    print(f"{len(doc['tags'])} tags; first_release/removed_after {counts}")
    print(f"wrote {args.out} in {time.monotonic() - started:.1f}s")


if __name__ == "__main__":
    main()
