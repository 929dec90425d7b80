"""The triage as an MCP server (Model Context Protocol), for coding assistants: the same answers as in Slack,
as data. stdio for an assistant on the user's machine; streamable HTTP, on loopback unless told otherwise.

Each tool runs the pipeline (`bot.pipeline.Triage`) on one message and keeps nothing: no thread memory, and no
text in the output but what the pipeline returns, with every secret it found masked as in Slack.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from bot.analyze import RULES
from bot.analyze.configkit import siblings
from bot.analyze.versionkit import first_release, published, release_key
from bot.compose import BOLD_CLOSE, BOLD_OPEN, first_sentences
from bot.models import Curl, IdentitySchema, KratosConfig, Reply
from bot.pipeline import Triage
from bot.render import to_github_markdown

_VERSION = r"^v?\d+\.\d+(?:\.\d+)?(?:-[\w.]+)?$"
_ERROR_ID = re.compile(r"[a-z][a-z0-9_]{2,80}")
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
INSTRUCTIONS = (
    "Deterministic triage of Ory Kratos problems (no LLM, offline). Pass what the user pasted verbatim: error "
    "JSON, ui.messages, curl commands, identity schemas, kratos.yml. `confidence` says how sure the answer is: "
    "high means a rule found the cause in the paste; low and an `abstain` decision mean it is a guess. Secrets "
    "in the input are masked in every output."
)


class DocLink(BaseModel):
    url: str
    text: str


class CodeBlock(BaseModel):
    lang: str
    code: str
    note: str = ""


class AnswerSection(BaseModel):
    title: str
    lines: list[str] = Field(description="Markdown paragraphs; list items start with '- ' or '1. '")
    code: CodeBlock | None = None


class FindingData(BaseModel):
    rule: str = Field(description="the analyzer rule (resource kratos://rules lists them)")
    severity: str = Field(description="error | warning | info")
    title: str
    detail: str
    fixes: list[str]
    config_keys: list[str]


class MatchData(BaseModel):
    id: str = Field(description="knowledge entry id")
    kind: str = Field(description="error_id | ui_message | reason | topic")
    why: str = Field(description="what matched: exact-error-id, exact-ui-id, kratos-text, finding:<rule>, topic, …")
    score: int
    title: str


class Answer(BaseModel):
    decision: str = Field(description="answer | route (not a Kratos question) | abstain (no answer it trusts)")
    confidence: str = Field(description="high | medium | low | none")
    headline: str
    warning: str = Field("", description="first thing to tell the user: a live secret was pasted (masked here)")
    sections: list[AnswerSection]
    findings: list[FindingData] = Field(description="what the rules found in the paste itself")
    corrected: list[CodeBlock] = Field(description="the pasted schema, request or config with every fix applied")
    matches: list[MatchData]
    links: list[DocLink]
    version: str = Field("", description="the Kratos release the text shows the user runs")
    reasons: list[str] = Field(description="why this decision")
    markdown: str = Field(description="the whole answer as GitHub-flavoured Markdown, as a person reads it")


class PasteCheck(Answer):
    recognized: bool = Field(description="the input was read as this kind of artifact")
    ok: bool = Field(description="recognized, and no rule found an error or warning in it")


class ErrorExplanation(Answer):
    error_id: str | None = Field(description="the Kratos error id explained, if one was named or matched")
    known: bool = Field(description="the error id exists in Kratos")
    statuses: list[int] = Field(description="HTTP statuses Kratos answers this error id with")


class UiMessageExplanation(Answer):
    id: int
    known: bool = Field(description="the id is a Kratos UI message id")
    name: str = Field("", description="Kratos' Go name of the message")
    type: str | None = Field(None, description="info | error | success")
    text: str | None = Field(None, description="the message text as Kratos renders it ({placeholders} filled in)")


class ConfigKey(BaseModel):
    path: str = Field(description="the key as asked")
    exists: bool = Field(description="the current Kratos config schema has it")
    key: str | None = Field(None, description="its row in the schema (array items as [], map keys as <name>)")
    type: str | None = None
    default: Any = None
    enum: list[Any] | None = Field(None, description="the values it allows, when the schema lists them")
    env_var: str | None = Field(None, description="the environment variable that sets it")
    first_release: str | None = Field(None, description="first release that has it; null: every release does")
    last_release: str | None = Field(None, description="a removed key: the last release that has it")
    unreleased: bool = Field(False, description="only on Kratos' main branch, in no release yet")
    renamed_to: str | None = Field(None, description="a renamed key: its new path")
    note: str = ""
    did_you_mean: list[str] = Field(default_factory=list)
    in_version: bool | None = Field(None, description="the release asked about has this key")
    docs: list[DocLink] = Field(default_factory=list)


class TopicHit(BaseModel):
    id: str
    title: str
    gist: str
    docs: list[DocLink]


class DocSearch(BaseModel):
    query: str
    sections: list[DocLink] = Field(description="the closest sections of the Ory docs, one per page")
    topics: list[TopicHit] = Field(description="knowledge entries that answer it")


class KratosTools:
    """The tools as plain methods over one Triage: the server registers them, tests may call them directly."""

    def __init__(self, triage: Triage):
        self.pipeline = triage
        self.kb = triage.kb

    def _answer(self, text: str, version: str | None = None) -> tuple[Reply, tuple, dict]:
        if version:
            # The form of a GitHub issue template: the version extractor takes it, the question reading skips it.
            text = f"{text}\n\n### Version\n\n{version}\n"
        reply, turn = self.pipeline.triage(text)
        return reply, (turn.artifacts if turn else ()), _answer_fields(reply, self.kb)

    def triage(
        self,
        text: Annotated[str, Field(description="the user's message: question and pastes, verbatim")],
        version: Annotated[
            str | None,
            Field(description="the Kratos release the user runs, if the text does not say", pattern=_VERSION),
        ] = None,
    ) -> Answer:
        """Triage a Kratos problem: the decision, findings, corrected artifacts and doc links, as in Slack."""
        return Answer(**self._answer(text, version)[2])

    def explain_error(
        self, id_or_text: Annotated[str, Field(description="an error id (session_aal1_required) or an error text")]
    ) -> ErrorExplanation:
        """What a Kratos error id or error text means, its causes and the fix."""
        given = id_or_text.strip()
        bare = _ERROR_ID.fullmatch(given) is not None
        _, _, fields = self._answer(json.dumps({"error": {"id": given}}) if bare else given)
        matched = (self.kb.entries[m.id].error_id for m in fields["matches"] if m.kind == "error_id")
        error_id = given if bare else next(matched, None)
        row = self.kb.facts.error_ids.get(error_id or "")
        return ErrorExplanation(
            **fields, error_id=error_id, known=row is not None, statuses=(row or {}).get("statuses") or []
        )

    def explain_ui_message(
        self, id: Annotated[int, Field(description="a ui.messages id, e.g. 4000006", ge=1000000, le=9999999)]
    ) -> UiMessageExplanation:
        """What a Kratos UI message id means (the `id` of an entry in `ui.messages`), why it shows and the fix."""
        _, _, fields = self._answer(json.dumps({"ui": {"messages": [{"id": id}]}}))
        row = self.kb.facts.ui_messages.get(id)
        if row is None:
            return UiMessageExplanation(**fields, id=id, known=False)
        return UiMessageExplanation(
            **fields, id=id, known=True, name=row.get("name") or "", type=row.get("type"), text=row.get("text")
        )

    def check_config(
        self,
        yaml: Annotated[str, Field(description="a kratos.yml (or a part of it), Helm values or KRATOS_ env vars")],
        version: Annotated[str | None, Field(description="the Kratos release it is for", pattern=_VERSION)] = None,
    ) -> PasteCheck:
        """Check a Kratos config: unknown, renamed or removed keys, wrong values, keys newer than the release."""
        return self._check(f"```yaml\n{yaml}\n```", KratosConfig, version)

    def check_identity_schema(self, json: Annotated[str, Field(description="an identity schema (JSON)")]) -> PasteCheck:
        """Check an identity schema: identifiers, the ory.sh/kratos extension, verification and recovery."""
        return self._check(f"```json\n{json}\n```", IdentitySchema)

    def check_request(
        self,
        curl_or_http: Annotated[str, Field(description="a curl command, a raw HTTP request, or fetch/axios code")],
    ) -> PasteCheck:
        """Check a request to Kratos: endpoint, method, headers, cookies, flow id and body."""
        return self._check(curl_or_http, Curl)

    def _check(self, text: str, kind: type, version: str | None = None) -> PasteCheck:
        reply, artifacts, fields = self._answer(text, version)
        recognized = any(isinstance(a, kind) for a in artifacts)
        ok = recognized and not any(f.severity in ("error", "warning") for f in reply.findings)
        return PasteCheck(**fields, recognized=recognized, ok=ok)

    def lookup_config_key(
        self,
        path: Annotated[
            str, Field(description="a config key path, e.g. selfservice.methods.code.passwordless_enabled")
        ],
        version: Annotated[str | None, Field(description="a release to check it against", pattern=_VERSION)] = None,
    ) -> ConfigKey:
        """A Kratos config key: type, default, allowed values, env var, and the first release that has it."""
        facts = self.kb.facts
        path = path.strip().strip("`").removeprefix("kratos.config.")
        versions = facts.versions or {}
        row = facts.config_key(path)
        if row is None:
            return self._missing_key(path, version)
        key = row["key"]
        since = first_release(self.kb, "config_key", key)
        unreleased = key in (versions.get("unreleased", {}).get("config_key") or ())
        in_version = None
        if version:
            in_version = not unreleased and (since is None or release_key(_v(version)) >= release_key(since))
        return ConfigKey(
            path=path,
            exists=True,
            key=key,
            type=row.get("type"),
            default=row.get("default"),
            enum=row.get("enum") or row.get("allowed_values"),
            env_var=row.get("env_var"),
            first_release=since,
            unreleased=unreleased,
            in_version=in_version,
            docs=self._key_docs(key),
        )

    def _missing_key(self, path: str, version: str | None) -> ConfigKey:
        """A key the current schema lacks: removed or renamed (the schema's history), or a typo."""
        versions = self.kb.facts.versions or {}
        last = versions.get("removed_after", {}).get("config_key", {}).get(path)
        since = versions.get("first_release", {}).get("config_key", {}).get(path)
        first = published(since, versions.get("tags", [])) if since else None
        renamed, note = None, ""
        for old, row in self.kb.config_renames.items():
            if path == old or path.startswith(old + "."):
                renamed = (row["new"] + path[len(old) :]) if row.get("new") else None
                note = row.get("note") or ""
                last = last or row.get("last_release_with_old")
                break
        parent, _, name = path.rpartition(".")
        close = [f"{parent}.{c}" if parent else c for c in sorted(siblings(self.kb.facts, parent)) if _close(name, c)]
        in_version = None
        if version and last:
            asked = release_key(_v(version))
            in_version = asked <= release_key(last) and (first is None or asked >= release_key(first))
        return ConfigKey(
            path=path,
            exists=False,
            first_release=first,
            last_release=last,
            renamed_to=renamed,
            note=note,
            did_you_mean=close[:3],
            in_version=in_version,
        )

    def _key_docs(self, key: str) -> list[DocLink]:
        urls = [url for e in self.kb.entries.values() if key in e.config_keys for url in e.docs[:1]]
        return [DocLink(url=u, text=self.kb.facts.doc_label(u)) for u in list(dict.fromkeys(urls))[:3]]

    def search_docs(
        self,
        query: Annotated[str, Field(description="what to look up, in words")],
        limit: Annotated[int, Field(ge=1, le=10)] = 5,
    ) -> DocSearch:
        """Search the Ory Kratos docs and the knowledge base: the closest doc sections and topics."""
        retriever = self.pipeline.retriever
        sections = [DocLink(url=url, text=label) for url, label in retriever.doc_sections(query, limit)]
        topics = []
        for hit in retriever.topics_for(query, limit):
            entry = self.kb.entries[hit.entry_id]
            docs = [DocLink(url=u, text=self.kb.facts.doc_label(u)) for u in entry.docs[:2]]
            topics.append(TopicHit(id=entry.id, title=entry.title, gist=first_sentences(entry.summary, 2), docs=docs))
        return DocSearch(query=query, sections=sections, topics=topics)

    def rules(self) -> list[dict]:
        """Every analyzer rule: its id, one line on what it finds, and its manual."""
        return [{"id": r.id, "summary": _rule_line(r.doc), "doc": r.doc} for r in RULES.values()]

    def stats(self) -> dict:
        """What the knowledge holds: entries by kind, and the Kratos facts it is checked against."""
        facts = self.kb.facts
        return {
            "entries": len(self.kb.entries),
            "entries_by_kind": self.kb.counts(),
            "rules": len(RULES),
            "kratos_commit": facts.commit,
            "facts": {
                "ui_messages": len(facts.ui_messages),
                "error_ids": len(facts.error_ids),
                "reasons": len(facts.reasons),
                "config_keys": len(facts.config_keys),
                "endpoints": len(facts.endpoints),
                "doc_pages": len(facts.docs),
                "release_tags": len((facts.versions or {}).get("tags", [])),
            },
        }


def _v(version: str) -> str:
    return version if version.startswith("v") else "v" + version


def _close(asked: str, candidate: str) -> bool:
    return fuzz.ratio(asked, candidate) >= 70


def _rule_line(doc: str) -> str:
    return doc.splitlines()[0].split(":", 1)[-1].strip() if doc else ""


def _lines(lines) -> list[str]:
    return [line.replace(BOLD_OPEN, "**").replace(BOLD_CLOSE, "**") for line in lines]


def _answer_fields(reply: Reply, kb) -> dict:
    sections = [
        AnswerSection(
            title=s.title,
            lines=_lines(s.lines),
            code=CodeBlock(lang=s.code.lang, code=s.code.code, note=s.code.note) if s.code else None,
        )
        for s in reply.sections
    ]
    return {
        "decision": reply.meta.get("decision") or "none",
        "confidence": reply.confidence,
        "headline": reply.headline,
        "warning": reply.warning,
        "sections": sections,
        "findings": [
            FindingData(
                rule=f.rule,
                severity=f.severity,
                title=f.title,
                detail=f.detail,
                fixes=list(f.fixes),
                config_keys=list(f.config_keys),
            )
            for f in reply.findings
        ],
        "corrected": [s.code for s in sections if s.code is not None and s.title.startswith("Corrected ")],
        "matches": [
            MatchData(id=m.entry_id, kind=m.kind, why=m.why, score=round(m.score), title=kb.entries[m.entry_id].title)
            for m in reply.matches
            if m.entry_id in kb.entries
        ],
        "links": [DocLink(url=link.url, text=link.text) for link in reply.links],
        "version": reply.meta.get("version") or "",
        "reasons": list(reply.meta.get("reasons") or ()),
        "markdown": to_github_markdown(reply),
    }


def build_server(triage: Triage) -> MCPServer:
    tools = KratosTools(triage)
    server = MCPServer("kratos-support-bot", instructions=INSTRUCTIONS, log_level="WARNING")
    for method in (
        tools.triage,
        tools.explain_error,
        tools.explain_ui_message,
        tools.check_config,
        tools.check_identity_schema,
        tools.check_request,
        tools.lookup_config_key,
        tools.search_docs,
    ):
        server.tool(annotations=READ_ONLY, structured_output=True)(method)
    server.resource("kratos://rules", name="rules", mime_type="application/json")(tools.rules)
    server.resource("kratos://knowledge/stats", name="knowledge-stats", mime_type="application/json")(tools.stats)
    return server


def serve(triage: Triage, transport: str = "stdio", host: str = "127.0.0.1", port: int = 8000) -> None:
    server = build_server(triage)
    if transport == "http":
        server.run("streamable-http", host=host, port=port)
    else:
        server.run("stdio")
