"""A small index of Go source: per file its package, imports, functions and package-level consts and
vars; per checkout the packages by directory, with import paths mapped to directories through go.mod.
Enough to follow error constructors, constants and message texts across packages, nothing more."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kbgen.gosrc import Tok, matching, split_args, split_range, tokenize, unquote

GO_KEYWORDS = frozenset(
    "break case chan const continue default defer else fallthrough for func go goto if import interface map "
    "package range return select struct switch type var".split()
)
# Tokens after which a line break ends a statement (Go's semicolon insertion rule).
_ENDS_LINE_KW = frozenset(("break", "continue", "fallthrough", "return"))


def ends_statement(t: Tok) -> bool:
    if t.kind in ("number", "string", "char"):
        return True
    if t.kind == "ident":
        return t.text not in GO_KEYWORDS or t.text in _ENDS_LINE_KW
    return t.text in (")", "]", "}", "++", "--")


def stmt_end(toks: list[Tok], i: int, limit: int) -> int:
    """Exclusive end index of the statement (or declaration spec) starting at `i`, not beyond `limit`:
    the index of its `;` or of the bracket closing the enclosing group, or the token after its last."""
    j = i
    while j < limit:
        t = toks[j]
        if t.kind == "op":
            if t.text == ";" or t.text in ")]}":
                return j
            if t.text in "([{":
                j = matching(toks, j)
                if j >= limit:
                    return limit
                t = toks[j]
        if j + 1 < limit and toks[j + 1].line > t.line and ends_statement(t):
            return j + 1
        j += 1
    return limit


@dataclass
class Func:
    name: str
    recv: str  # receiver type name, "" for plain functions
    params: list[str]
    body: tuple[int, int]  # indexes of `{` and `}`; (-1, -1) without a body
    file: GoFile


@dataclass
class Spec:
    """One name of a package-level const or var declaration and the token span of its value."""

    kind: str  # const | var
    name: str
    span: tuple[int, int] | None  # None: no explicit value
    file: GoFile


class GoFile:
    def __init__(self, path: str, src: str):
        self.path = path
        self.dir = posixpath.dirname(path)
        self.src = src
        self.toks = tokenize(src)
        self.package = ""
        self.imports_raw: list[tuple[str | None, str]] = []  # (alias or None, import path)
        self.funcs: list[Func] = []
        self.specs: dict[str, Spec] = {}
        self._parse_top()

    # ------------------------------------------------------------------ top level

    def _parse_top(self) -> None:
        toks, n, i = self.toks, len(self.toks), 0
        while i < n:
            t = toks[i]
            if t.kind == "ident" and t.text == "package" and i + 1 < n:
                self.package = toks[i + 1].text
                i += 2
            elif t.kind == "ident" and t.text == "import":
                i = self._imports(i + 1)
            elif t.kind == "ident" and t.text in ("const", "var"):
                i = self._decl(i + 1, t.text)
            elif t.kind == "ident" and t.text == "func":
                i = self._func(i)
            elif t.kind == "op" and t.text in "([{":
                i = matching(toks, i) + 1
            else:
                i += 1

    def _import_spec(self, a: int, b: int) -> None:
        toks = self.toks
        if a >= b:
            return
        name = None
        if toks[a].kind != "string":
            name = toks[a].text
            a += 1
        if a >= b or toks[a].kind != "string" or name in ("_", "."):
            return
        self.imports_raw.append((name, unquote(toks[a].text)))

    def _group(self, i: int, spec) -> int:
        """`import`/`const`/`var`/`type` at token i: one spec, or a `( … )` group of them; calls
        spec(start, end) for each non-empty one and returns the index after the declaration."""
        toks = self.toks
        if i < len(toks) and toks[i].text == "(":
            close = matching(toks, i)
            j = i + 1
            while j < close:
                end = stmt_end(toks, j, close)
                if end > j:
                    spec(j, end)
                j = end + 1 if end < close and toks[end].text == ";" else max(end, j + 1)
            return close + 1
        end = stmt_end(toks, i, len(toks))
        spec(i, end)
        return max(end, i + 1)

    def _imports(self, i: int) -> int:
        return self._group(i, self._import_spec)

    def _spec(self, a: int, b: int, kind: str) -> None:
        toks = self.toks
        names: list[str] = []
        j = a
        while j < b and toks[j].kind == "ident":
            names.append(toks[j].text)
            if j + 1 < b and toks[j + 1].text == ",":
                j += 2
                continue
            j += 1
            break
        eq = next((k for k in range(j, b) if toks[k].kind == "op" and toks[k].text == "="), None)
        if eq is None:
            for name in names:
                self.specs.setdefault(name, Spec(kind, name, None, self))
            return
        for name, span in zip(names, split_range(toks, eq + 1, b), strict=False):
            if name != "_":
                self.specs[name] = Spec(kind, name, span, self)

    def _decl(self, i: int, kind: str) -> int:
        return self._group(i, lambda a, b: self._spec(a, b, kind))

    def _func(self, i: int) -> int:
        toks, n = self.toks, len(self.toks)
        j = i + 1
        recv = ""
        if j < n and toks[j].text == "(":
            close = matching(toks, j)
            idents = [t.text for t in toks[j + 1 : close] if t.kind == "ident"]
            recv = idents[-1] if idents else ""
            # generic receivers: (r *Repo[T]) -> Repo
            br = next((k for k in range(j + 1, close) if toks[k].text == "["), None)
            if br is not None:
                before = [t.text for t in toks[j + 1 : br] if t.kind == "ident"]
                recv = before[-1] if before else recv
            j = close + 1
        if j >= n or toks[j].kind != "ident":
            return j
        name = toks[j].text
        j += 1
        if j < n and toks[j].text == "[":
            j = matching(toks, j) + 1
        params: list[str] = []
        if j < n and toks[j].text == "(":
            parts, close = split_args(toks, j)
            named = any(b - a >= 2 and toks[a].kind == "ident" and toks[a + 1].text != "." for a, b in parts)
            if named:
                params = [toks[a].text for a, _ in parts if toks[a].kind == "ident"]
            j = close + 1
        body = (-1, -1)
        while j < n:
            t = toks[j]
            if t.kind == "op" and t.text in "([":
                j = matching(toks, j) + 1
                continue
            if t.kind == "op" and t.text == "{":
                if j > 0 and toks[j - 1].text in ("interface", "struct"):
                    j = matching(toks, j) + 1
                    continue
                body = (j, matching(toks, j))
                break
            if t.kind == "ident" and t.text in ("func", "type", "var", "const", "import"):
                break
            j += 1
        self.funcs.append(Func(name, recv, params, body, self))
        return body[1] + 1 if body[0] >= 0 else j

    # ------------------------------------------------------------------ helpers

    def func_at(self, i: int) -> Func | None:
        for f in self.funcs:
            if f.body[0] <= i <= f.body[1]:
                return f
        return None

    def source(self, a: int, b: int) -> str:
        """The source text of tokens [a, b), whitespace runs collapsed to one space."""
        if b <= a:
            return ""
        return " ".join(self.src[self.toks[a].start : self.toks[b - 1].end].split())


def local_assignments(f: GoFile, fn: Func, name: str, before: int | None = None) -> list[tuple[int, int]]:
    """Value spans assigned to the local variable `name` in `fn` (`name := v`, `name = v`,
    `var name = v`), in source order; only those before token index `before` when given."""
    toks = f.toks
    a, b = fn.body
    end_at = b if before is None else min(b, before)
    out = []
    for i in range(a + 1, end_at):
        t = toks[i]
        if t.kind != "ident" or t.text != name or toks[i - 1].text in (".", ","):
            continue
        j = i + 1
        if toks[j].text == ",":
            continue  # multi-value assignment: the value cannot be told apart
        if toks[i - 1].text == "var" and toks[j].kind == "ident":
            j += 1  # var name Type = value
            while toks[j].text == "." and toks[j + 1].kind == "ident":
                j += 2
        if toks[j].text not in (":=", "="):
            continue
        end = stmt_end(toks, j + 1, b)
        out.append((j + 1, end))
    return out


@dataclass
class Package:
    dir: str
    files: list[GoFile] = field(default_factory=list)

    def specs(self, name: str) -> Spec | None:
        for f in self.files:
            if name in f.specs:
                return f.specs[name]
        return None

    def funcs(self, name: str, recv: str = "") -> list[Func]:
        return [fn for f in self.files for fn in f.funcs if fn.name == name and fn.recv == recv]


class GoTree:
    """The Go packages of one checkout, loaded lazily: `read(path) -> str | None`, `files` all paths."""

    def __init__(self, files: list[str], read: Callable[[str], str | None], include: Callable[[str], bool]):
        self.read = read
        self.include = include
        self.by_dir: dict[str, list[str]] = {}
        for path in files:
            if path.endswith(".go") and not path.endswith("_test.go") and include(path):
                self.by_dir.setdefault(posixpath.dirname(path), []).append(path)
        self._files: dict[str, GoFile] = {}
        self._packages: dict[str, Package] = {}
        self.module = ""
        self.replaces: dict[str, str] = {}  # import path prefix -> directory
        gomod = read("go.mod") if "go.mod" in set(files) else None
        if gomod:
            m = re.search(r"(?m)^module\s+(\S+)", gomod)
            self.module = m.group(1) if m else ""
            for old, new in re.findall(r"(?m)^\s*(?:replace\s+)?(\S+)(?:\s+v\S+)?\s+=>\s+(\.\.?/\S*)\s*$", gomod):
                self.replaces[old] = posixpath.normpath(new)

    def file(self, path: str) -> GoFile | None:
        if path not in self._files:
            src = self.read(path)
            if src is None:
                return None
            self._files[path] = GoFile(path, src)
        return self._files[path]

    def package(self, directory: str) -> Package | None:
        if directory not in self._packages:
            paths = self.by_dir.get(directory)
            if not paths:
                return None
            pkg = Package(directory)
            for path in paths:
                f = self.file(path)
                if f is not None:
                    pkg.files.append(f)
            # files of another package in the same directory (e.g. `package main` tools) are left out
            names = [f.package for f in pkg.files if not f.package.endswith("_test")]
            if names:
                main = max(set(names), key=names.count)
                pkg.files = [f for f in pkg.files if f.package == main]
            self._packages[directory] = pkg
        return self._packages[directory]

    def import_dir(self, import_path: str) -> str | None:
        """The directory of an import path inside this checkout, or None for outside packages."""
        for old, new in sorted(self.replaces.items(), key=lambda kv: -len(kv[0])):
            if import_path == old or import_path.startswith(old + "/"):
                rest = import_path[len(old) :].lstrip("/")
                return posixpath.normpath(posixpath.join(new, rest)) if rest else new
        if self.module and (import_path == self.module or import_path.startswith(self.module + "/")):
            return import_path[len(self.module) :].lstrip("/") or "."
        return None

    def resolve_package(self, file: GoFile, qualifier: str) -> Package | None:
        """The in-checkout package a qualified identifier `qualifier.Name` of `file` refers to."""
        for alias, path in file.imports_raw:
            if alias is not None and alias != qualifier:
                continue
            directory = self.import_dir(path)
            if directory is None:
                continue
            if alias is None and posixpath.basename(directory) != qualifier:
                pkg = self.package(directory)
                if pkg is None or not pkg.files or pkg.files[0].package != qualifier:
                    continue
            return self.package(directory)
        return None

    def lookup_spec(self, file: GoFile, name: str, qualifier: str | None = None) -> Spec | None:
        pkg = self.resolve_package(file, qualifier) if qualifier else self.package(file.dir)
        return pkg.specs(name) if pkg else None

    def lookup_funcs(self, file: GoFile, name: str, qualifier: str | None = None) -> list[Func]:
        pkg = self.resolve_package(file, qualifier) if qualifier else self.package(file.dir)
        return pkg.funcs(name) if pkg else []
