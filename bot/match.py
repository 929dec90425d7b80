"""Match knowledge: exact lookups first (error id, UI message id, literal reason), then the
analyzers' findings, then fuzzy matching of the user's words against topic phrasings and known
message texts. One ranking decides the confidence.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process, utils

from bot.kb.loader import Entry, KnowledgeBase, format_regex
from bot.models import Finding, KratosError, Match, UiMessage
from bot.textindex import KratosTexts

STOPWORDS = frozenset(
    "a an the i me my we our you your it its is are was be been am do does did to of in on at for with "
    "and or but if so as by from this that these those there here what which who how why when where can "
    "could should would will shall may might must please hi hello hey thanks thank ory kratos just also "
    "about into than then them they he she his her not no yes any some all get got have has had want need "
    "use using ok okay".split()
)
_WORD = re.compile(r"[a-z0-9_./-]+")
_ERROR_ID_TOKEN = re.compile(r"\b([a-z]+(?:_[a-z0-9]+){1,6})\b")
MIN_TOPIC_WORDS = 2
TOPIC_CUTOFF = 55
MAX_QUESTION = 2000
TOPIC_MAX = 95.0
TEXT_CUTOFF = 85


def content_words(text: str) -> str:
    words = [w.strip("./-") for w in _WORD.findall(text.lower())]
    return " ".join(w for w in words if w and w not in STOPWORDS)


MAX_DF = 400  # a word in more choices than this says little about any of them and is not looked up
TOPIC_CANDIDATES = 60  # fuzzy phrasing scores for the best-sharing candidates; BM25 ranks the rest
TEXT_CANDIDATES = 40


@dataclass
class TokenIndex:
    """Inverted index over prepared choices: which ones share informative words with a query.

    Fuzzy scoring then runs on a bounded number of candidates, so the cost per message does not
    grow with the size of the knowledge base.
    """

    postings: dict[str, list[int]] = field(default_factory=dict)

    def add(self, choice_index: int, text: str) -> None:
        for token in set(text.split()):
            self.postings.setdefault(token, []).append(choice_index)

    def candidates(self, text: str, limit: int, min_shared: int = 1) -> list[int]:
        counts: Counter[int] = Counter()
        for token in sorted(set(text.split())):  # sorted: ties in most_common() come out the same every run
            posting = self.postings.get(token)
            if posting and len(posting) <= MAX_DF:
                counts.update(posting)
        return [i for i, shared in counts.most_common(limit) if shared >= min_shared]


@dataclass
class Index:
    """Everything prepared once per knowledge base load, so a message costs only lookups."""

    kb: KnowledgeBase
    topic_choices: list[str] = field(default_factory=list)
    topic_ids: list[str] = field(default_factory=list)
    topic_tokens: TokenIndex = field(default_factory=TokenIndex)
    text_choices: list[str] = field(default_factory=list)
    text_ids: list[str] = field(default_factory=list)
    text_tokens: TokenIndex = field(default_factory=TokenIndex)
    error_reason_patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    mapped_reason_patterns: list[tuple[re.Pattern[str], str]] = field(default_factory=list)
    keyword_entries: dict[str, list[str]] = field(default_factory=dict)  # keyword -> topic entry ids
    keyword_boost: dict[str, float] = field(default_factory=dict)  # plain words many topics use lift less
    keyword_pattern: re.Pattern[str] | None = None  # all keywords in one alternation: one pass per message
    kratos_texts: KratosTexts = field(default_factory=KratosTexts)

    @classmethod
    def build(cls, kb: KnowledgeBase) -> Index:
        index = cls(kb, kratos_texts=KratosTexts.build(kb.facts, tuple(sorted(kb.library_texts))))
        for entry in kb.entries.values():
            if entry.kind == "topic":
                for phrase in (*entry.phrasings, entry.title):
                    words = content_words(phrase)
                    if words:
                        index.topic_tokens.add(len(index.topic_choices), words)
                        index.topic_choices.append(words)
                        index.topic_ids.append(entry.id)
                for kw in entry.keywords:
                    index.keyword_entries.setdefault(kw.lower(), []).append(entry.id)
        index.keyword_boost = _keyword_boosts(kb, index.keyword_entries)
        for entry in kb.by_reason.values():
            index._add_text(entry.reason or "", entry.id)
        for ui_id, entry in kb.by_ui_id.items():
            text = kb.facts.ui_messages[ui_id].get("text") or ""
            pattern = format_regex(text)
            if pattern is not None:
                # "Property %s is missing." is pasted as "Property email is missing.": match the rendered form.
                index.error_reason_patterns.append((pattern, entry.id))
            elif len(text) > 12 and not text.startswith("{"):
                index._add_text(text, entry.id)
        for error_id, entry in kb.by_error_id.items():
            for reason in kb.facts.error_ids[error_id]["reasons"]:
                index._add_text(reason, entry.id)
                pattern = format_regex(reason)
                if pattern:
                    index.error_reason_patterns.append((pattern, entry.id))
        for reason, entry_id in kb.reason_entries.items():
            pattern = format_regex(reason)
            if pattern is not None:
                index.mapped_reason_patterns.append((pattern, entry_id))
        if index.keyword_entries:
            alternation = "|".join(re.escape(k) for k in sorted(index.keyword_entries, key=len, reverse=True))
            index.keyword_pattern = re.compile(r"(?<![\w.])(" + alternation + r")(?![\w])")
        return index

    def _add_text(self, text: str, entry_id: str) -> None:
        if text and "{" not in text[:1]:
            prepared = utils.default_process(text)
            self.text_tokens.add(len(self.text_choices), prepared)
            self.text_choices.append(prepared)
            self.text_ids.append(entry_id)

    def keywords_in(self, lowered: str) -> set[str]:
        if self.keyword_pattern is None:
            return set()
        return {m.group(1) for m in self.keyword_pattern.finditer(lowered)}


def reason_entry(index: Index, reason: str) -> tuple[Entry, int] | None:
    """The entry for a literal reason as Kratos renders it, and how much less sure that makes us: its own reason
    entry (0), else its error id's entry (0), else the entry knowledge/reason_map.yaml sends it to (2)."""
    entry = index.kb.find_reason(reason)
    if entry is not None:
        return entry, 0
    text = reason.strip()
    for pattern, entry_id in index.error_reason_patterns:
        if pattern.fullmatch(text):
            return index.kb.entries[entry_id], 0
    mapped = index.kb.reason_entries.get(text)
    if mapped is None:
        mapped = next((e for pattern, e in index.mapped_reason_patterns if pattern.fullmatch(text)), None)
    return (index.kb.entries[mapped], 2) if mapped in index.kb.entries else None


# 107xxxx are node labels ("Login code", "Password", "{title}"): every pasted form carries a dozen of them, and
# they name fields, not what went wrong. Context for a reply, never its subject.
LABEL_GROUP = 107
LABEL_ID_SCORE = 50


def exact_matches(index: Index, artifacts, prose: str) -> list[Match]:
    kb = index.kb
    out: list[Match] = []
    for a in artifacts:
        if isinstance(a, KratosError):
            if a.id and a.id in kb.by_error_id:
                out.append(Match(kb.by_error_id[a.id].id, 100, "exact-error-id"))
            if a.reason:
                found = reason_entry(index, a.reason)
                if found is not None:
                    entry, penalty = found
                    out.append(Match(entry.id, (98 if not a.id else 90) - penalty, "exact-reason"))
        elif isinstance(a, UiMessage) and a.id is not None and a.id in kb.by_ui_id:
            score = LABEL_ID_SCORE if a.id // 10_000 == LABEL_GROUP else 100 if a.text else 95
            out.append(Match(kb.by_ui_id[a.id].id, score, "exact-ui-id"))
    for token in sorted(set(_ERROR_ID_TOKEN.findall(prose.lower()))):
        if token in kb.by_error_id:
            out.append(Match(kb.by_error_id[token].id, 92, "error-id-in-text"))
    return out


# A quoted sentence of Kratos' outranks any topic; a short template with a placeholder ("Property %s is
# missing.") is a symptom with many causes, so a topic that fits the context may still lead.
KRATOS_TEXT_SCORE = 96
TEMPLATE_TEXT_SCORE = 93


def kratos_text_matches(index: Index, text: str) -> list[Match]:
    """Kratos' own words anywhere in the message (prose, log lines, HTML), with or without their id."""
    kb = index.kb
    out: list[Match] = []
    for hit in index.kratos_texts.find(text):
        score = TEMPLATE_TEXT_SCORE if hit.templated else KRATOS_TEXT_SCORE
        if hit.kind == "library":
            out.append(Match(kb.library_texts[str(hit.key)], score, "kratos-text"))
            continue
        if hit.kind == "ui_message":
            entry = kb.by_ui_id.get(hit.key)
            if entry is not None:
                out.append(Match(entry.id, score, "kratos-text"))
            continue
        entry = kb.by_reason.get(hit.template)
        if entry is not None:
            out.append(Match(entry.id, score, "kratos-text"))
            continue
        mapped = kb.reason_entries.get(hit.template)  # knowledge/reason_map.yaml: the entry for its situation
        if mapped is not None:
            out.append(Match(mapped, score - 2, "kratos-text"))
            continue
        for error_id in (kb.facts.reasons.get(hit.template) or {}).get("error_ids") or []:
            if error_id in kb.by_error_id:
                out.append(Match(kb.by_error_id[error_id].id, score - 2, "kratos-text"))
    return out


def text_matches(index: Index, artifacts, prose: str) -> list[Match]:
    """Known message texts pasted without their id (a reason line, a UI message text)."""
    queries = [a.text for a in artifacts if isinstance(a, UiMessage) and a.id is None and a.text]
    queries += [a.reason for a in artifacts if isinstance(a, KratosError) and a.reason and not a.id]
    if 20 <= len(prose) <= 600:
        queries.append(prose)
    out: list[Match] = []
    # Texts with placeholders are found by the Kratos-text index (kratos_text_matches), where a placeholder
    # stands for a value, not for any run of words: "Sign in with %s" searched anywhere matched every
    # "sign in with …" sentence.
    for query in queries:
        q = utils.default_process(query[:600])
        candidates = index.text_tokens.candidates(q, TEXT_CANDIDATES, min_shared=min(3, len(q.split())))
        choices = {i: index.text_choices[i] for i in candidates}
        for _, score, i in process.extract(
            q, choices, scorer=fuzz.partial_ratio, processor=None, score_cutoff=TEXT_CUTOFF, limit=3
        ):
            if len(index.text_choices[i]) > 0.5 * len(q) or query is not prose:
                out.append(Match(index.text_ids[i], float(score), "fuzzy-text"))
    return out


KEYWORD_BOOST = 12
# Topic documents that use a plain word: up to the first, the full boost; up to the second, half; beyond, none.
FEW_TOPICS, MANY_TOPICS = 20, 50


def _keyword_boosts(kb: KnowledgeBase, keywords: dict[str, list[str]]) -> dict[str, float]:
    """How much a keyword found in the question lifts its topics. A name, number or phrase
    (`passwordless_enabled`, `4000006`, "http delivery") is specific: the full boost. A plain word lifts less the
    more topics talk about it: "github" names a few, "recovery" and "code" dozens, and several such words
    together carried one topic to the top of every recovery question."""
    docs = [
        set(re.findall(r"[a-z0-9_]+", " ".join((e.title, e.summary, *e.phrasings, *e.keywords)).lower()))
        for e in kb.entries.values()
        if e.kind == "topic"
    ]
    boosts: dict[str, float] = {}
    for keyword in keywords:
        if keyword.isalpha():
            df = sum(keyword in d for d in docs)
            boosts[keyword] = KEYWORD_BOOST if df <= FEW_TOPICS else KEYWORD_BOOST / 2 if df <= MANY_TOPICS else 0
    return boosts


def topic_matches(index: Index, prose: str) -> list[Match]:
    # A question is short; past this length the words are pasted data, not the question.
    lowered = prose[:MAX_QUESTION].lower()
    words = content_words(lowered)
    found = index.keywords_in(lowered)
    if len(words.split()) < MIN_TOPIC_WORDS and not found:
        return []
    best: dict[str, float] = {}
    if words:
        for i in index.topic_tokens.candidates(words, TOPIC_CANDIDATES):
            score = _topic_score(words, index.topic_choices[i])
            if score >= 40:
                entry_id = index.topic_ids[i]
                best[entry_id] = max(best.get(entry_id, 0), score)
    for keyword in found:
        for entry_id in index.keyword_entries[keyword]:
            best[entry_id] = best.get(entry_id, 35) + index.keyword_boost.get(keyword, KEYWORD_BOOST)
    # Capped below an exact text match: a pasted Kratos message outranks a topic about it.
    return [Match(e, min(TOPIC_MAX, s), "fuzzy-topic") for e, s in best.items() if s >= TOPIC_CUTOFF]


def _topic_score(query: str, choice: str, **kwargs) -> float:
    # token_set alone rewards any query that merely contains a short phrasing; averaging with
    # token_sort keeps long, unrelated messages from scoring high on every topic.
    return 0.6 * fuzz.token_set_ratio(query, choice) + 0.4 * fuzz.token_sort_ratio(query, choice)


def finding_matches(findings: list[Finding], kb: KnowledgeBase) -> list[Match]:
    out = []
    for f in findings:
        for rank, entry_id in enumerate(f.entries):
            if entry_id in kb.entries:
                out.append(Match(entry_id, f.score - 3 * rank, f"finding:{f.rule}"))
    return out


def rank(matches: list[Match]) -> list[Match]:
    best: dict[str, Match] = {}
    for m in matches:
        if m.entry_id not in best or m.score > best[m.entry_id].score:
            best[m.entry_id] = m
    # Ties are broken by id, not by the order the matchers ran in (set order varies between processes).
    return sorted(best.values(), key=lambda m: (-m.score, m.entry_id))


def confidence(matches: list[Match], findings: list[Finding]) -> str:
    top = max([m.score for m in matches] + [f.score for f in findings if f.severity != "info"] + [0])
    if top >= 88:
        return "high"
    if top >= 72:
        return "medium"
    if top >= TOPIC_CUTOFF:
        return "low"
    return "none"
