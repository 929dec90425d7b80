"""Reading Go source without running Go: a lexer, string literal decoding and the constant evaluator.

Shared by the fact generator (kbgen/kratos_facts.py) and kbgen/versions.py. Everything here is
linear in the size of the input: one pass of anchored regex matches, no backtracking over the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


class Unreadable(Exception):
    """A file exists but cannot be parsed."""


# --------------------------------------------------------------------------------------------- lexer


@dataclass(frozen=True, slots=True)
class Tok:
    kind: str  # ident, number, string, char, op
    text: str  # as written in the source
    line: int
    start: int  # offsets into the source
    end: int


_LEX_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
    | (?P<comment>//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
    | (?P<string>"(?:[^"\\\n]|\\.)*"|`[^`]*`)
    | (?P<char>'(?:[^'\\\n]|\\[^\n]+?)')
    | (?P<number>0[xX][0-9a-fA-F_]*(?:\.[0-9a-fA-F_]*)?(?:[pP][+-]?[0-9_]+)?i?
        |[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?i?
        |\.[0-9][0-9_]*(?:[eE][+-]?[0-9_]+)?i?)
    | (?P<ident>[^\W\d]\w*)
    | (?P<op><<=|>>=|&\^=|\.\.\.|&&|\|\||<-|\+\+|--|==|!=|<=|>=|:=|<<|>>|&\^|[-+*/%&|^]=|[-+*/%&|^<>=!(){}\[\],;.:~])
    """,
    re.VERBOSE,
)


def tokenize(src: str) -> list[Tok]:
    """Go tokens of `src` without whitespace and comments. Characters Go would reject are skipped."""
    toks: list[Tok] = []
    pos, line, n = 0, 1, len(src)
    while pos < n:
        m = _LEX_RE.match(src, pos)
        if m is None:  # an unterminated literal or a stray character: skip it
            line += src[pos] == "\n"
            pos += 1
            continue
        kind = m.lastgroup or ""
        text = m.group()
        if kind not in ("ws", "comment"):
            toks.append(Tok(kind, text, line, pos, m.end()))
        line += text.count("\n")
        pos = m.end()
    return toks


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}
_ESCAPE_RE = re.compile(r"\\(?:([abfnrtv\\'\"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-7]{3}))")


def unquote(raw: str) -> str:
    """The value of a Go string literal (interpreted `"..."` or raw `` `...` ``)."""
    if raw.startswith("`"):
        return raw[1:-1].replace("\r", "")
    body = raw[1:-1]
    if "\\" not in body:
        return body
    parts: list[str] = []
    pending = bytearray()  # \x and octal escapes are bytes; decode runs of them as UTF-8

    def flush() -> None:
        if pending:
            parts.append(pending.decode("utf-8", errors="replace"))
            pending.clear()

    pos = 0
    for m in _ESCAPE_RE.finditer(body):
        if m.start() > pos:
            flush()
            parts.append(body[pos : m.start()])
        simple, hex2, u4, u8, octal = m.groups()
        if hex2 or octal:
            pending.append(int(hex2, 16) if hex2 else int(octal, 8))
        else:
            flush()
            parts.append(_ESCAPES[simple] if simple else chr(int(u4 or u8, 16)))
        pos = m.end()
    flush()
    parts.append(body[pos:])
    return "".join(parts)


def matching(toks: list[Tok], i: int) -> int:
    """Index of the bracket closing (or opening, for a closing one) the bracket at `i`."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    back = {v: k for k, v in pairs.items()}
    opening = toks[i].text
    if opening in pairs:
        close, step = pairs[opening], 1
    elif opening in back:
        close, step = back[opening], -1
    else:
        raise ValueError(f"not a bracket: {opening!r}")
    depth, j = 0, i
    while 0 <= j < len(toks):
        t = toks[j].text
        if toks[j].kind == "op":
            if t == opening:
                depth += 1
            elif t == close:
                depth -= 1
                if depth == 0:
                    return j
        j += step
    return len(toks) - 1 if step > 0 else 0


def split_range(toks: list[Tok], a: int, b: int) -> list[tuple[int, int]]:
    """The comma-separated parts of tokens [a, b) outside brackets, as (start, end) pairs (end exclusive)."""
    parts: list[tuple[int, int]] = []
    start = j = a
    while j < b:
        t = toks[j]
        if t.kind == "op" and t.text in "([{":
            j = matching(toks, j) + 1
            continue
        if t.kind == "op" and t.text == ",":
            parts.append((start, j))
            start = j + 1
        j += 1
    if start < b:
        parts.append((start, b))
    return parts


def split_args(toks: list[Tok], open_i: int) -> tuple[list[tuple[int, int]], int]:
    """The top-level comma-separated parts inside the bracket at `open_i`, and the index of its closing bracket."""
    close = matching(toks, open_i)
    return split_range(toks, open_i + 1, close), close


# ------------------------------------------------------------------------------ integer constants


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
    `= expr` repeats the type and expression list of the previous spec. The dict keeps declaration order."""
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


def error_id_consts(src: str) -> dict[str, str]:
    """`ErrID*` string constants of a Go file (text/message_error.go), name -> value, in source order."""
    text = strip_go_comments(src)
    return {m.group(1): m.group(2) if m.group(2) is not None else m.group(3) for m in _ERRID_RE.finditer(text)}


def error_ids(src: str) -> set[str]:
    return set(error_id_consts(src).values())
