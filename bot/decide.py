"""The decision stage: what kind of answer a message gets, and why.

Every candidate answer is gathered here (exact ids, Kratos texts, the rules' findings, topics retrieved for
the question, the thread's earlier topic), ranked once, and turned into one explicit `Decision`:

- `answer`: an entry (and/or findings) explains it, with a confidence that means something;
- `route`: not a Kratos question (billing, review timing, another product or project); say where it belongs;
- `abstain`: nothing explains it well enough; a short reply with the closest doc sections and the one
  question that would settle it — never the full template of a topic that merely shares words with it.

`Decision.reasons` says why, for `kratos-bot ask --explain` and for the tests.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from bot.analyze.versionkit import release_key
from bot.compose import first_sentences
from bot.extract.version import claims
from bot.kb.loader import KnowledgeBase, Route
from bot.match import (
    TOPIC_MAX,
    Index,
    confidence,
    exact_matches,
    finding_matches,
    kratos_text_matches,
    rank,
    text_matches,
    topic_matches,
)
from bot.models import (
    Curl,
    Finding,
    Flow,
    IdentitySchema,
    KratosConfig,
    KratosError,
    Link,
    Match,
    Reply,
    Section,
    UiMessage,
)
from bot.read import Reading
from bot.retrieve import Retriever, stems

# What makes a message a Kratos question whatever its words: something Kratos produced or reads.
HARD_EVIDENCE = (KratosError, UiMessage, Flow, IdentitySchema, KratosConfig)
_KRATOS_REQUEST = re.compile(r"/self-service/|/sessions/|/admin/identities|/identities\b|/schemas\b")
KRATOS_WORDS = re.compile(
    r"(?i)\b(kratos|ory|identit(?:y|ies)|sessions?|flows?|log ?(?:in|out)|sign[ -]?(?:in|up|out)|registration|register|"
    r"settings|recovery|recover|verification|verify|schema|traits?|totp|mfa|2fa|aal[12]?|csrf|cookies?|courier|"
    r"smtp|oidc|social|webhooks?|hooks?|passwords?|passkeys?|webauthn|one[- ]time|otp|self-service|selfservice|"
    r"whoami|tokens?|admin|kratos\.ya?ml|cors|redirect|return_to|ui_url|base_url|dsn|migrat\w*|helm)\b"
)
OTHER_ORY = re.compile(
    r"(?i)\b(hydra|keto|oathkeeper|oauth2 clients?|access tokens? (?:from|of) hydra|"
    r"relation tuples?|permission checks?)\b"
)
KRATOS_ONLY = re.compile(r"(?i)\b(kratos|self-service|identit(?:y|ies)|ui\.nodes|ory_kratos_session)\b")
# Retrieval: a topic answers when the question's informative words are mostly in it.
COVERAGE_FLOOR = 0.6
SHORT_QUESTION_MAX = 70  # one or two informative words cannot make an answer confident
RETRIEVED = 5
LEAD_RATIO, LEAD_COVERAGE, LEAD_SCORE = 1.5, 0.4, 74  # BM25 first hit this far ahead: a medium answer
ASK_ERROR = "Paste the full error JSON (with `error.id`) or the `ui.messages` array, and say which flow it is."
ASK_HOWTO = "Which flow or feature is this about, and do you self-host Kratos (which version) or use Ory Network?"


@dataclass(frozen=True)
class Routing:
    route_id: str
    title: str
    lines: tuple[str, ...]
    links: tuple[Link, ...]
    why: str  # what matched, for `kratos-bot ask --explain` and the tests


@dataclass(frozen=True)
class Decision:
    kind: str  # answer | route | abstain
    matches: tuple[Match, ...]  # ranked, known entries only; the first is the primary unless `primary` is False
    confidence: str  # high | medium | low | none
    reasons: tuple[str, ...]
    primary: bool = True  # False: findings lead, the best match is only related
    routing: Routing | None = None
    docs: tuple[tuple[str, str], ...] = ()  # closest doc sections (url, label), for an abstention
    ask: str = ""  # the one question that would settle it
    notes: tuple[str, ...] = ()
    asked: str = ""  # findings lead; the topic the question itself is about, when one clearly is


@dataclass(frozen=True)
class DecideInput:
    kb: KnowledgeBase
    index: Index
    retriever: Retriever
    reading: Reading
    prose: str  # the words around the artifacts
    text: str  # the whole normalized message
    focus: tuple
    findings: list[Finding]
    carried: bool = False
    previous_entries: tuple[str, ...] = ()  # the thread's last answered entries
    followup: bool = False  # a short message in a thread that refers back ("and for registration?")


def topic_candidates(index: Index, retriever: Retriever, question: str, prose: str) -> list[Match]:
    """Topics for the question: fuzzy phrasing similarity and BM25 retrieval, each scored 0-95.

    Agreement between the two is stronger evidence than either alone."""
    fuzzy = {m.entry_id: m.score for m in topic_matches(index, question or prose)}
    retrieved: dict[str, float] = {}
    hits = retriever.topics_for(question or prose, RETRIEVED)
    # A long report covers little of any entry, but when one entry scores far above the rest it is the one.
    ahead = len(hits) > 1 and hits[0].score >= LEAD_RATIO * hits[1].score
    if ahead and hits[0].terms >= 3 and hits[0].coverage >= LEAD_COVERAGE:
        retrieved[hits[0].entry_id] = LEAD_SCORE
    for position, hit in enumerate(hits):
        if hit.coverage >= COVERAGE_FLOOR:
            # All of a question's informative words in one entry: 90; most of them: below the answer line.
            score = 100 * hit.coverage - 10 - 4 * position
            score = min(score, SHORT_QUESTION_MAX) if hit.terms < 3 else score
            retrieved[hit.entry_id] = max(score, retrieved.get(hit.entry_id, 0))
    out = []
    for entry_id in sorted(set(fuzzy) | set(retrieved)):
        score = max(fuzzy.get(entry_id, 0), retrieved.get(entry_id, 0))
        if entry_id in fuzzy and entry_id in retrieved:
            score += 5
        out.append(Match(entry_id, min(TOPIC_MAX, score), "topic"))
    return out


def hard_evidence(artifacts, findings: list[Finding]) -> bool:
    """The message pastes something Kratos-shaped: an error, a UI message, a flow, a schema, a config, a request
    to Kratos, or a paste a rule found an error in."""
    if any(isinstance(a, HARD_EVIDENCE) for a in artifacts):
        return True
    if any(isinstance(a, Curl) and _KRATOS_REQUEST.search(a.url) for a in artifacts):
        return True
    return any(f.severity == "error" for f in findings)


def _unknown_release(kb: KnowledgeBase, text: str) -> Routing | None:
    """A "Kratos vX" that Ory Kratos never released: most likely another project with the same name."""
    tags = (kb.facts.versions or {}).get("tags") or []
    if not tags:
        return None
    latest = max(tags, key=release_key)
    for claim in claims(text):
        if claim.strength < 2:
            continue
        major_minor = ".".join(claim.version.split(".")[:2]) + "."
        if any(t.startswith(major_minor) for t in tags) or release_key(claim.version) > release_key(latest):
            continue
        return Routing(
            route_id="route.unknown-release",
            title=f"Ory Kratos has no release {claim.version}",
            lines=(
                f"Ory Kratos, the identity server this bot knows, never published a {major_minor}x release, so "
                "this is probably another project called Kratos. Ask that project's maintainers.",
                "If it is Ory Kratos, say which image tag or `kratos version` you run.",
            ),
            links=(),
            why=f"version claim {claim.version} ({claim.source}) is not among the Ory Kratos release tags",
        )
    return None


def route(kb: KnowledgeBase, prose: str, text: str, artifacts, findings: list[Finding]) -> Routing | None:
    """The route for a message that is not a Kratos question, or None."""
    if hard_evidence(artifacts, findings):
        return None
    # The whole message: the words that place it elsewhere are often in a URL or a pasted command.
    for r in kb.routes:
        hit = next((group for group in r.when if all(p.search(text) for p in group)), None)
        if hit is None or any(p.search(text) for p in r.unless):
            continue
        return _routing(r, kb, f"{r.id}: " + " + ".join(repr(p.pattern) for p in hit))
    return _unknown_release(kb, text)


def _routing(r: Route, kb: KnowledgeBase, why: str) -> Routing:
    links = [Link(url, text) for url, text in r.links]
    links += [Link(url, kb.facts.doc_label(url)) for url in r.docs]
    return Routing(route_id=r.id, title=r.title, lines=r.say, links=tuple(links), why=why)


def decide(di: DecideInput) -> Decision:
    kb = di.kb
    # A pasted live token is reported whatever the answer; it says nothing about what the question is.
    findings = [f for f in di.findings if f.rule != "live-secrets"]
    routing = route(kb, di.prose, di.text, di.focus, findings)
    if routing is not None:
        return Decision("route", (), "high", (f"route: {routing.why}",), routing=routing)

    matches = exact_matches(di.index, di.focus, di.prose)
    matches += finding_matches(findings, kb)
    matches += text_matches(di.index, di.focus, di.prose)
    matches += kratos_text_matches(di.index, di.text)
    matches += topic_candidates(di.index, di.retriever, di.reading.question, di.prose)
    reasons: list[str] = []
    if di.carried and not matches:
        matches += _thread_matches(di)
        reasons.append("follow-up without anything new: answered from the thread's earlier topic")
    ranked = tuple(
        dataclasses.replace(m, kind=kb.entries[m.entry_id].kind) for m in rank(matches) if m.entry_id in kb.entries
    )
    level = confidence(list(ranked), findings)
    # "high" means the paste itself shows the cause (a rule found it). Knowing which error or topic it is
    # tells what it means, not why it happened here: that is "medium".
    if level == "high" and not any(f.severity in ("error", "warning") and f.score >= 85 for f in findings):
        level = "medium"
        reasons.append("no finding in the paste shows the cause: medium")
    reasons += [f"{m.why} {m.entry_id} {m.score:.0f}" for m in ranked[:3]]
    reasons += [f"finding {f.rule} {f.score}" for f in findings[:3]]
    notes: list[str] = []
    # Hydra, Keto and Oathkeeper questions share words with Kratos topics; answering them with Kratos config
    # would be confidently wrong.
    if (
        OTHER_ORY.search(di.prose)
        and not KRATOS_ONLY.search(di.prose)
        and not findings
        and not (KRATOS_WORDS.search(di.prose) and _knows_integration(kb, ranked))
    ):
        notes.append(
            "This looks like a question about another Ory product (Hydra, Keto or Oathkeeper); I only know Ory Kratos."
        )
        return _abstain(di, (), "none", reasons + ["another Ory product"], notes)
    only_topics = all(m.why == "topic" for m in ranked)
    weak = level in ("low", "none") or (ranked and ranked[0].score < FOLLOWUP_OWN_SCORE)
    if not findings and only_topics and weak and di.followup and di.previous_entries:
        # A follow-up that matches nothing well on its own is about what the thread was already discussing.
        ranked = tuple(dataclasses.replace(m, kind=kb.entries[m.entry_id].kind) for m in _thread_matches(di))
        if ranked:
            reasons.append("follow-up: answered from the thread's topic")
            return Decision("answer", ranked, "medium", tuple(reasons))
    if not findings and only_topics and level in ("low", "none") and not di.carried:
        reasons.append(f"best topic only {level}: abstain")
        return _abstain(di, ranked, level, reasons, notes)
    if not ranked and not findings:
        return _abstain(di, ranked, "none", reasons + ["nothing matched"], notes)
    # A topic guess must not head a reply whose findings say something more specific.
    primary = True
    explained = {e for f in findings for e in f.entries}
    if ranked and findings:
        top = ranked[0]
        if top.why == "topic" and top.entry_id not in explained and top.score < findings[0].score:
            if _asked_about(di, kb.entries[top.entry_id], top.score, findings):
                reasons.append(f"the question is about {top.entry_id}; the findings are beside it")
            else:
                primary = False
                reasons.append(f"findings lead; {top.entry_id} is only related")
    # "high" says the paste shows the cause of what the reply is about: the findings lead it, or explain its entry.
    # Findings beside the answer (a CORS remark next to a question about verification mail) do not.
    if level == "high" and primary and ranked and ranked[0].entry_id not in explained:
        level = "medium"
        reasons.append("the findings are beside the answer, not its cause: medium")
    # The reply is led by findings, or by the entry of a pasted error or message: what the question itself asks
    # about may be another topic ("why does Hydra's login not continue when my SPA posts JSON?").
    led_by_paste = (findings and not primary) or (ranked and ranked[0].why != "topic" and ranked[0].kind != "topic")
    shown = explained | ({ranked[0].entry_id} if primary and ranked else set())
    asked = _asked_topic(di, shown) if led_by_paste else ""
    if asked:
        reasons.append(f"the question itself is about {asked}: its gist follows the findings")
    return Decision("answer", ranked, level, tuple(reasons), primary=primary, notes=tuple(notes), asked=asked)


INTEGRATION_SCORE = 80
FOLLOWUP_OWN_SCORE = 88  # a follow-up's own topic must be this strong to leave the thread's topic


def _knows_integration(kb: KnowledgeBase, ranked) -> bool:
    """Hydra's login challenge or Oathkeeper in front of Kratos are Kratos questions too: a strong match on an
    entry that itself is about working with the other product means we know this integration."""
    for match in ranked[:3]:
        entry = kb.entries[match.entry_id]
        if match.score >= INTEGRATION_SCORE and OTHER_ORY.search(
            " ".join((entry.title, entry.summary, *entry.keywords, *entry.fixes))
        ):
            return True
    return False


ASKED_TOPIC_SCORE = 75
ASKED_MARGIN = 0.15  # share of the question's words the topic explains beyond the best finding


def _asked_about(di: DecideInput, entry, entry_score: float, findings: list[Finding]) -> bool:
    """Whether the question asks about the topic rather than about what the rules found in the paste: the
    topic covers clearly more of the question's words than every finding does. A user who asks how to block
    unverified logins and pastes a config with an old key wants the answer first and the old key second."""
    asked = set(stems(di.reading.question))
    if len(asked) < 3:
        return False
    topic = set(stems(" ".join((entry.title, entry.summary, *entry.phrasings, *entry.keywords, *entry.config_keys))))
    best_finding = max(
        len(asked & set(stems(" ".join((f.title, f.detail, *f.fixes, *f.config_keys))))) for f in findings
    )
    return entry_score >= ASKED_TOPIC_SCORE and (len(asked & topic) - best_finding) / len(asked) >= ASKED_MARGIN


ASKED_LEAD = 1.2  # BM25 score of the first topic over the second
ASKED_COVERAGE = 0.5


def _asked_topic(di: DecideInput, explained: set[str]) -> str:
    """The topic the question is about, beside findings that answer the paste: "Kratos refuses my config — and
    how do I block a flow from a webhook in my release?" needs both. Only a clear first hit: ahead of the second
    or covering most of the question."""
    hits = di.retriever.topics_for(di.reading.question, 2) if di.reading.question else []
    if not hits or hits[0].entry_id in explained or hits[0].terms < 3:
        return ""
    lead = hits[0].score / hits[1].score if len(hits) > 1 and hits[1].score > 0 else float("inf")
    return hits[0].entry_id if lead >= ASKED_LEAD or hits[0].coverage >= ASKED_COVERAGE else ""


def _thread_matches(di: DecideInput) -> list[Match]:
    """The thread's last answered entries, in their order, as the answer to a follow-up (medium at best)."""
    return [Match(e, 72 - i, "thread-context") for i, e in enumerate(di.previous_entries[:3]) if e in di.kb.entries]


def _abstain(di: DecideInput, ranked, level: str, reasons: list[str], notes: list[str]) -> Decision:
    question = di.reading.question or di.prose
    if not KRATOS_WORDS.search(di.prose):
        # Nothing in the words is about Kratos: a topic that shares one of them is no guess worth making.
        ranked = ()
        reasons = reasons + ["no Kratos word in the question: no guess"]
    guess = ranked[0] if ranked and ranked[0].score >= GUESS_SCORE else None
    ask = ""
    if guess is not None:
        ask = di.kb.entries[guess.entry_id].ask
    if not ask:
        ask = ASK_HOWTO if di.reading.howto else ASK_ERROR
    docs = tuple(di.retriever.doc_sections(question, 3)) if KRATOS_WORDS.search(question) else ()
    return Decision(
        "abstain",
        tuple(ranked[:3]),
        "none" if level == "none" else "low",
        tuple(reasons),
        docs=docs,
        ask=ask,
        notes=tuple(notes),
    )


def repeat_reply(full: Reply, ask: str, question: str = "") -> Reply:
    """The thread already has this answer: the lines of it that fit the follow-up best (at most four), and
    what would move it forward, instead of the same long reply again."""
    # Candidates: every sentence the full reply said, in its order (fixes first: they are what to do).
    lines: list[str] = []
    for title in ("Fix", "In your paste", "What it means", "Common causes"):
        section = next((s for s in full.sections if s.title == title), None)
        for line in section.lines if section is not None else ():
            line = re.sub(r"^(\d+\.|-)\s*", "", line)
            lines.extend(re.split(r"(?<=[.!?])\s+(?=[A-Z`])", line) if title == "What it means" else [line])
    asked = set(stems(question))
    overlap = [len(asked & set(stems(line))) for line in lines]
    if any(overlap):
        # The follow-up asks about something specific: the sentences that speak to it.
        order = sorted(range(len(lines)), key=lambda i: (-overlap[i], i))[:4]
    else:
        order = list(range(min(3, len(lines))))
    gist = tuple(lines[i] for i in sorted(order))
    return Reply(
        headline=f"As above: {full.headline}",
        sections=(Section("In short", gist), Section("To get further", (ask,))),
        links=(),  # the thread's earlier reply has them
        confidence=full.confidence,
        matches=full.matches,
        findings=full.findings,
        warning=full.warning,
        meta={"decision": "repeat"},
    )


def routed_reply(routing: Routing, notes: tuple[str, ...] = (), warning: str = "", findings: tuple = ()) -> Reply:
    sections = [Section("Where to ask", routing.lines)]
    if notes:
        sections.append(Section("Note", notes))
    return Reply(
        headline=routing.title,
        sections=tuple(sections),
        links=routing.links,
        confidence="high",
        matches=(),
        findings=findings,
        warning=warning,
        meta={"route": routing.route_id, "why": routing.why},
    )


GUESS_SCORE = 60  # a topic this close is worth its summary and first fixes, said as a guess


def abstain_reply(
    decision: Decision, kb: KnowledgeBase, notes: tuple[str, ...] = (), warning: str = "", findings: tuple = ()
) -> Reply:
    """Short: the likeliest topic as a guess (its gist and first two fixes), where to read, the one question."""
    sections: list[Section] = []
    guess = decision.matches[0] if decision.matches and decision.matches[0].score >= GUESS_SCORE else None
    links = [Link(url, label) for url, label in decision.docs]
    if guess is not None:
        entry = kb.entries[guess.entry_id]
        headline = f"Not sure, but this may be: {entry.title}"
        sections.append(Section("What it means", (first_sentences(entry.summary, 2),)))
        if entry.fixes:
            sections.append(Section("Try", (entry.fixes[0],)))
        links[:0] = [Link(url, kb.facts.doc_label(url)) for url in entry.docs[:2]]
    else:
        headline = "Not sure: I have no answer I trust for this"
    sections.append(Section("To be sure", (decision.ask,)))
    if notes:
        sections.append(Section("Note", notes))
    seen: set[str] = set()
    unique = [link for link in links if not (link.url in seen or seen.add(link.url))]
    return Reply(
        headline=headline,
        sections=tuple(sections),
        links=tuple(unique[:3]),
        confidence=decision.confidence,
        matches=decision.matches,
        findings=findings,
        warning=warning,
        meta={"decision": "abstain"},
    )
