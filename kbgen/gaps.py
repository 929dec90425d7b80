"""Compare the knowledge base with the facts of one Kratos release (`python -m kbgen gaps`).

- missing: UI message ids that have a constructor, and error ids, at the release without an entry;
- stale: entries whose ui_id, error_id, reason, config keys or endpoints do not exist at the release;
- changed: UI message entries whose message text at the release differs from the text in the current
  fact table (the entry was written for the current text);
- renamed: for a stale item, the closest new id / key / text of the release (rapidfuzz), when close enough.
A renamed item's new id has no entry either; it is listed under renamed, not twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from bot.kb.loader import Facts, KnowledgeBase

RENAME_CUTOFF = 75.0  # rapidfuzz ratio (0-100) for texts, keys, endpoints and error ids
NAME_CUTOFF = 85.0  # for UI message constant names compared word by word


@dataclass
class Item:
    kind: str  # ui_message | error_id | reason | config_key | endpoint
    value: str  # the id, text, key or endpoint
    entry: str = ""  # knowledge entry id (stale, changed, renamed)
    where: str = ""  # file of the entry
    detail: str = ""  # name / text for display
    new: str = ""  # renamed: the new id / key; changed: the new text
    score: float = 0.0


@dataclass
class Report:
    ref: str
    commit: str
    missing: list[Item] = field(default_factory=list)
    stale: list[Item] = field(default_factory=list)
    changed: list[Item] = field(default_factory=list)
    renamed: list[Item] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Ids of the release without an entry: missing ones and the new ids of renamed ones."""
        return bool(self.missing) or any(i.kind in ("ui_message", "error_id") for i in self.renamed)

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in ("missing", "stale", "changed", "renamed")}

    def as_dict(self) -> dict:
        def rows(items: list[Item]) -> list[dict]:
            return [{k: v for k, v in vars(i).items() if v not in ("", 0.0)} for i in items]

        return {
            "ref": self.ref,
            "commit": self.commit,
            "counts": self.counts(),
            "missing": rows(self.missing),
            "stale": rows(self.stale),
            "changed": rows(self.changed),
            "renamed": rows(self.renamed),
        }


def facts_from_docs(docs: dict[str, dict], base: Facts) -> Facts:
    """A Facts object from generated table documents; tables not generated (docs) come from `base`."""

    def rows(name: str) -> list[dict]:
        return docs[name]["rows"] if name in docs else []

    return Facts(
        commit=next((d["commit"] for d in docs.values()), ""),
        ui_messages={r["id"]: r for r in rows("ui_messages")},
        error_ids={r["id"]: r for r in rows("error_ids")},
        reasons={r["text"]: r for r in rows("reasons")},
        config_keys={r["key"]: r for r in rows("config_keys")},
        endpoints={f"{r['method']} {r['path']}": r for r in rows("endpoints")},
        docs=base.docs,
    )


def _where(source: str) -> str:
    return source.split("[", 1)[0]


def _best(query: str, choices: dict[str, str]) -> tuple[str, float] | None:
    """The choice key whose text is closest to `query` (rapidfuzz ratio), above the cutoff."""
    best: tuple[str, float] | None = None
    for key, text in choices.items():
        score = fuzz.ratio(query, text)
        if score >= RENAME_CUTOFF and (best is None or score > best[1]):
            best = (key, score)
    return best


def _words(name: str) -> str:
    """CamelCase and snake_case split into lower-case words, for name comparisons."""
    return " ".join(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name))


def compare(kb: KnowledgeBase, release: Facts, ref: str) -> Report:
    current = kb.facts
    report = Report(ref=ref, commit=release.commit)

    # --- UI messages
    new_ui = {i: r for i, r in release.ui_messages.items() if i not in current.ui_messages}
    renamed_ui: set[int] = set()
    for entry in sorted((e for e in kb.entries.values() if e.kind == "ui_message"), key=lambda e: e.ui_id or 0):
        old = current.ui_messages.get(entry.ui_id) or {}
        now = release.ui_messages.get(entry.ui_id)
        if now is None or (old.get("has_constructor") and not now.get("has_constructor")):
            item = Item("ui_message", str(entry.ui_id), entry.id, _where(entry.source), old.get("name") or "")
            report.stale.append(item)
            # the same constant under a new id, else the closest new name / text
            same_name = [i for i, r in release.ui_messages.items() if r["name"] == old.get("name") and i != entry.ui_id]
            match: tuple[int, float] | None = (same_name[0], 100.0) if same_name else None
            if match is None and old:
                best_score = 0.0
                for i, r in new_ui.items():
                    if not r.get("has_constructor") or i in renamed_ui:
                        continue
                    name_score = fuzz.ratio(_words(old.get("name") or ""), _words(r["name"]))
                    text_score = fuzz.ratio(old["text"], r["text"]) if old.get("text") and r.get("text") else 0.0
                    # names share long prefixes (InfoSelfServiceLogin…): a name alone must be very close
                    if text_score < RENAME_CUTOFF and name_score < NAME_CUTOFF:
                        continue
                    score = max(name_score, text_score)
                    if score > best_score:
                        match, best_score = (i, score), score
            if match is not None:
                new_id, score = match
                renamed_ui.add(new_id)
                r = release.ui_messages[new_id]
                report.renamed.append(
                    Item(
                        "ui_message",
                        str(entry.ui_id),
                        entry.id,
                        item.where,
                        item.detail,
                        f"{new_id} {r['name']}",
                        score,
                    )
                )
        elif old.get("text") is not None and now.get("text") != old.get("text"):
            report.changed.append(
                Item("ui_message", str(entry.ui_id), entry.id, _where(entry.source), old.get("text") or "", now["text"])
            )
    for i, r in sorted(release.ui_messages.items()):
        if r.get("has_constructor") and i not in kb.by_ui_id and i not in renamed_ui:
            report.missing.append(Item("ui_message", str(i), detail=f"{r['name']}: {r.get('text')}"))

    # --- error ids
    new_errors = {i: r for i, r in release.error_ids.items() if i not in current.error_ids}
    renamed_errors: set[str] = set()
    for entry in sorted((e for e in kb.entries.values() if e.kind == "error_id"), key=lambda e: e.error_id or ""):
        if entry.error_id in release.error_ids:
            continue
        old_name = (current.error_ids.get(entry.error_id) or {}).get("name", "")
        item = Item("error_id", entry.error_id or "", entry.id, _where(entry.source), old_name)
        report.stale.append(item)
        same_name = [i for i, r in new_errors.items() if old_name and r["name"] == old_name]
        got = (same_name[0], 100.0) if same_name else _best(entry.error_id or "", {i: i for i in new_errors})
        if got and got[0] not in renamed_errors:
            renamed_errors.add(got[0])
            report.renamed.append(Item("error_id", item.value, entry.id, item.where, old_name, got[0], got[1]))
    for i in release.error_ids:
        if i not in kb.by_error_id and i not in renamed_errors:
            report.missing.append(Item("error_id", i, detail=release.error_ids[i]["name"]))

    # --- reasons
    new_reasons = {t: t for t in release.reasons if t not in current.reasons}
    for entry in sorted((e for e in kb.entries.values() if e.kind == "reason"), key=lambda e: e.reason or ""):
        if entry.reason in release.reasons:
            continue
        item = Item("reason", entry.reason or "", entry.id, _where(entry.source))
        report.stale.append(item)
        got = _best(entry.reason or "", new_reasons)
        if got:
            report.renamed.append(Item("reason", item.value, entry.id, item.where, "", got[0], got[1]))

    # --- config keys and endpoints named by entries
    new_keys = {k: k for k in release.config_keys if k not in current.config_keys}
    new_endpoints = {e: e for e in release.endpoints if e not in current.endpoints}
    for entry in sorted(kb.entries.values(), key=lambda e: e.id):
        for key in entry.config_keys:
            if release.config_key(key) is None:
                item = Item("config_key", key, entry.id, _where(entry.source))
                report.stale.append(item)
                got = _best(key, new_keys)
                if got:
                    report.renamed.append(Item("config_key", key, entry.id, item.where, "", got[0], got[1]))
        for endpoint in entry.endpoints:
            if endpoint not in release.endpoints:
                item = Item("endpoint", endpoint, entry.id, _where(entry.source))
                report.stale.append(item)
                got = _best(endpoint, new_endpoints)
                if got:
                    report.renamed.append(Item("endpoint", endpoint, entry.id, item.where, "", got[0], got[1]))
    return report


def _short(text: str, width: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render(report: Report, limit: int | None = None) -> str:
    """The report as plain text: counts first, then each section (at most `limit` lines per section)."""
    c = report.counts()
    lines = [
        f"knowledge vs ory/kratos {report.ref} ({report.commit[:12] or 'no git'}): "
        f"{c['missing']} missing, {c['stale']} stale, {c['changed']} changed text, {c['renamed']} renamed"
    ]

    def section(title: str, items: list[Item], fmt) -> None:
        if not items:
            return
        by_kind: dict[str, int] = {}
        for i in items:
            by_kind[i.kind] = by_kind.get(i.kind, 0) + 1
        lines.append("")
        lines.append(f"{title} ({len(items)}: " + ", ".join(f"{n} {k}" for k, n in by_kind.items()) + ")")
        shown = items if limit is None else items[:limit]
        lines.extend("  " + fmt(i) for i in shown)
        if len(shown) < len(items):
            lines.append(f"  … {len(items) - len(shown)} more")

    section("missing: no entry", report.missing, lambda i: f"{i.kind} {i.value}  {_short(i.detail)}")
    section(
        "stale: gone at this release",
        report.stale,
        lambda i: f"{i.kind} {_short(i.value, 70)}{' ' + i.detail if i.detail else ''}  (entry {i.entry}, {i.where})",
    )
    section(
        "changed text",
        report.changed,
        lambda i: f"{i.value} (entry {i.entry}): {_short(i.detail, 60)!r} -> {_short(i.new, 60)!r}",
    )
    section(
        "renamed: closest new item",
        report.renamed,
        lambda i: f"{i.kind} {_short(i.value, 60)} -> {_short(i.new, 60)}  (score {i.score:.0f}, entry {i.entry})",
    )
    return "\n".join(lines)
