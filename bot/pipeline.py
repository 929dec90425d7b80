"""The triage pipeline: normalize -> extract -> analyze -> match -> compose, plus thread memory.

Plain functions over plain data; Slack, the CLI and the tests all call `Triage.answer`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from urllib.parse import parse_qs, urlsplit

from bot.analyze import Evidence, analyze
from bot.analyze.flowkit import base_url
from bot.compose import ComposeInput, compose, secret_warning
from bot.context import ContextStore, MemoryContextStore, Turn, redact
from bot.correct import corrections
from bot.decide import DecideInput, abstain_reply, decide, hard_evidence, repeat_reply, routed_reply
from bot.extract import Extraction, extract
from bot.extract.classify import EnvNames, cut_notes, unchecked_notes
from bot.extract.secrets import scrub
from bot.extract.version import running_version
from bot.kb.loader import KnowledgeBase
from bot.match import Index, topic_matches
from bot.models import Curl, Flow, FlowId, IdentitySchema, KratosConfig, KratosError, Reply, UiMessage
from bot.normalize import normalize
from bot.read import read
from bot.retrieve import Retriever

MAX_INPUT = 300_000  # characters analysed; a bigger paste is read up to here and the reply says so
SHORT_FOLLOWUP_WORDS = 12
OWN_TOPIC_SHORT, OWN_TOPIC_LONG = 88, 75
MEANINGFUL = (KratosError, UiMessage, Flow, Curl, IdentitySchema, KratosConfig)
_FOLLOWUP = re.compile(
    r"(?i)\b(this|that|it|above|response|answer|error|next step|what now|what should|what do i|why|how do i fix|"
    r"still|same|again|then|"
    # context given in reply to the bot's question: where and what they run
    r"i (?:have|use|run|am using)|i'm using|we (?:have|use|run|are using)|local(?:ly|host)?|self[- ]?host\w*|"
    r"on[- ]prem\w*|ory network|docker|kubernetes|helm|version)\b"
)


class Triage:
    def __init__(self, kb: KnowledgeBase, store: ContextStore | None = None):
        self.kb = kb
        self.index = Index.build(kb)
        self.retriever = Retriever.build(kb)
        self.env_keys = EnvNames.of(
            {
                row["env_var"]: key
                for key, row in kb.facts.config_keys.items()
                if row.get("env_var") and "<" not in row["env_var"] and row.get("type") not in ("object", None)
            }
        )
        self.store: ContextStore = store or MemoryContextStore()

    def answer(self, raw: str, thread: str | None = None, bot_user_id: str | None = None) -> Reply:
        """Triage one message of `thread`, remembering it in this object's (synchronous) store."""
        history = self.store.history(thread) if thread else ()
        reply, turn = self.triage(raw, history, bot_user_id)
        if thread and turn is not None:
            self.store.append(thread, turn)
        return reply

    def triage(
        self, raw: str, history: tuple[Turn, ...] = (), bot_user_id: str | None = None
    ) -> tuple[Reply, Turn | None]:
        """The pipeline itself: the reply, and the turn to remember (secrets masked). Stores nothing."""
        started = time.perf_counter()
        timings: dict[str, float] = {}
        notes: list[str] = []
        text = raw if isinstance(raw, str) else str(raw)
        if len(text) > MAX_INPUT:
            notes.append(
                f"Your message is {len(text) // 1024} KB; I read the first {MAX_INPUT // 1000} KB. "
                "Paste only the error and the request that caused it."
            )
            text = text[:MAX_INPUT]
        message = normalize(text, bot_user_id)
        if message.binary:
            notes.append("Part of the message was binary data; I ignored those bytes.")
        if not message.text:
            return compose(ComposeInput([], [], "none", notes=tuple(notes)), self.kb), None
        mark = _clock(timings, "normalize", started)
        extraction = extract(message, self.env_keys)
        # Later stages read the message with its secrets masked: a secret must not pick the answer or reach it.
        reading = read(extraction.text)
        notes.extend(unchecked_notes(extraction.artifacts) + cut_notes(extraction.artifacts))
        mark = _clock(timings, "extract", mark)

        focus = extraction.artifacts
        carried = False
        # Only a thread can have follow-ups; the topic score that tells one apart is not needed otherwise.
        followup = bool(history) and self._is_followup(
            extraction.prose, max((m.score for m in topic_matches(self.index, extraction.prose)), default=0)
        )
        if not any(isinstance(a, MEANINGFUL) for a in focus) and followup:
            previous = next((t for t in reversed(history) if any(isinstance(a, MEANINGFUL) for a in t.artifacts)), None)
            if previous is not None:
                focus = previous.artifacts + focus
                carried = True

        ev = Evidence(focus=focus, prose=extraction.prose, history=history, carried=carried, text=extraction.text)
        findings = analyze(ev, self.kb)
        mark = _clock(timings, "analyze", mark)
        decision = decide(
            DecideInput(
                kb=self.kb,
                index=self.index,
                retriever=self.retriever,
                reading=reading,
                prose=extraction.prose,
                text=extraction.text,
                focus=focus,
                findings=findings,
                carried=carried,
                previous_entries=next((t.entry_ids for t in reversed(history) if t.entry_ids), ()),
                followup=followup,
            )
        )
        mark = _clock(timings, "match", mark)
        notes.extend(decision.notes)
        running = running_version(extraction.text)
        version = running.version if running else ""
        if decision.kind == "route" and decision.routing is not None:
            reply = routed_reply(decision.routing, tuple(notes), secret_warning(findings), tuple(findings))
        elif decision.kind == "abstain":
            reply = abstain_reply(decision, self.kb, tuple(notes), secret_warning(findings), tuple(findings))
        else:
            values = self._values(ev)
            fixed = tuple(corrections(ev.focus, findings))
            ci = ComposeInput(
                list(decision.matches),
                findings,
                decision.confidence,
                carried,
                values,
                tuple(notes),
                fixed,
                primary=decision.primary,
                version=version,
                asked=decision.asked,
                question=reading.question,
            )
            reply = compose(ci, self.kb)
        reply.meta["decision"] = decision.kind
        reply.meta["question"] = reading.question  # read from the masked text: no secret in it
        reply.meta["version"] = version
        # Whether this message itself pastes something Kratos-shaped (bot/engage.py): not what a follow-up carried.
        exact = ("exact-error-id", "exact-ui-id", "exact-reason", "kratos-text")
        reply.meta["evidence"] = not carried and (
            hard_evidence(extraction.artifacts, findings) or any(m.why in exact for m in decision.matches)
        )
        reply.meta["reasons"] = decision.reasons + (f"question read as: {reading.question[:160]!r}",)
        reply = _scrub_reply(reply, extraction)
        digest = _digest(reply)
        if any(t.digest == digest for t in history):
            entry = self.kb.entries.get(decision.matches[0].entry_id) if decision.matches else None
            ask = (entry.ask if entry and entry.ask else "") or ASK_MORE
            carried_meta = {k: reply.meta[k] for k in ("question", "version", "evidence")}
            reply = repeat_reply(reply, ask, reading.question)
            reply.meta.update(carried_meta)
            reply.meta["reasons"] = decision.reasons + ("the thread already has this answer: its gist only",)
        turn = Turn(
            artifacts=tuple(redact(a, extraction.secrets) for a in extraction.artifacts),
            entry_ids=tuple(m.entry_id for m in decision.matches[:5]),
            rules=tuple(f.rule for f in findings),
            prose=scrub(extraction.prose[:500], extraction.secrets),
            digest=digest,
        )
        _clock(timings, "compose", mark)
        reply.meta["timings"] = timings
        return reply, turn

    @staticmethod
    def _is_followup(prose: str, best_topic: float) -> bool:
        words = prose.split()
        if not words:
            return True
        if len(words) > 30 or not _FOLLOWUP.search(prose):
            return False
        # "and what is the default then?": a few words lean on the thread; only a strong match of their own
        # makes them a new question.
        return best_topic < (OWN_TOPIC_SHORT if len(words) <= SHORT_FOLLOWUP_WORDS else OWN_TOPIC_LONG)

    @staticmethod
    def _values(ev: Evidence) -> dict:
        """Values for snippet placeholders, newest first: flow ids and the Kratos base URL."""
        values: dict[str, str] = {}
        errors = ev.of(KratosError) + ev.earlier(KratosError)
        for error in errors:
            target = error.redirect_browser_to or ""
            flow = (parse_qs(urlsplit(target).query).get("flow") or [None])[0]
            if flow:
                values.setdefault("flow_id", flow)
                if "settings" in target:
                    values.setdefault("settings_flow_id", flow)
        for flow_id in ev.of(FlowId) + ev.earlier(FlowId):
            if flow_id.valid:
                values.setdefault("flow_id", flow_id.value)
        curls = ev.of(Curl) + ev.earlier(Curl)
        if curls:
            values["base_url"] = base_url(curls[0])
        return values


ASK_MORE = (
    "What changed since then: paste the new error JSON or `ui.messages`, the request you sent now, or say which "
    "step fails."
)


_SUBSTANCE = ("What it means", "In your paste", "In what you pasted above", "Fix", "Common causes")


def _digest(reply: Reply) -> str:
    """The substance the user reads (headline, meaning, findings, fixes), not the pointers around it: the same
    answer with another "Related" line is still the same answer."""
    parts = [reply.headline]
    parts += [
        f"{s.title}|{'|'.join(s.lines)}|{s.code.code if s.code else ''}"
        for s in reply.sections
        if s.title in _SUBSTANCE
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _clock(timings: dict[str, float], stage: str, since: float) -> float:
    now = time.perf_counter()
    timings[stage] = now - since
    return now


def _scrub_reply(reply: Reply, extraction: Extraction) -> Reply:
    """Last line of defence: no secret value from the input survives in any reply text."""
    if not extraction.secrets:
        return reply
    s = extraction.secrets

    def section(sec):
        code = sec.code and dataclasses.replace(sec.code, code=scrub(sec.code.code, s))
        return dataclasses.replace(
            sec, title=scrub(sec.title, s), lines=tuple(scrub(x, s) for x in sec.lines), code=code
        )

    return dataclasses.replace(
        reply,
        headline=scrub(reply.headline, s),
        warning=scrub(reply.warning, s),
        sections=tuple(section(sec) for sec in reply.sections),
    )
