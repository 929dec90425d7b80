"""Load and validate the knowledge base: YAML entries checked against the generated fact tables.

Validation is strict because a wrong entry turns into a confident wrong answer: unknown keys,
duplicate ids, doc URLs or anchors that are not in the docs index, config keys Kratos does not
have and endpoints the API does not have are all errors that name the file and the entry.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

# libyaml's loader when PyYAML was built with it: the same documents, about ten times faster to start.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(text: str):
    return yaml.load(text, Loader=_LOADER)


KINDS = ("error_id", "ui_message", "reason", "topic")
ENTRY_KEYS = {
    "id",
    "kind",
    "error_id",
    "ui_id",
    "reason",
    "phrasings",
    "keywords",
    "title",
    "summary",
    "causes",
    "fixes",
    "config_keys",
    "endpoints",
    "docs",
    "snippet",
    "related",
    "ask",
    "verified_by",
    "history",
}
KIND_KEY = {"error_id": "error_id", "ui_message": "ui_id", "reason": "reason", "topic": "phrasings"}
SNIPPET_KEYS = {"lang", "code", "note"}
HISTORY_KEYS = {"version", "kind", "change", "ref"}
HISTORY_KINDS = ("added", "changed", "fixed", "removed")
# A change merged after the newest release tag: users on any release do not have it yet.
UNRELEASED = "unreleased"
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
DOC_HOSTS = ("https://www.ory.com/docs/", "https://www.ory.sh/docs/")


class KnowledgeError(Exception):
    """The knowledge base is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} problem(s) in the knowledge base:\n" + "\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Change:
    """One release in an entry's version history: what changed, in our words, and where (PR or commit)."""

    version: str  # a Kratos release tag, or UNRELEASED
    kind: str  # added | changed | fixed | removed
    change: str
    ref: str = ""


@dataclass(frozen=True)
class Snippet:
    lang: str
    code: str
    note: str = ""


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    title: str
    summary: str
    source: str
    error_id: str | None = None
    ui_id: int | None = None
    reason: str | None = None
    phrasings: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    config_keys: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    docs: tuple[str, ...] = ()
    snippet: Snippet | None = None
    related: tuple[str, ...] = ()
    ask: str = ""
    verified_by: tuple[str, ...] = ()
    history: tuple[Change, ...] = ()


@dataclass(frozen=True)
class Facts:
    """Fact tables generated from Kratos (see kbgen/, `python -m kbgen facts`); read-only lookups."""

    commit: str
    ui_messages: dict[int, dict]
    error_ids: dict[str, dict]
    reasons: dict[str, dict]
    config_keys: dict[str, dict]
    endpoints: dict[str, dict]  # "METHOD /path" -> row
    docs: dict[str, dict]  # canonical page URL -> row
    versions: dict = field(default_factory=dict)  # first release per key / endpoint / method / id

    def doc_page(self, url: str) -> dict | None:
        page = url.split("#", 1)[0].rstrip("/")
        for host in DOC_HOSTS:
            if page.startswith(host):
                return self.docs.get(DOC_HOSTS[0] + page[len(host) :])
        return None

    def doc_label(self, url: str, limit: int = 50) -> str:
        """What a link to `url` says in a reply: the anchor's heading (it names where the link goes), else the
        page title; cut at a word when longer than `limit` (a heading can be a whole UI message text)."""
        page = self.doc_page(url) or {}
        heading = (page.get("headings") or {}).get(url.split("#", 1)[1]) if "#" in url else None
        label = heading or page.get("title") or url
        if len(label) <= limit:
            return label
        return label[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,.›") + "…"

    def doc_url_ok(self, url: str) -> bool:
        page = self.doc_page(url)
        if page is None:
            return False
        anchor = url.split("#", 1)[1] if "#" in url else None
        return anchor is None or anchor in page["anchors"]

    @cached_property
    def parent_keys(self) -> frozenset[str]:
        """Every config key path that has sub-keys (computed once: config walks ask for each node)."""
        out = set()
        for key in self.config_keys:
            for i, ch in enumerate(key):
                if ch in ".[":
                    out.add(key[:i])
        return frozenset(out)

    def config_key(self, key: str) -> dict | None:
        """Look a key path up; concrete map keys and array indexes match their `<name>` / `[]` rows."""
        if key in self.config_keys:
            return self.config_keys[key]
        return self.config_keys.get(_generic_key(key, self.config_keys))


def _generic_key(key: str, known: dict[str, dict]) -> str:
    parts = re.sub(r"\[\d*\]", ".[]", key).replace("..", ".").split(".")
    path = ""
    for part in parts:
        if not part:
            continue
        candidate = f"{path}.{part}" if path else part
        if part == "[]":
            candidate = f"{path}[]"
        if candidate in known:
            path = candidate
            continue
        wildcard = f"{path}.<name>" if path else "<name>"
        path = wildcard if wildcard in known else candidate
    return path


_VERB = re.compile(r"%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[sdvqfx]|\{[A-Za-z_][\w.]*\}")


def format_regex(text: str) -> re.Pattern[str] | None:
    """A Go format string (`%s`, `%.2f`) or `{Go.Expr}` placeholder text as a regex over rendered text."""
    parts = _VERB.split(text)
    if len(parts) == 1 or sum(len(p.strip()) for p in parts) < 12:
        return None  # no placeholder, or too little literal text to recognise it by
    return re.compile(".{0,500}?".join(re.escape(p) for p in parts), re.DOTALL)


@dataclass
class KnowledgeBase:
    facts: Facts
    entries: dict[str, Entry] = field(default_factory=dict)
    by_error_id: dict[str, Entry] = field(default_factory=dict)
    by_ui_id: dict[int, Entry] = field(default_factory=dict)
    by_reason: dict[str, Entry] = field(default_factory=dict)
    reason_patterns: list[tuple[re.Pattern[str], Entry]] = field(default_factory=list)
    config_renames: dict[str, dict] = field(default_factory=dict)  # old key path -> renames row
    routes: tuple[Route, ...] = ()  # questions that are not Kratos questions (knowledge/routes.yaml)
    reason_entries: dict[str, str] = field(default_factory=dict)  # reason without its own entry -> entry id
    library_texts: dict[str, str] = field(default_factory=dict)  # text Kratos emits through a library -> entry id

    def find_reason(self, text: str) -> Entry | None:
        """The entry for a reason or detail text as Kratos renders it (format verbs filled in)."""
        text = text.strip()
        if text in self.by_reason:
            return self.by_reason[text]
        for pattern, entry in self.reason_patterns:
            if pattern.fullmatch(text):
                return entry
        return None

    def counts(self) -> dict[str, int]:
        out = {kind: 0 for kind in KINDS}
        for entry in self.entries.values():
            out[entry.kind] += 1
        return out


def default_knowledge_dir() -> Path:
    env = os.environ.get("KRATOS_BOT_KNOWLEDGE")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "knowledge", here / "_knowledge"):
        if (candidate / "facts").is_dir():
            return candidate
    raise FileNotFoundError("no knowledge directory found; set KRATOS_BOT_KNOWLEDGE")


def load_facts(directory: Path) -> Facts:
    def table(name: str) -> tuple[str, list[dict]]:
        doc = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        return doc["commit"], doc["rows"]

    commit, ui = table("ui_messages")
    _, errors = table("error_ids")
    _, reasons = table("reasons")
    _, keys = table("config_keys")
    _, endpoints = table("endpoints")
    _, docs = table("docs")
    versions_path = directory / "versions.json"
    versions = json.loads(versions_path.read_text(encoding="utf-8")) if versions_path.is_file() else {}
    return Facts(
        commit=commit,
        ui_messages={row["id"]: row for row in ui},
        error_ids={row["id"]: row for row in errors},
        reasons={row["text"]: row for row in reasons},
        config_keys={row["key"]: row for row in keys},
        endpoints={f"{row['method']} {row['path']}": row for row in endpoints},
        docs={row["url"]: row for row in docs},
        versions=versions,
    )


def _strings(value: Any, where: str, name: str, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{where}: `{name}` must be a list of non-empty strings")
        return ()
    return tuple(value)


def _entry(raw: Any, where: str, facts: Facts, problems: list[str]) -> Entry | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: an entry must be a mapping")
        return None
    unknown = set(raw) - ENTRY_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)}")
    entry_id, kind = raw.get("id"), raw.get("kind")
    if not isinstance(entry_id, str) or not ID_RE.match(entry_id):
        problems.append(f"{where}: `id` missing or not of the form [a-z0-9][a-z0-9._-]*")
        return None
    where = f"{where} ({entry_id})"
    if kind not in KINDS:
        problems.append(f"{where}: `kind` must be one of {', '.join(KINDS)}")
        return None
    for name in ("title", "summary"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            problems.append(f"{where}: `{name}` is required")
    if raw.get(KIND_KEY[kind]) is None:
        problems.append(f"{where}: kind {kind} needs `{KIND_KEY[kind]}`")
        return None
    for other_kind, key in KIND_KEY.items():
        if other_kind != kind and key in raw:
            problems.append(f"{where}: `{key}` belongs to kind {other_kind}")

    error_id = raw.get("error_id")
    if kind == "error_id" and error_id not in facts.error_ids:
        problems.append(f"{where}: error id {error_id!r} is not a Kratos error id")
    ui_id = raw.get("ui_id")
    if kind == "ui_message" and ui_id not in facts.ui_messages:
        problems.append(f"{where}: UI message id {ui_id!r} does not exist in Kratos")
    reason = raw.get("reason")
    if kind == "reason" and reason not in facts.reasons:
        problems.append(f"{where}: reason {reason!r} is not a literal Kratos error string")
    phrasings = _strings(raw.get("phrasings"), where, "phrasings", problems)
    if kind == "topic" and len(phrasings) < 2:
        problems.append(f"{where}: a topic needs at least two phrasings")
    if not raw.get("verified_by"):
        problems.append(f"{where}: `verified_by` is required (the source lines or docs anchor that prove it)")

    config_keys = _strings(raw.get("config_keys"), where, "config_keys", problems)
    for key in config_keys:
        if facts.config_key(key) is None:
            problems.append(f"{where}: config key {key!r} does not exist in Kratos")
    endpoints = _strings(raw.get("endpoints"), where, "endpoints", problems)
    for endpoint in endpoints:
        if endpoint not in facts.endpoints:
            problems.append(f"{where}: endpoint {endpoint!r} is not in the Kratos API")
    docs = _strings(raw.get("docs"), where, "docs", problems)
    for url in docs:
        if not facts.doc_url_ok(url):
            problems.append(f"{where}: doc URL {url} is not a page (or anchor) in the docs index")

    snippet = None
    if raw.get("snippet") is not None:
        s = raw["snippet"]
        if not isinstance(s, dict) or set(s) - SNIPPET_KEYS or not isinstance(s.get("code"), str):
            problems.append(f"{where}: `snippet` must be {{lang, code, note}} with `code` a string")
        else:
            snippet = Snippet(lang=str(s.get("lang", "")), code=s["code"].rstrip("\n"), note=str(s.get("note", "")))

    history = _history(raw.get("history"), where, facts, problems)
    return Entry(
        id=entry_id,
        kind=kind,
        title=str(raw.get("title", "")).strip(),
        summary=" ".join(str(raw.get("summary", "")).split()),
        source=where,
        error_id=error_id,
        ui_id=ui_id,
        reason=reason,
        phrasings=phrasings,
        keywords=_strings(raw.get("keywords"), where, "keywords", problems),
        causes=tuple(" ".join(c.split()) for c in _strings(raw.get("causes"), where, "causes", problems)),
        fixes=tuple(" ".join(f.split()) for f in _strings(raw.get("fixes"), where, "fixes", problems)),
        config_keys=config_keys,
        endpoints=endpoints,
        docs=docs,
        snippet=snippet,
        related=_strings(raw.get("related"), where, "related", problems),
        ask=" ".join(str(raw.get("ask") or "").split()),
        verified_by=_strings(raw.get("verified_by"), where, "verified_by", problems),
        history=history,
    )


def _history(raw: Any, where: str, facts: Facts, problems: list[str]) -> tuple[Change, ...]:
    """`history:` items; each names a real release tag, so "fixed in vX" can never point at a release that
    does not exist."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(f"{where}: `history` must be a list of {{version, kind, change, ref}}")
        return ()
    tags = set((facts.versions or {}).get("tags") or ())
    out = []
    for item in raw:
        if (
            not isinstance(item, dict)
            or set(item) - HISTORY_KEYS
            or not all(isinstance(item.get(k), str) and item[k].strip() for k in ("version", "kind", "change"))
        ):
            problems.append(f"{where}: a `history` item is {{version, kind, change}} (+ optional `ref`), all strings")
            continue
        if item["version"] != UNRELEASED and tags and item["version"] not in tags:
            problems.append(f"{where}: history version {item['version']!r} is not a Kratos release tag")
        if item["kind"] not in HISTORY_KINDS:
            problems.append(f"{where}: history kind must be one of {', '.join(HISTORY_KINDS)}")
        out.append(Change(item["version"], item["kind"], " ".join(item["change"].split()), str(item.get("ref") or "")))
    return tuple(out)


# The entry files, explicitly: other YAML in knowledge/ (config_renames.yaml) has its own format.
ENTRY_FILES = ("errors.yaml", "reasons.yaml", "ui/*.yaml", "topics/*.yaml", "*.entries.yaml")


def _yaml_files(directory: Path) -> Iterable[Path]:
    return sorted({p for pattern in ENTRY_FILES for p in directory.glob(pattern)})


RENAME_KEYS = {"old", "new", "last_release_with_old", "first_release_with_new", "note", "evidence", "drop_in"}


def _rows(path: Path, key: str, allowed: set[str], problems: list[str]) -> Iterator[tuple[str, dict]]:
    """(where, row) for each mapping in the list under `key` of a side file (renames, routes, …) whose keys
    are all `allowed`; a missing file has no rows, and a file of the wrong shape or a row with other keys is
    reported once."""
    if not path.is_file():
        return
    try:
        doc = _yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: not valid YAML: {exc}")
        return
    if not isinstance(doc, dict) or set(doc) != {key} or not isinstance(doc[key], list):
        problems.append(f"{path.name}: the file must hold exactly one key, `{key}`, a list")
        return
    for i, row in enumerate(doc[key]):
        where = f"{path.name}[{i}]"
        if not isinstance(row, dict) or set(row) - allowed:
            problems.append(f"{where}: an item takes only the keys {sorted(allowed)}")
            continue
        yield where, row


def _load_renames(path: Path, facts: Facts, problems: list[str]) -> dict[str, dict]:
    """Renamed and removed config keys: `new` must exist in Kratos today, `old` must not."""
    out: dict[str, dict] = {}
    for where, row in _rows(path, "renames", RENAME_KEYS, problems):
        if not row.get("old"):
            problems.append(f"{where}: a rename needs `old`")
            continue
        if facts.config_key(row["old"]) is not None:
            problems.append(f"{where}: {row['old']!r} is still a Kratos config key")
        if row.get("new") and facts.config_key(row["new"]) is None:
            problems.append(f"{where}: {row['new']!r} is not a Kratos config key")
        out[row["old"]] = row
    return out


REASON_MAP_KEYS = {"reason", "entry", "verified_by"}


def _load_reason_map(path: Path, kb: KnowledgeBase, problems: list[str]) -> dict[str, str]:
    """Reasons without an entry of their own, each sent to the entry that explains its situation
    (knowledge/reason_map.yaml): the reason is a Kratos text, the entry exists, no reason twice or
    shadowing its own `reason` entry, and the source place that proves it is named."""
    out: dict[str, str] = {}
    for where, row in _rows(path, "map", REASON_MAP_KEYS, problems):
        reason, entry_id = row.get("reason"), row.get("entry")
        if not isinstance(reason, str) or reason not in kb.facts.reasons:
            problems.append(f"{where}: reason {reason!r} is not a literal Kratos error string")
            continue
        if entry_id not in kb.entries:
            problems.append(f"{where}: entry {entry_id!r} does not exist")
        if reason in kb.by_reason:
            problems.append(f"{where}: {reason!r} already has its own entry {kb.by_reason[reason].id}")
        if reason in out:
            problems.append(f"{where}: {reason!r} is mapped twice")
        verified = row.get("verified_by")
        if not isinstance(verified, list) or not all(isinstance(v, str) and v.strip() for v in verified or [None]):
            problems.append(f"{where}: `verified_by` must be a non-empty list of source places")
        out.setdefault(reason, str(entry_id))
    return out


LIBRARY_TEXT_KEYS = {"text", "entry", "library", "verified_by"}


def _load_library_texts(path: Path, kb: KnowledgeBase, problems: list[str]) -> dict[str, str]:
    """Texts Kratos shows that come from a library it uses (the JSON schema validator's `value must be …`),
    so they are in no fact table: each names the library and the source place, and an existing entry."""
    out: dict[str, str] = {}
    for where, row in _rows(path, "texts", LIBRARY_TEXT_KEYS, problems):
        if not row.get("text"):
            problems.append(f"{where}: a text needs `text`")
            continue
        if row.get("entry") not in kb.entries:
            problems.append(f"{where}: entry {row.get('entry')!r} does not exist")
        if not row.get("library") or not row.get("verified_by"):
            problems.append(f"{where}: say which `library` emits it and where (`verified_by`)")
        if row["text"] in out:
            problems.append(f"{where}: {row['text']!r} listed twice")
        out[str(row["text"])] = str(row.get("entry"))
    return out


ROUTE_KEYS = {"id", "title", "when", "unless", "say", "links", "docs", "verified_by"}


@dataclass(frozen=True)
class Route:
    """A kind of question that belongs elsewhere (billing, maintainers, another product of the same name)."""

    id: str
    title: str
    when: tuple[tuple[re.Pattern[str], ...], ...]  # any item matches when all of its patterns do
    unless: tuple[re.Pattern[str], ...]
    say: tuple[str, ...]
    links: tuple[tuple[str, str], ...]  # (url, text)
    docs: tuple[str, ...]
    verified_by: tuple[str, ...]


def _patterns(raw, where: str, problems: list[str]) -> tuple[re.Pattern[str], ...]:
    out = []
    for pattern in raw or []:
        try:
            out.append(re.compile(str(pattern), re.IGNORECASE))
        except re.error as exc:
            problems.append(f"{where}: pattern {pattern!r} does not compile: {exc}")
    return tuple(out)


def _load_routes(path: Path, facts: Facts, problems: list[str]) -> tuple[Route, ...]:
    """Routes out of scope: patterns compile, Kratos doc links are in the docs index, other links are
    https and the route says where its facts were checked."""
    out: list[Route] = []
    for where, raw in _rows(path, "routes", ROUTE_KEYS, problems):
        missing = [k for k in ("id", "title", "when", "say", "verified_by") if not raw.get(k)]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        if any(r.id == raw["id"] for r in out):
            problems.append(f"{where}: duplicate route id {raw['id']!r}")
        for url in raw.get("docs") or []:
            if not facts.doc_url_ok(url):
                problems.append(f"{where}: doc URL {url} is not in the docs index")
        links = []
        for link in raw.get("links") or []:
            ok = isinstance(link, dict) and str(link.get("url", "")).startswith("https://") and link.get("text")
            if not ok:
                problems.append(f"{where}: a link needs an https `url` and a `text`")
                continue
            links.append((link["url"], link["text"]))
        out.append(
            Route(
                id=raw["id"],
                title=raw["title"],
                when=tuple(
                    _patterns(item if isinstance(item, list) else [item], where, problems) for item in raw["when"]
                ),
                unless=_patterns(raw.get("unless"), where, problems),
                say=tuple(str(x).strip() for x in raw["say"]),
                links=tuple(links),
                docs=tuple(raw.get("docs") or ()),
                verified_by=tuple(raw["verified_by"]),
            )
        )
    return tuple(out)


def load_knowledge(directory: Path | None = None) -> KnowledgeBase:
    """Load every YAML file under `directory`; raise KnowledgeError listing all problems."""
    directory = directory or default_knowledge_dir()
    facts = load_facts(directory / "facts")
    kb = KnowledgeBase(facts=facts)
    problems: list[str] = []
    for path in _yaml_files(directory):
        rel = path.relative_to(directory)
        try:
            doc = _yaml(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{rel}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict) or set(doc) != {"entries"} or not isinstance(doc["entries"], list):
            problems.append(f"{rel}: the file must hold exactly one key, `entries`, a list")
            continue
        for index, raw in enumerate(doc["entries"]):
            entry = _entry(raw, f"{rel}[{index}]", facts, problems)
            if entry is None:
                continue
            if entry.id in kb.entries:
                problems.append(f"{entry.source}: duplicate id, first defined in {kb.entries[entry.id].source}")
                continue
            kb.entries[entry.id] = entry
            index_map: dict[Any, Entry] | None = None
            key: Any = None
            if entry.kind == "error_id":
                index_map, key = kb.by_error_id, entry.error_id
            elif entry.kind == "ui_message":
                index_map, key = kb.by_ui_id, entry.ui_id
            elif entry.kind == "reason":
                index_map, key = kb.by_reason, entry.reason
            if index_map is not None:
                if key in index_map:
                    problems.append(f"{entry.source}: {key!r} already has entry {index_map[key].id}")
                else:
                    index_map[key] = entry
    kb.config_renames = _load_renames(directory / "config_renames.yaml", facts, problems)
    kb.routes = _load_routes(directory / "routes.yaml", facts, problems)
    kb.library_texts = _load_library_texts(directory / "library_texts.yaml", kb, problems)
    kb.reason_entries = _load_reason_map(directory / "reason_map.yaml", kb, problems)
    for reason, entry in kb.by_reason.items():
        pattern = format_regex(reason)
        if pattern is not None:
            kb.reason_patterns.append((pattern, entry))
    for entry in kb.entries.values():
        for rel_id in entry.related:
            if rel_id not in kb.entries:
                problems.append(f"{entry.source}: related entry {rel_id!r} does not exist")
    if problems:
        raise KnowledgeError(problems)
    return kb
