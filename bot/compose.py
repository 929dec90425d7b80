"""Compose one reply from the ranked matches and the findings: what it is, why (tied to the paste),
the fix, code, doc links. Rendering to Slack or a terminal is `bot.render`'s job."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.analyze.versionkit import fit_fix, release_key
from bot.kb.loader import UNRELEASED, Entry, KnowledgeBase
from bot.models import Finding, Link, Match, Reply, Section, Snippet
from bot.retrieve import stems

MAX_FIXES = 8
MAX_LINKS = 2
MAX_SNIPPETS = 3
MAX_KEYS = 4  # a bare list of keys: the few that matter most, not every key the entry touches
RELATED_SCORE = 75
_CODE_TITLES = {"bash": "Request", "json": "Schema", "yaml": "Config", "js": "Code", "javascript": "Code"}
_CORRECTED_TITLES = {"bash": "Corrected request", "json": "Corrected schema", "yaml": "Corrected config"}
# Bold markers that each renderer turns into its own syntax (Slack `*`, nothing in a terminal).
BOLD_OPEN, BOLD_CLOSE = "\u27ea", "\u27eb"
MAX_ENTRY_FIXES_WITH_FINDINGS = 2
_PLACEHOLDER = re.compile(r"\{(flow_id|settings_flow_id|base_url)\}")


@dataclass(frozen=True)
class ComposeInput:
    matches: list[Match]
    findings: list[Finding]
    confidence: str
    carried: bool = False
    values: dict | None = None  # placeholder values from the thread (flow ids, base URL)
    notes: tuple[str, ...] = ()  # short remarks (input truncated, binary data …)
    corrected: tuple[Snippet, ...] = ()  # the user's own artifacts with every finding's patches applied
    primary: bool = True  # False: the decision stage found the best match only related (findings lead)
    version: str = ""  # the release the user runs, when the message says so (bot/extract/version.py)
    asked: str = ""  # findings lead; the topic the question itself is about (its gist is added)
    question: str = ""  # what the user asked (bot/read.py), to pick an entry's advice that speaks to it


FOCUS_FIXES = 4  # an entry's advice shown without findings: the first, then what speaks to the question
FOCUS_CAUSES = 5


def _relevant(items: list[str], question: str, keep: int) -> list[str]:
    """An entry's list in its authored order, cut to `keep` items when it is longer: the first (the most likely)
    always, then those that share words with the question, then the next ones."""
    if len(items) <= keep:
        return items
    asked = set(stems(question))
    order = [0] + [i for i in range(1, len(items)) if asked & set(stems(items[i]))]
    order += [i for i in range(1, len(items)) if i not in order]
    return [items[i] for i in sorted(order[:keep])]


def _fill(text: str, values: dict) -> str:
    defaults = {"flow_id": "<flow-id>", "settings_flow_id": "<settings-flow-id>", "base_url": "<kratos-public-url>"}
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or defaults[m.group(1)]), text)


def _headline(entry: Entry | None, kb: KnowledgeBase, finding: Finding | None) -> str:
    if entry is None:
        return finding.title if finding else ""
    if entry.kind == "error_id":
        statuses = kb.facts.error_ids[entry.error_id]["statuses"]
        code = f" ({statuses[0]})" if statuses else ""
        return f"`{entry.error_id}`{code}: {entry.title}"
    if entry.kind == "ui_message":
        return f"UI message {entry.ui_id}: {entry.title}"
    return entry.title


def _ui_quote(entry: Entry, kb: KnowledgeBase) -> str:
    if entry.kind != "ui_message":
        return ""
    row = kb.facts.ui_messages.get(entry.ui_id) or {}
    text = row.get("text") or ""
    return f'Kratos text ({row.get("type")}): "{text}"' if text and not text.startswith("{") else ""


MAX_HISTORY = 3  # the user's release known: what it lacks, up to three items
MAX_HISTORY_UNKNOWN = 2  # release unknown: the first two items, as authored (the key change first)


def first_sentences(text: str, n: int) -> str:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z`])", text.strip())
    return " ".join(parts[:n])


_CHANGE_WORDS = {"added": "from", "changed": "changed in", "fixed": "fixed in", "removed": "removed in"}


def history_lines(entry: Entry, version: str = "") -> tuple[str, ...]:
    """The entry's version history that matters to this user: with their release known, only what their
    release lacks (or, for a removal, what it no longer has); without it, the first few items."""
    lines = []
    for change in entry.history:
        released = change.version != UNRELEASED
        when = f"{_CHANGE_WORDS[change.kind]} {change.version}" if released else "not in a release yet"
        ref = f", {change.ref}" if change.ref else ""  # the PR or commit, for whoever wants to check
        if version and released:
            has_it = release_key(version) >= release_key(change.version)
            if has_it != (change.kind == "removed"):
                continue
            verb = "no longer has" if has_it else "predates"
            lines.append(f"Your {version} {verb} this: {change.change} ({when}{ref}).")
        else:
            lines.append(f"{when[0].upper()}{when[1:]}: {change.change} ({change.ref}).".replace(" ().", "."))
    return tuple(lines[: MAX_HISTORY if version else MAX_HISTORY_UNKNOWN])


_RELEASE = re.compile(r"\bv\d+\.\d+(?:\.\d+)?\b")


def _names_told_release(line: str, told: str) -> bool:
    releases = _RELEASE.findall(line)
    return bool(releases) and all(r in told for r in releases)


def _links(entries: list[Entry], kb: KnowledgeBase) -> tuple[Link, ...]:
    out: list[Link] = []
    seen: set[str] = set()
    for entry in entries:
        # One page per entry the reply speaks about: its first link is the page that answers it.
        for url in entry.docs[:1]:
            if url not in seen:
                seen.add(url)
                out.append(Link(url=url, text=kb.facts.doc_label(url)))
    return tuple(out[:MAX_LINKS])


def secret_warning(findings) -> str:
    """The line shown first when a live credential was pasted (masked, with the advice to revoke it)."""
    secret = next((f for f in findings if f.rule == "live-secrets"), None)
    return f"{secret.title}. {secret.detail} " + " ".join(secret.fixes) if secret else ""


ASK_BELOW, ASK_GAP = 85, 10


def _doubtful(ranked: list[Match]) -> bool:
    """The answer's match is weak, or another entry is almost as close: worth the entry's one question."""
    top = ranked[0].score
    return top < ASK_BELOW or (len(ranked) > 1 and top - ranked[1].score < ASK_GAP)


def _finding_lines(findings: list[Finding], headline: str) -> tuple[str, ...]:
    """One line per finding. The headline already names the first finding when no entry leads, and findings of
    one rule often share their explanation: each title and each explanation is said once."""
    told = {headline}
    lines = []
    for f in findings:
        parts = [] if f.title in told else [f"{BOLD_OPEN}{f.title}{BOLD_CLOSE}."]
        if f.detail not in told:
            parts.append(f.detail)
            told.add(f.detail)
        if parts:
            lines.append("- " + " ".join(parts))
    return tuple(lines)


def compose(ci: ComposeInput, kb: KnowledgeBase) -> Reply:
    """Render an `answer` decision (bot/decide.py chose the matches, their order and the confidence)."""
    values = ci.values or {}
    findings = [f for f in ci.findings if f.rule != "live-secrets"]
    warning = secret_warning(ci.findings)

    ranked = [m for m in ci.matches if m.entry_id in kb.entries]
    entries = [kb.entries[m.entry_id] for m in ranked]
    primary = entries[0] if entries and ci.primary else None
    top_finding = findings[0] if findings else None

    if ci.confidence == "none" or (primary is None and top_finding is None):
        return _unsure_reply(ci, warning)

    sections: list[Section] = []
    headline = _headline(primary, kb, top_finding)
    if ci.confidence == "low":
        headline = "Not sure, but this looks like: " + headline
    elif ci.carried:
        headline = "Back to what you pasted above: " + headline

    if primary is not None and not ci.carried:
        about = [_fill(primary.summary, values)]
        quote = _ui_quote(primary, kb)
        if quote:
            about.insert(0, quote)
        sections.append(Section("What it means", tuple(about)))

    if findings:
        where = "In what you pasted above" if ci.carried else "In your paste"
        sections.append(Section(where, _finding_lines(findings, headline)))
    elif primary is not None and primary.causes:
        causes = _relevant(list(primary.causes), ci.question, FOCUS_CAUSES)
        sections.append(Section("Common causes", tuple(f"- {_fill(c, values)}" for c in causes)))

    # Findings about the primary entry replace its generic advice; findings about other things do not.
    explains_primary = primary is not None and any(primary.id in f.entries for f in findings)
    fixes: list[str] = []
    for f in findings:
        fixes.extend(f.fixes)
    if primary is not None:
        # The findings already say what to do about this paste; the entry adds only its top advice.
        entry_fixes = [fit_fix(kb, ci.version, _fill(x, values)) for x in primary.fixes]
        overridden = any(f.overrides_advice and primary.id in f.entries for f in findings)
        if explains_primary and not overridden:
            fixes.extend(entry_fixes[:MAX_ENTRY_FIXES_WITH_FINDINGS])
        elif not explains_primary:
            fixes.extend(_relevant(entry_fixes, ci.question, FOCUS_FIXES))
    fixes = list(dict.fromkeys(fixes))[:MAX_FIXES]
    if fixes:
        sections.append(Section("Fix", tuple(f"{i}. {fix}" for i, fix in enumerate(fixes, 1))))
    history = history_lines(primary, ci.version) if primary is not None else ()
    versions_at = len(sections)

    snippets: list[Snippet] = (list(ci.corrected) + [f.snippet for f in findings if f.snippet])[:MAX_SNIPPETS]
    if not snippets and primary is not None and primary.snippet is not None:
        s = primary.snippet
        snippets.append(Snippet(s.lang, _fill(s.code, values), s.note))
    for snippet in snippets:
        corrected = snippet in ci.corrected
        title = (_CORRECTED_TITLES if corrected else _CODE_TITLES).get(snippet.lang, "Example")
        sections.append(Section(title, (snippet.note,) if snippet.note else (), snippet))

    keys = list(dict.fromkeys(k for f in findings for k in f.config_keys))
    if primary is not None and not explains_primary:
        keys += [k for k in primary.config_keys if k not in keys]
    # Keys the text above already names in full are not listed again; and when the text names keys at all, the
    # others the entries mention are not the answer (a bare list of them only makes the reply longer).
    said = " ".join(line for sec in sections for line in sec.lines)
    named = any(f"`{k}`" in said for k in keys)
    keys = [] if named else keys
    if keys:
        sections.append(Section("Config keys", (", ".join(f"`{k}`" for k in keys[:MAX_KEYS]),)))

    explained = list(dict.fromkeys(entry_id for f in findings for entry_id in f.entries))
    # The paste leads (findings, or a pasted error's entry), but the question was also about a topic: its gist.
    asked = kb.entries.get(ci.asked) if ci.asked else None
    if asked is not None and asked.id not in explained:
        gist = [first_sentences(_fill(asked.summary, values), 2)]
        gist += [f"- {fit_fix(kb, ci.version, _fill(x, values))}" for x in asked.fixes[:2]]
        sections.append(Section(f"About your question: {asked.title}", tuple(gist)))
        explained.append(asked.id)
    secondary = [
        e for e, m in zip(entries[1:], ranked[1:], strict=True) if m.score >= RELATED_SCORE and e.id not in explained
    ][:3]
    if secondary:
        sections.append(Section("Related", tuple(f"- {_headline(e, kb, None)}" for e in secondary)))

    if ci.confidence == "low":
        ask = (
            primary.ask
            if primary and primary.ask
            else "Paste the full error JSON (with `error.id`) or the `ui.messages` array, and say which flow it is."
        )
        sections.append(Section("To be sure", (ask,)))
    elif primary is not None and primary.ask and not findings and _doubtful(ranked):
        sections.append(Section("If that is not it", (primary.ask,)))

    if ci.notes:
        sections.append(Section("Note", ci.notes))
    # A release the rest of the reply already names (headline, summary, a fix, an example) is not said twice.
    told = " ".join([headline, *(line for sec in sections for line in sec.lines)]) if not ci.version else ""
    history = tuple(line for line in history if not _names_told_release(line, told))
    if history:
        sections.insert(versions_at, Section("Versions", history))
    return Reply(
        headline=headline,
        sections=tuple(sections),
        links=_links(
            ([primary] if primary else []) + [kb.entries[i] for i in explained if i in kb.entries] + secondary, kb
        ),
        confidence=ci.confidence,
        matches=tuple(ranked[:6]),
        findings=tuple(ci.findings),
        warning=warning,
    )


def _unsure_reply(ci: ComposeInput, warning: str) -> Reply:
    lines = [
        "I could not match this to a Kratos error, UI message or topic I know.",
        "To answer, I need one of: the full error JSON (with `error.id`), the `ui.messages` array, or the request "
        "you sent (curl), plus which flow it is (login, registration, settings, recovery, verification) and your "
        "Kratos version.",
    ]
    return Reply(
        headline="Not sure what this is",
        sections=(Section("What would settle it", tuple(lines)),) + ((Section("Note", ci.notes),) if ci.notes else ()),
        links=(),
        confidence="none",
        matches=tuple(ci.matches[:6]),
        findings=tuple(ci.findings),
        warning=warning,
    )
