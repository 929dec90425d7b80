"""Every literal text Kratos emits, found wherever it stands in a message.

Users rarely paste the JSON with the id: they quote the sentence from the UI, a log line, a screenshot
transcription or an HTML page ("The recovery token is invalid or has already been used", `msg=no resumable
session found`). This index holds every UI message text and every literal error reason and message of
the fact tables, with Go placeholders (`%s`, `{provider}`) as wildcards, and finds them in one pass over
the message (an Aho-Corasick automaton over each text's longest literal piece, then the whole text
checked around it). Case, runs of whitespace and JSON or HTML escaping do not matter.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import ahocorasick

from bot.kb.loader import Facts

_VERB = re.compile(r"%(?:\[\d+\])?[-+# 0]*\d*(?:\.\d+)?[sdvqfxT]|\{[A-Za-z_][\w.]*\}")
MIN_LITERAL = 16  # a shorter text ("Email", "Password") says nothing on its own
MIN_ANCHOR = 6
MIN_WORDS = 3


def _plain_phrase(literal: str) -> bool:
    """ "Verification code", "Recovery address": a form label that is also an ordinary phrase in a sentence.
    ("invalid login_challenge" or "missing properties: %s" are Kratos' own, however short.)"""
    words = literal.split()
    return len(words) < MIN_WORDS and all(w.isalpha() for w in words)


MAX_HITS = 20
_GAP = "\\S{0,160}?"
MAX_TEXT = 300_000


@dataclass(frozen=True)
class TextHit:
    kind: str  # "ui_message" | "reason" | "library" (a validator's text, knowledge/library_texts.yaml)
    key: int | str  # the UI message id, or the text as Kratos writes it
    template: str  # the text as Kratos writes it, placeholders included
    start: int  # in the folded message
    end: int

    @property
    def templated(self) -> bool:
        """The text has a placeholder: a short generic message more than a quoted sentence."""
        return bool(_VERB.search(self.template))


@dataclass(frozen=True)
class _Text:
    kind: str
    key: int | str
    template: str
    pattern: re.Pattern[str]
    anchor_offset: int  # where the anchor starts inside the folded template (for the window to check)


def fold(text: str) -> str:
    """Lower case, one space for any run of whitespace, JSON and HTML escapes undone."""
    text = html.unescape(text.replace('\\"', '"').replace("\\n", " ").replace("\\'", "'"))
    return re.sub(r"\s+", " ", text.lower())


def _pieces(template: str) -> list[str]:
    return _VERB.split(fold(template))


def _pattern(pieces: list[str]) -> re.Pattern[str]:
    # A placeholder stands for one rendered value: a name, an email, a quoted URL; not a stretch of prose.
    return re.compile(_GAP.join(re.escape(p) for p in pieces))


MIN_SENTENCE_WORDS = 5
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)])\.\s+(?=[A-Z])")


def _first_sentences(sources: list[tuple[str, object, str]]) -> list[tuple[str, object, str]]:
    """The first sentence of a two-sentence text on its own: people quote "The recovery token is invalid or has
    already been used." and leave out "Please retry the flow." A sentence that several texts share is no
    one's."""
    firsts = []
    for kind, key, template in sources:
        parts = _SENTENCE_END.split(template.strip(), maxsplit=1)
        if len(parts) == 2 and len(parts[0].split()) >= MIN_SENTENCE_WORDS:
            firsts.append((kind, key, parts[0] + "."))
    counts: dict[str, int] = {}
    for _, _, sentence in firsts:
        counts[fold(sentence)] = counts.get(fold(sentence), 0) + 1
    return [f for f in firsts if counts[fold(f[2])] == 1]


class KratosTexts:
    def __init__(self) -> None:
        self._automaton = ahocorasick.Automaton()
        self._texts: list[_Text] = []

    @classmethod
    def build(cls, facts: Facts, library: tuple[str, ...] = ()) -> KratosTexts:
        index = cls()
        by_anchor: dict[str, list[int]] = {}
        seen: set[str] = set()
        sources = [("ui_message", uid, row.get("text") or "") for uid, row in facts.ui_messages.items()]
        sources += [("reason", reason, reason) for reason in facts.reasons]
        sources += [("library", text, text) for text in library]
        sources += _first_sentences([s for s in sources if s[0] != "library"])
        for kind, key, template in sources:
            folded = fold(template).strip()
            if not folded or folded.startswith("{") or folded in seen:
                continue
            pieces = _pieces(template)
            anchor = max(pieces, key=len).strip()
            literal = " ".join(p.strip() for p in pieces)
            if len(anchor) < MIN_ANCHOR or len(literal) < MIN_LITERAL or _plain_phrase(literal):
                continue
            seen.add(folded)
            offset = fold(template).find(anchor)
            index._texts.append(_Text(kind, key, template, _pattern([p for p in pieces]), max(offset, 0)))
            by_anchor.setdefault(anchor, []).append(len(index._texts) - 1)
        for anchor, ids in by_anchor.items():
            index._automaton.add_word(anchor, (anchor, tuple(ids)))
        if by_anchor:
            index._automaton.make_automaton()
        return index

    def __len__(self) -> int:
        return len(self._texts)

    def find(self, text: str) -> list[TextHit]:
        """The Kratos texts in `text`, longest first where two overlap; at most MAX_HITS."""
        if not self._texts:
            return []
        folded = fold(text[:MAX_TEXT])
        hits: dict[int, TextHit] = {}
        for end, (anchor, ids) in self._automaton.iter(folded):
            start = end - len(anchor) + 1
            for i in ids:
                if i in hits:
                    continue
                t = self._texts[i]
                lo = max(0, start - t.anchor_offset - 160 * t.pattern.pattern.count(_GAP))
                m = t.pattern.search(folded, lo, min(len(folded), end + 1 + 2 * len(t.template) + 600))
                if m is not None:
                    hits[i] = TextHit(t.kind, t.key, t.template, m.start(), m.end())
            if len(hits) >= MAX_HITS:
                break
        ordered = sorted(hits.values(), key=lambda h: (h.start, -(h.end - h.start)))
        out: list[TextHit] = []
        for hit in ordered:
            # "Foo." inside "Foo. Bar baz." is the same message, not a second one.
            if out and hit.end <= out[-1].end and hit.start >= out[-1].start:
                continue
            out.append(hit)
        return out
