"""GitHub issue triage: an issue's title and body in, a Markdown comment and label suggestions out.

A new issue nobody addressed to the bot is like a top-level message in a help channel in mode `all`
(bot/engage.py decides): it gets a comment only when the triage has an answer. An abstention, a question
routed elsewhere and a feature request get none; a feature request is the maintainers' call, not a support
case. The labels are suggestions printed with the comment; nothing here talks to GitHub.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from bot.analyze.versionkit import release_key
from bot.engage import CHANNEL, after_triage
from bot.kb.loader import UNRELEASED, KnowledgeBase
from bot.models import Reply
from bot.pipeline import Triage
from bot.render import to_github_markdown

NO_COMMENT = 3  # exit status of `kratos-bot github` when there is nothing to post (0: a comment was printed)
MARKER = "<!-- kratos-support-bot -->"  # lets a workflow or a maintainer find the bot's comments
FOOTER = "_An automatic first triage of the issue text by kratos-support-bot (no LLM); it can be wrong._"

# Ory's issue templates label a feature request `feat`; other projects say `enhancement`.
_FEATURE_LABELS = frozenset({"feat", "feature", "enhancement", "feature request", "feature-request", "rfc"})
_FEATURE_TITLE = re.compile(r"(?i)^\s*(?:\[?feat(?:ure)?(?: request)?\]?\s*[:\]-]|feature request\b)")
# The feature-request template's own question; a bug report has no "solution you'd like".
_FEATURE_SECTION = re.compile(
    r"(?im)^\s*#{1,6}\s*(?:describe your ideal solution|describe the solution you.d like)\s*$"
)

# Areas by what the answer is about: a rule family, or an endpoint or config key the answer names.
_RULE_AREAS = (
    ("schema-", "area/identity-schema"),
    ("config-", "area/config"),
    ("startup-validation", "area/config"),
    ("helm-", "area/deployment"),
    ("oidc-", "area/social-sign-in"),
    ("webhook-", "area/hooks"),
)
_NAME_AREAS = (
    (re.compile(r"/self-service/(login|registration|settings|recovery|verification)\b"), None),
    (re.compile(r"^selfservice\.flows\.(login|registration|settings|recovery|verification)\b"), None),
    (re.compile(r"^selfservice\.methods\.oidc\b|/self-service/methods/oidc\b"), "area/social-sign-in"),
    (re.compile(r"^selfservice\.methods\.(?:totp|webauthn|lookup_secret|passkey)\b"), "area/mfa"),
    (re.compile(r"^courier\b|/courier/"), "area/courier"),
    (re.compile(r"^session\b|/sessions\b|/self-service/logout\b"), "area/sessions"),
    (re.compile(r"^identity\b|/schemas\b"), "area/identity-schema"),
    (re.compile(r"/identities\b"), "area/identities"),
    (re.compile(r"^(?:serve|dsn|secrets|cookies|log|tracing)\b"), "area/deployment"),
)
MAX_AREAS = 2


@dataclass(frozen=True)
class Issue:
    title: str
    body: str
    labels: tuple[str, ...] = ()
    number: int | None = None

    @property
    def text(self) -> str:
        return f"{self.title}\n\n{self.body}".strip()


@dataclass(frozen=True)
class IssueTriage:
    comment: str | None  # None: nothing to post
    labels: tuple[str, ...]
    decision: str
    confidence: str
    why: str

    def as_dict(self) -> dict:
        return {"post": self.comment is not None, **asdict(self), "labels": list(self.labels)}


def read_issue(raw: str) -> Issue:
    """An issue from the JSON of a GitHub `issues` event, an issue object (`gh issue view --json title,body`),
    or plain text whose first line is the title."""
    doc = None
    if raw.lstrip().startswith("{"):
        try:
            doc = json.loads(raw)
        except ValueError:
            doc = None
    if isinstance(doc, dict):
        issue = doc.get("issue") if isinstance(doc.get("issue"), dict) else doc
        if "title" in issue or "body" in issue:
            labels = tuple(
                (label.get("name", "") if isinstance(label, dict) else str(label))
                for label in issue.get("labels") or ()
            )
            number = issue.get("number")
            return Issue(
                str(issue.get("title") or ""),
                str(issue.get("body") or ""),
                labels,
                number if isinstance(number, int) else None,
            )
    title, _, body = raw.strip().partition("\n")
    return Issue(title.lstrip("# ").strip(), body.strip())


def is_feature_request(issue: Issue) -> bool:
    return (
        any(label.lower() in _FEATURE_LABELS for label in issue.labels)
        or bool(_FEATURE_TITLE.match(issue.title))
        or bool(_FEATURE_SECTION.search(issue.body))
    )


def triage_issue(triage: Triage, issue: Issue) -> IssueTriage:
    if is_feature_request(issue):  # decided from the issue alone: no triage needed
        return IssueTriage(None, (), "feature-request", "none", "a feature request: the maintainers' call")
    reply, _ = triage.triage(issue.text)
    decision = reply.meta.get("decision", "")
    verdict = after_triage(reply, CHANNEL, "all", text=issue.text)
    why = f"{verdict.why} (decision {decision or 'none'}, confidence {reply.confidence})"
    if verdict.act != "answer":
        return IssueTriage(None, (), decision, reply.confidence, why)
    labels = suggest_labels(reply, triage.kb)
    return IssueTriage(comment(reply, labels), labels, decision, reply.confidence, why)


def comment(reply: Reply, labels: tuple[str, ...]) -> str:
    parts = [MARKER, to_github_markdown(reply), "---"]
    if labels:
        parts.append("Suggested labels: " + ", ".join(f"`{label}`" for label in labels))
    parts.append(FOOTER)
    return "\n\n".join(parts)


def suggest_labels(reply: Reply, kb: KnowledgeBase) -> tuple[str, ...]:
    """Area labels, then what a maintainer does next: `version too old`, `usage question` (the docs or the
    user's own paste explain it) or `needs more info`."""
    if reply.meta.get("decision") != "answer":
        return ()  # an abstention's guess is no ground for a label
    labels = _areas(reply, kb)
    primary = kb.entries.get(reply.matches[0].entry_id) if reply.matches else None
    too_old = any(f.rule == "version-support" for f in reply.findings) or _predates(primary, reply.meta.get("version"))
    usage = not too_old and (
        reply.confidence == "high" or (reply.confidence == "medium" and primary is not None and primary.kind == "topic")
    )
    if too_old:
        labels.append("version too old")
    if usage:
        labels.append("usage question")
    if reply.confidence == "low" or not (usage or reply.meta.get("evidence") or reply.meta.get("version")):
        labels.append("needs more info")
    return tuple(labels)


def _predates(entry, version: str | None) -> bool:
    """The user's release lacks a change the entry's history names (a fix or the feature itself)."""
    if entry is None or not version:
        return False
    return any(
        change.kind != "removed" and change.version != UNRELEASED and release_key(version) < release_key(change.version)
        for change in entry.history
    )


def _areas(reply: Reply, kb: KnowledgeBase) -> list[str]:
    out: list[str] = []
    for finding in reply.findings:
        out += [label for prefix, label in _RULE_AREAS if finding.rule.startswith(prefix)]
    names = [key for f in reply.findings for key in f.config_keys]
    for match in reply.matches[:1]:
        entry = kb.entries.get(match.entry_id)
        if entry is not None:
            names += list(entry.endpoints) + list(entry.config_keys)
    for name in names:
        path = name.split(" ", 1)[-1]  # "POST /self-service/login" -> the path
        for pattern, label in _NAME_AREAS:
            m = pattern.search(path)
            if m:
                out.append(label or f"area/{m.group(1)}")
                break
    return list(dict.fromkeys(out))[:MAX_AREAS]
