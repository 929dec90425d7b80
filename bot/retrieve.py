"""Lexical retrieval of topics and doc sections for a question: BM25 with English stemming.

Why bm25s and PyStemmer: a few hundred short documents, ranked in well under a millisecond, with scores we can
read (tantivy would bring a search engine, an index on disk and a query language to escape for the same
ranking). Stemming makes "verifying", "verified" and "verification" one word; fuzzy string matching on whole
phrasings, which this replaces for topics, could not.

Fields are weighted by repetition in each entry's document: phrasings and keywords say what an entry is about,
the summary only mentions things. `coverage` says how much of the question an entry explains: the share of the
question's informative (idf-weighted) stems found in the entry. The ranker orders; coverage decides whether the
best candidate is good enough to answer with.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import bm25s
import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS

from bot.kb.loader import KnowledgeBase

MAX_QUERY = 400  # query stems scored, in order
MAX_QUERY_CHARS = 20_000  # characters of a question read for them
WEIGHTS = {"title": 2, "phrasings": 2, "keywords": 3, "summary": 1, "config_keys": 1, "endpoints": 1}
_STEMMER = Stemmer.Stemmer("english")
_TOKEN = re.compile(r"[a-z0-9]{2,}")
# Words every Kratos question has: they rank nothing (BM25's idf already knows most of them; these are the
# ones too frequent in questions but not in the entries).
# Pronouns and auxiliaries ("we", "have", "been") only dilute a long question's coverage; words of order and
# quantity ("after", "before", "not", "only", "same") say something in Kratos ("after registration" hooks).
_KEEP = frozenset(
    "after before between off on out up down over under again same other only not no nor all any both each few "
    "more most some such own too very once during until through against above below".split()
)
_NOISE = (frozenset(STOPWORDS_EN_PLUS) - _KEEP) | frozenset(
    "kratos ory hi hello hey thanks thank please help question issue problem work works working using use used "
    "get got want need trying tried try anyone someone know way possible also would could should idea any "
    "does doesn don didn isn aren wasn can cannot how what why when where which make".split()
)


# Users and entries name the same thing differently ("sign in" / login, "confirm" / verify, "2FA" / MFA), and
# the stemmer keeps verify/verification and recover/recovery apart. One canonical word each, on both sides.
_SYNONYMS = tuple(
    (re.compile(pattern), word)
    for pattern, word in (
        (r"\b(?:sign(?:ed|ing|s)?|log(?:ged|ging|s)?)[ -]?in\b|\blogins?\b", "login"),
        (r"\b(?:sign(?:ed|ing|s)?|log(?:ged|ging|s)?)[ -]?(?:out|off)\b|\blogouts?\b", "logout"),
        (r"\bsign(?:ed|ing|s)?[ -]?up\b|\bregist\w*", "registration"),
        (r"\bverif\w*|\bconfirm\w*", "verification"),
        (r"\brecover\w*|\b(?:forg[eo]t\w*|reset\w*) (?:my |the |their |a |your )?password", "recovery"),
        (r"\b2fa\b|\bmfa\b|\btwo[- ]factor\b|\bsecond factor\b|\bmulti[- ]factor\b", "mfa"),
        (r"\bone[- ]time (?:pass)?(?:code|password)s?\b|\botps?\b", "code"),
        (r"\bsocial (?:login|sign[ -]?in|provider)s?\b|\bsso\b", "oidc"),
        (r"\be-mail\w*|\bmails?\b", "email"),
        (
            r"\btranslat\w*|\bi18n\b|\blocali[sz]\w*|\b(?:switch\w*|chang\w*|other|different) (?:the )?languages?\b",
            "translate",
        ),
        (r"\bexceptions?\b", "error"),
    )
)


_URL = re.compile(r"\bhttps?://[^/\s]*(\S*)")
_KRATOS_PATH = re.compile(r"^/(?:admin/|self-service/|sessions|identities|schemas|health|\.well-known)")


def _url_words(m: re.Match) -> str:
    # A Kratos API path names what is asked about; a link to a GitHub file or a docs page does not.
    path = m.group(1)
    return " " + path if _KRATOS_PATH.match(path) else " "


def stems(text: str) -> list[str]:
    # A URL's host (localhost, a project slug) names no topic; a Kratos path (/self-service/login/api) does.
    text = _URL.sub(_url_words, text.lower())
    for pattern, word in _SYNONYMS:
        text = pattern.sub(word, text)
    words = [w for w in _TOKEN.findall(text) if w not in _NOISE]
    return _STEMMER.stemWords(words)


@dataclass
class Ranked:
    entry_id: str
    score: float  # BM25
    coverage: float  # 0..1: idf-weighted share of the question's stems found in the entry
    terms: int  # informative stems in the question: one word covered fully is still one word


@dataclass
class _Corpus:
    ids: list[str] = field(default_factory=list)
    stem_sets: list[frozenset[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    retriever: bm25s.BM25 | None = None

    @classmethod
    def build(cls, docs: list[tuple[str, str]]) -> _Corpus:
        corpus = cls()
        if not docs:
            return corpus
        corpus.ids = [d[0] for d in docs]
        tokens = [stems(d[1]) for d in docs]
        corpus.stem_sets = [frozenset(t) for t in tokens]
        df: dict[str, int] = {}
        for s in corpus.stem_sets:
            for stem in s:
                df[stem] = df.get(stem, 0) + 1
        n = len(docs)
        corpus.idf = {s: math.log(1 + (n - c + 0.5) / (c + 0.5)) for s, c in df.items()}
        corpus.retriever = bm25s.BM25()
        # Documents are already stemmed token lists; bm25s builds its vocabulary from them.
        corpus.retriever.index(tokens, show_progress=False)
        return corpus

    def search(self, question: str, k: int) -> list[Ranked]:
        # A question is a few dozen words; a paste read as one (a 1 MB log) must not cost a BM25 pass per word.
        query = [s for s in stems(question[:MAX_QUERY_CHARS]) if s in self.idf][:MAX_QUERY]
        if not query or self.retriever is None:
            return []
        k = min(k, len(self.ids))
        docs, scores = self.retriever.retrieve([query], k=k, show_progress=False)
        mass = sum(self.idf[s] for s in set(query))
        out = []
        for i, score in zip(docs[0], scores[0], strict=True):
            if score <= 0:
                continue
            covered = sum(self.idf[s] for s in set(query) if s in self.stem_sets[int(i)])
            out.append(Ranked(self.ids[int(i)], float(score), covered / mass if mass else 0.0, len(set(query))))
        return out


def _topic_doc(entry) -> str:
    parts: list[str] = []
    for name, weight in WEIGHTS.items():
        value = getattr(entry, name)
        text = " ".join(value) if isinstance(value, tuple) else str(value or "")
        parts.extend([text] * weight)
    return "\n".join(parts)


@dataclass
class Retriever:
    topics: _Corpus
    docs: _Corpus
    doc_labels: dict[str, str]  # url#anchor -> what a link to it says (Facts.doc_label)

    @classmethod
    def build(cls, kb: KnowledgeBase) -> Retriever:
        topics = [(e.id, _topic_doc(e)) for e in kb.entries.values() if e.kind == "topic"]
        sections: list[tuple[str, str]] = []
        labels: dict[str, str] = {}
        for url, page in kb.facts.docs.items():
            title = page.get("title") or ""
            sections.append((url, f"{title} {title}"))
            labels[url] = kb.facts.doc_label(url)
            for anchor, heading in (page.get("headings") or {}).items():
                key = f"{url}#{anchor}"
                sections.append((key, f"{title} {heading} {heading}"))
                labels[key] = kb.facts.doc_label(key)
        return cls(_Corpus.build(topics), _Corpus.build(sections), labels)

    def topics_for(self, question: str, k: int = 8) -> list[Ranked]:
        return self.topics.search(question, k)

    def doc_sections(self, question: str, k: int = 3) -> list[tuple[str, str]]:
        """(url, label) of the closest doc sections, at most one per page."""
        out: list[tuple[str, str]] = []
        pages: set[str] = set()
        for hit in self.docs.search(question, k * 4):
            page = hit.entry_id.split("#", 1)[0]
            if page in pages or hit.coverage < 0.3:
                continue
            pages.add(page)
            out.append((hit.entry_id, self.doc_labels[hit.entry_id]))
            if len(out) == k:
                break
        return out
