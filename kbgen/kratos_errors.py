"""The error strings Kratos attaches to HTTP errors, found in its Go source without running Go.

Looked for in shipped code (no tests, no generated SDKs):
- herodot error chains: `.WithReason(f)` / `.WithError(f)` / `.WithDetail(f)` with the `.WithID(text.ErrID…)`
  of the same chain, the HTTP status from the root of the chain (`herodot.ErrBadRequest()`, a Kratos
  factory such as `nosurfx.ErrGone()` followed through its `return`, a package-level error variable, or a
  local variable assigned one of these);
- `herodot.DefaultError{…}` literals: `ReasonField`, `ErrorField`, status from `CodeField`, id from `IDField`;
- `jsonschema.ValidationError{Message: …}` literals: form validation messages (HTTP 400 with the flow).
Texts are the decoded Go literals; `…f` variants and `fmt.Sprintf` keep their format verbs. String
constants (also across packages) are resolved; parts that cannot be resolved become `{expression}`, and a
value with no literal part at all is not a literal text (kept only as `{expression}` for error ids).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kbgen.goindex import GO_KEYWORDS, Func, GoFile, GoTree, local_assignments, stmt_end
from kbgen.gosrc import Tok, matching, split_args, split_range, unquote

# github.com/ory/herodot error_defaults.go (the version Kratos pins): constructor -> HTTP status
HERODOT_STATUS = {
    "ErrNotFound": 404,
    "ErrUnauthorized": 401,
    "ErrForbidden": 403,
    "ErrInternalServerError": 500,
    "ErrBadRequest": 400,
    "ErrUnsupportedMediaType": 415,
    "ErrConflict": 409,
    "ErrMisconfiguration": 500,
    "ErrUpstreamError": 502,
}
# net/http status constants
HTTP_STATUS = {
    "StatusContinue": 100, "StatusSwitchingProtocols": 101, "StatusProcessing": 102, "StatusEarlyHints": 103,
    "StatusOK": 200, "StatusCreated": 201, "StatusAccepted": 202, "StatusNonAuthoritativeInfo": 203,
    "StatusNoContent": 204, "StatusResetContent": 205, "StatusPartialContent": 206, "StatusMultiStatus": 207,
    "StatusAlreadyReported": 208, "StatusIMUsed": 226, "StatusMultipleChoices": 300, "StatusMovedPermanently": 301,
    "StatusFound": 302, "StatusSeeOther": 303, "StatusNotModified": 304, "StatusUseProxy": 305,
    "StatusTemporaryRedirect": 307, "StatusPermanentRedirect": 308, "StatusBadRequest": 400,
    "StatusUnauthorized": 401, "StatusPaymentRequired": 402, "StatusForbidden": 403, "StatusNotFound": 404,
    "StatusMethodNotAllowed": 405, "StatusNotAcceptable": 406, "StatusProxyAuthRequired": 407,
    "StatusRequestTimeout": 408, "StatusConflict": 409, "StatusGone": 410, "StatusLengthRequired": 411,
    "StatusPreconditionFailed": 412, "StatusRequestEntityTooLarge": 413, "StatusRequestURITooLong": 414,
    "StatusUnsupportedMediaType": 415, "StatusRequestedRangeNotSatisfiable": 416, "StatusExpectationFailed": 417,
    "StatusTeapot": 418, "StatusMisdirectedRequest": 421, "StatusUnprocessableEntity": 422, "StatusLocked": 423,
    "StatusFailedDependency": 424, "StatusTooEarly": 425, "StatusUpgradeRequired": 426,
    "StatusPreconditionRequired": 428, "StatusTooManyRequests": 429, "StatusRequestHeaderFieldsTooLarge": 431,
    "StatusUnavailableForLegalReasons": 451, "StatusInternalServerError": 500, "StatusNotImplemented": 501,
    "StatusBadGateway": 502, "StatusServiceUnavailable": 503, "StatusGatewayTimeout": 504,
    "StatusHTTPVersionNotSupported": 505, "StatusVariantAlsoNegotiates": 506, "StatusInsufficientStorage": 507,
    "StatusLoopDetected": 508, "StatusNotExtended": 510, "StatusNetworkAuthenticationRequired": 511,
}  # fmt: skip
VALIDATION_STATUS = 400  # form validation errors: the flow comes back with HTTP 400 (API) or a redirect
WITH_METHODS = {
    "WithReason": ("reason", False),
    "WithReasonf": ("reason", True),
    "WithError": ("error", False),
    "WithErrorf": ("error", True),
    "WithDetail": ("detail", False),
}
LITERAL_FIELDS = {"ReasonField": "reason", "ErrorField": "error"}
KEYWORDS = (b"WithReason", b"WithError", b"WithDetail", b"WithID", b"DefaultError{", b"ValidationError{")
_WRAPPERS = {("errors", "WithStack"), ("errors", "WithMessage"), ("errors", "Wrap"), ("errors", "Wrapf")}
MAX_DEPTH = 12


@dataclass
class Text:
    text: str
    literal: bool  # at least one part is a literal string (directly or through a constant)
    is_format: bool = False
    dynamic: bool = False  # some part could not be resolved and is written `{expression}`


@dataclass
class Found:
    """One string attached to an error."""

    file: str
    line: int
    field: str  # reason | error | detail | validation_message
    text: str
    literal: bool
    is_format: bool
    status: int | None
    error_id: str | None
    chain: tuple[str, int]  # (file, token index of the chain start): strings of one error share it


@dataclass
class Chain:
    file: str
    line: int
    start: int
    status: int | None
    error_id: str | None
    strings: list[Found] = field(default_factory=list)


class Extractor:
    def __init__(self, tree: GoTree, error_ids: dict[str, str]):
        self.tree = tree
        self.error_ids = error_ids  # ErrID const name -> id
        self.found: list[Found] = []
        self.chains: dict[tuple[str, int], Chain] = {}
        self._func_status: dict[tuple[str, str, str], int | None] = {}
        self._in_progress: set[tuple[str, str, str]] = set()

    # ------------------------------------------------------------------------ strings

    def string(self, f: GoFile, a: int, b: int, fn: Func | None, depth: int = 0) -> Text:
        """The text of a Go string expression: literals, `+`, constants, `fmt.Sprintf(format, …)`."""
        toks = f.toks
        if b - a >= 4 and [t.text for t in toks[a : a + 4]] == ["fmt", ".", "Sprintf", "("]:
            close = matching(toks, a + 3)
            if close == b - 1:
                parts, _ = split_args(toks, a + 3)
                if parts:
                    inner = self.string(f, *parts[0], fn, depth + 1)
                    return Text(inner.text, inner.literal, True, inner.dynamic)
        pieces: list[Text] = []
        start = j = a
        while j <= b:
            if j == b or (toks[j].kind == "op" and toks[j].text == "+"):
                pieces.append(self._string_part(f, start, j, fn, depth))
                start = j + 1
            elif toks[j].kind == "op" and toks[j].text in "([{":
                j = matching(toks, j)
            j += 1
        return Text(
            "".join(p.text for p in pieces),
            any(p.literal for p in pieces),
            any(p.is_format for p in pieces),
            any(p.dynamic for p in pieces),
        )

    def _string_part(self, f: GoFile, a: int, b: int, fn: Func | None, depth: int) -> Text:
        toks = f.toks
        if b - a == 1 and toks[a].kind == "string":
            return Text(unquote(toks[a].text), True)
        placeholder = Text("{" + f.source(a, b) + "}", False, dynamic=True)
        if depth >= MAX_DEPTH or b <= a:
            return placeholder
        if toks[a].text == "(" and matching(toks, a) == b - 1:
            return self.string(f, a + 1, b - 1, fn, depth + 1)
        # `t.Text` where `t := text.NewSomeMessage()`: the message's literal text
        if b - a == 3 and toks[a + 2].text == "Text" and fn is not None and self._is_local(f, fn, toks[a].text, a):
            return self._message_text(f, fn, toks[a].text, a, depth) or placeholder
        qualifier, name = None, None
        if b - a == 1 and toks[a].kind == "ident":
            name = toks[a].text
        elif b - a == 3 and toks[a].kind == "ident" and toks[a + 1].text == "." and toks[a + 2].kind == "ident":
            qualifier, name = toks[a].text, toks[a + 2].text
        if name is None:
            return placeholder
        if qualifier is None and fn is not None and self._is_local(f, fn, name, a):
            return placeholder
        spec = self.tree.lookup_spec(f, name, qualifier)
        if spec is None or spec.kind != "const" or spec.span is None:
            return placeholder
        return self.string(spec.file, *spec.span, None, depth + 1)

    def _is_local(self, f: GoFile, fn: Func, name: str, before: int) -> bool:
        if name in fn.params:
            return True
        toks = f.toks
        for i in range(fn.body[0] + 1, before):
            t = toks[i]
            if t.text == name and t.kind == "ident" and toks[i - 1].text != "." and toks[i + 1].text in (":=", ","):
                return True
        return False

    def _message_text(self, f: GoFile, fn: Func, var: str, before: int, depth: int) -> Text | None:
        for a, b in local_assignments(f, fn, var, before):
            toks = f.toks
            if b - a >= 4 and toks[a].kind == "ident" and toks[a + 1].text == "." and toks[a + 3].text == "(":
                funcs = self.tree.lookup_funcs(f, toks[a + 2].text, toks[a].text)
                for ctor in funcs:
                    got = self._ctor_text(ctor, depth + 1)
                    if got is not None:
                        return got
        return None

    def _ctor_text(self, fn: Func, depth: int) -> Text | None:
        """The `Text:` of the `Message{}` a text.New…() constructor returns, when it is a literal."""
        f = fn.file
        toks = f.toks
        for i in range(fn.body[0] + 1, fn.body[1]):
            if toks[i].text == "Message" and toks[i + 1].text == "{":
                parts, _ = split_args(toks, i + 1)
                for a, b in parts:
                    if toks[a].text == "Text" and toks[a + 1].text == ":":
                        got = self.string(f, a + 2, b, fn, depth)
                        return got if got.literal and not got.is_format else None
        return None

    # ------------------------------------------------------------------------ statuses

    def expr_status(self, f: GoFile, a: int, b: int, fn: Func | None, depth: int) -> set[int | None]:
        """Possible HTTP statuses of an error expression (a chain or a wrapper of one)."""
        toks = f.toks
        if depth >= MAX_DEPTH or b <= a:
            return {None}
        while a < b and toks[a].text in ("&", "*"):
            a += 1
        if toks[a].text == "(" and matching(toks, a) == b - 1:
            return self.expr_status(f, a + 1, b - 1, fn, depth + 1)
        if (
            b - a >= 4
            and (toks[a].text, toks[a + 2].text) in _WRAPPERS
            and toks[a + 3].text == "("
            and matching(toks, a + 3) == b - 1
        ):
            parts, _ = split_args(toks, a + 3)
            return self.expr_status(f, *parts[0], fn, depth + 1) if parts else {None}
        root = parse_root(toks, a, b)
        if root is None:
            return {None}
        return self.root_status(f, root, fn, depth + 1)

    def root_status(self, f: GoFile, root: Root, fn: Func | None, depth: int) -> set[int | None]:
        toks = f.toks
        if root.kind == "paren":
            return self.expr_status(f, root.inner[0], root.inner[1], fn, depth + 1)
        if root.kind == "composite":
            fields = composite_fields(toks, root.brace)
            if root.names[-1] == "DefaultError":
                return {self.code_field(f, fields)}
            if root.names[-1] == "ValidationError" and root.names[0] == "jsonschema":
                return {VALIDATION_STATUS}
            if "DefaultError" in fields:  # a Kratos error type embedding *herodot.DefaultError
                return self.expr_status(f, *fields["DefaultError"], fn, depth + 1)
            return {None}
        qualifier = root.names[0] if len(root.names) == 2 else None
        name = root.names[-1]
        if qualifier == "herodot":  # herodot.ErrBadRequest() (older herodot: the variable herodot.ErrBadRequest)
            return {HERODOT_STATUS.get(name)}
        if root.kind == "call":
            if len(root.names) > 2:
                return {None}
            funcs = self.tree.lookup_funcs(f, name, qualifier)
            return {self.func_status(funcs[0], depth + 1)} if funcs else {None}
        # a variable
        if len(root.names) > 2:
            return {None}
        if qualifier is None and fn is not None:
            spans = local_assignments(f, fn, name, root.start)
            if spans:
                out: set[int | None] = set()
                for va, vb in spans:
                    out |= self.expr_status(f, va, vb, fn, depth + 1)
                return out
            if name in fn.params:
                return {None}
        spec = self.tree.lookup_spec(f, name, qualifier)
        if spec is None or spec.kind != "var" or spec.span is None:
            return {None}
        return self.expr_status(spec.file, *spec.span, None, depth + 1)

    def code_field(self, f: GoFile, fields: dict[str, tuple[int, int]]) -> int | None:
        if "CodeField" not in fields:
            return None
        a, b = fields["CodeField"]
        toks = f.toks
        if b - a == 1 and toks[a].kind == "number":
            try:
                return int(toks[a].text)
            except ValueError:
                return None
        if b - a == 3 and toks[a].text == "http":
            return HTTP_STATUS.get(toks[a + 2].text)
        return None

    def func_status(self, fn: Func, depth: int) -> int | None:
        """The status of the errors a factory function returns, when all its returns agree."""
        key = (fn.file.path, fn.recv, fn.name)
        if key in self._func_status:
            return self._func_status[key]
        if key in self._in_progress or fn.body[0] < 0:
            return None
        self._in_progress.add(key)
        toks = fn.file.toks
        statuses: set[int | None] = set()
        a, b = fn.body
        i = a + 1
        while i < b:
            t = toks[i]
            if t.kind == "ident" and t.text == "func":  # a closure: its returns are not ours
                j = i + 1
                while j < b and toks[j].text != "{":
                    j = matching(toks, j) + 1 if toks[j].text in "([" else j + 1
                i = matching(toks, j) + 1 if j < b else b
                continue
            if t.kind == "ident" and t.text == "return":
                end = stmt_end(toks, i + 1, b)
                parts = split_range(toks, i + 1, end)
                if parts and not (parts[-1][1] - parts[-1][0] == 1 and toks[parts[-1][0]].text == "nil"):
                    # the error is the last result (`return nil, err`) or the only one
                    statuses |= self.expr_status(fn.file, *parts[-1], fn, depth + 1)
                i = end
                continue
            i += 1
        self._in_progress.discard(key)
        known = {s for s in statuses if s is not None}
        status = known.pop() if len(known) == 1 and None not in statuses else None
        self._func_status[key] = status
        return status

    # ------------------------------------------------------------------------ chains

    def error_id(self, f: GoFile, a: int, b: int) -> str | None:
        toks = f.toks
        name = toks[b - 1].text if b > a else ""
        if b - a in (1, 3) and name in self.error_ids:
            return self.error_ids[name]
        return None

    def chain_at(self, f: GoFile, start: int, fn: Func | None) -> Chain:
        key = (f.path, start)
        if key in self.chains:
            return self.chains[key]
        toks = f.toks
        root = parse_root(toks, start, len(toks))
        status: int | None = None
        error_id = None
        if root is not None:
            statuses = self.root_status(f, root, fn, 0)
            known = {s for s in statuses if s is not None}
            status = known.pop() if len(known) == 1 and None not in statuses else None
            if root.kind == "composite":
                fields = composite_fields(toks, root.brace)
                if "IDField" in fields:
                    error_id = self.error_id(f, *fields["IDField"])
            for name, open_i in chain_calls(toks, root.end):
                if name == "WithID":
                    parts, _ = split_args(toks, open_i)
                    if len(parts) == 1:
                        error_id = self.error_id(f, *parts[0]) or error_id
        chain = Chain(f.path, toks[start].line, start, status, error_id)
        self.chains[key] = chain
        return chain

    def add(
        self, f: GoFile, chain: Chain, fld: str, a: int, b: int, fn: Func | None, is_format: bool, line: int = 0
    ) -> None:
        text = self.string(f, a, b, fn)
        found = Found(
            f.path,
            line or f.toks[a - 2].line,
            fld,
            text.text,
            text.literal,
            is_format or text.is_format,
            chain.status,
            chain.error_id,
            (f.path, chain.start),
        )
        chain.strings.append(found)
        self.found.append(found)

    def scan(self, f: GoFile) -> None:
        toks = f.toks
        n = len(toks)
        for i in range(n - 2):
            t = toks[i]
            if t.kind == "op" and t.text == "." and toks[i + 1].kind == "ident" and toks[i + 2].text == "(":
                method = toks[i + 1].text
                if method not in WITH_METHODS and method != "WithID":
                    continue
                parts, _ = split_args(toks, i + 2)
                fld, is_format = WITH_METHODS.get(method, ("id", False))
                need = {"reason": 1, "error": 1, "detail": 2, "id": 1}[fld]
                if (len(parts) != need and not is_format) or len(parts) < need:
                    continue
                fn = f.func_at(i)
                start = chain_start(toks, i)
                if start is None:
                    continue
                chain = self.chain_at(f, start, fn)
                if fld == "id":
                    continue
                value = parts[need - 1]
                self.add(f, chain, fld, value[0], value[1], fn, is_format, toks[i + 1].line)
            elif t.kind == "ident" and toks[i + 1].text == "{" and t.text in ("DefaultError", "ValidationError"):
                if i < 2 or toks[i - 1].text != "." or toks[i - 2].text not in ("herodot", "jsonschema"):
                    continue
                if (toks[i - 2].text, t.text) not in (("herodot", "DefaultError"), ("jsonschema", "ValidationError")):
                    continue
                fn = f.func_at(i)
                start = i - 2
                chain = self.chain_at(f, start, fn)
                fields = composite_fields(toks, i + 1)
                if t.text == "DefaultError":
                    for name, fld in LITERAL_FIELDS.items():
                        if name in fields:
                            self.add(f, chain, fld, *fields[name], fn, False)
                elif "Message" in fields:
                    self.add(f, chain, "validation_message", *fields["Message"], fn, False)


# ----------------------------------------------------------------------------------- chain parsing


@dataclass
class Root:
    kind: str  # call | composite | var | paren
    names: list[str]  # dotted name parts (pkg, Name) or (var, field, ...)
    start: int
    end: int  # index just after the root expression
    brace: int = -1  # composite literal `{`
    inner: tuple[int, int] = (0, 0)  # paren contents


def chain_start(toks: list[Tok], dot: int) -> int | None:
    """Index of the first token of the selector/call chain whose `.` is at `dot`."""
    j = dot - 1
    while j >= 0:
        t = toks[j]
        if t.kind == "op" and t.text in (")", "]", "}"):
            o = matching(toks, j)
            prev = toks[o - 1] if o > 0 else None
            if t.text == "}":  # composite literal: the type name comes before `{`
                j = o - 1
                if prev is None or prev.kind != "ident":
                    return None
            elif prev is not None and (
                (prev.kind == "ident" and prev.text not in GO_KEYWORDS) or prev.text in (")", "]")
            ):
                j = o - 1
                if prev.text in (")", "]"):
                    continue
            else:
                j = o  # a parenthesised expression is the start
                return j
        elif t.kind != "ident" or t.text in GO_KEYWORDS:
            return None
        # toks[j] is an identifier: is it selected from something?
        if j >= 2 and toks[j - 1].text == ".":
            j -= 2
            continue
        if j >= 1 and toks[j - 1].text == "&":
            return j - 1
        return j
    return None


def parse_root(toks: list[Tok], a: int, b: int) -> Root | None:
    """The root operand of the chain starting at `a`: `pkg.Func(…)`, `&pkg.Type{…}`, `var`, `(…)`."""
    i = a
    while i < b and toks[i].text in ("&", "*"):
        i += 1
    if i >= b:
        return None
    if toks[i].text == "(":
        close = matching(toks, i)
        return Root("paren", [], a, close + 1, inner=(i + 1, close))
    if toks[i].kind != "ident":
        return None
    names = [toks[i].text]
    j = i + 1
    while j + 1 < b and toks[j].text == "." and toks[j + 1].kind == "ident":
        # stop before the first method of the chain: With*, or any call after a call
        if toks[j + 1].text.startswith("With") and j + 2 < b and toks[j + 2].text == "(":
            break
        names.append(toks[j + 1].text)
        j += 2
    if j < b and toks[j].text == "(":
        close = matching(toks, j)
        return Root("call", names, a, close + 1)
    if j < b and toks[j].text == "{":
        close = matching(toks, j)
        return Root("composite", names, a, close + 1, brace=j)
    return Root("var", names, a, j)


def chain_calls(toks: list[Tok], j: int) -> list[tuple[str, int]]:
    """The `.Method(` calls following a root that ends at `j`: (name, index of `(`)."""
    out = []
    n = len(toks)
    while j + 2 < n and toks[j].text == "." and toks[j + 1].kind == "ident" and toks[j + 2].text == "(":
        out.append((toks[j + 1].text, j + 2))
        j = matching(toks, j + 2) + 1
    return out


def composite_fields(toks: list[Tok], brace: int) -> dict[str, tuple[int, int]]:
    parts, _ = split_args(toks, brace)
    out: dict[str, tuple[int, int]] = {}
    for a, b in parts:
        if b - a >= 3 and toks[a].kind == "ident" and toks[a + 1].text == ":":
            out.setdefault(toks[a].text, (a + 2, b))
    return out


# ------------------------------------------------------------------------------------------ tables


def extract(tree: GoTree, error_ids: dict[str, str], src=None) -> Extractor:
    """Scan every shipped Go file that mentions an error helper."""
    ex = Extractor(tree, error_ids)
    for directory in sorted(tree.by_dir):
        for path in sorted(tree.by_dir[directory]):
            raw = tree.read(path)
            if raw is None or not any(k.decode() in raw for k in KEYWORDS):
                continue
            f = tree.file(path)
            if f is not None:
                ex.scan(f)
    ex.found.sort(key=lambda x: (x.file, x.line))
    return ex


def reason_rows(ex: Extractor) -> list[dict]:
    """One row per literal text: the field and format flag of its first use, every status and error id."""
    rows: dict[str, dict] = {}
    for found in ex.found:
        if not found.literal:
            continue
        row = rows.setdefault(
            found.text,
            {"text": found.text, "field": found.field, "is_format": found.is_format, "statuses": [], "error_ids": []},
        )
        if found.status is not None and found.status not in row["statuses"]:
            row["statuses"].append(found.status)
        if found.error_id and found.error_id not in row["error_ids"]:
            row["error_ids"].append(found.error_id)
    return sorted(rows.values(), key=lambda r: r["text"])


def error_id_rows(ex: Extractor, error_ids: dict[str, str]) -> list[dict]:
    """The ErrID constants in declaration order, with the statuses and reasons of the errors carrying them."""
    by_id: dict[str, list[Chain]] = {}
    for chain in sorted(ex.chains.values(), key=lambda c: (c.file, c.line)):
        if chain.error_id:
            by_id.setdefault(chain.error_id, []).append(chain)
    rows = []
    for name, value in error_ids.items():
        chains = by_id.get(value, [])
        statuses: list[int] = []
        reasons: set[str] = set()
        for chain in chains:
            if chain.status is not None and chain.status not in statuses:
                statuses.append(chain.status)
            reasons |= {s.text for s in chain.strings if s.field == "reason"}
        rows.append({"id": value, "name": name, "statuses": statuses, "reasons": sorted(reasons)})
    return rows
