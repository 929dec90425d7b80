"""Decide what kind of answer a message gets before composing one.

Today this module holds the first decision: is this a Kratos question at all? Billing, review timing,
proposals, Ory Permissions and projects that only share the name (go-kratos, the WordPress theme) are
routed: the reply says what the question is and where its answer lives, in a few lines, instead of a
Kratos template that happens to share words with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.analyze.versionkit import release_key
from bot.extract.version import claims
from bot.kb.loader import KnowledgeBase, Route
from bot.models import Curl, Finding, Flow, IdentitySchema, KratosConfig, KratosError, Link, Reply, Section, UiMessage

# What makes a message a Kratos question whatever its words: something Kratos produced or reads.
HARD_EVIDENCE = (KratosError, UiMessage, Flow, IdentitySchema, KratosConfig)
_KRATOS_REQUEST = re.compile(r"/self-service/|/sessions/|/admin/identities|/identities\b|/schemas\b")


@dataclass(frozen=True)
class Routing:
    route_id: str
    title: str
    lines: tuple[str, ...]
    links: tuple[Link, ...]
    why: str  # what matched, for `kratos-bot ask --explain` and the tests


def _hard_evidence(artifacts, findings: list[Finding]) -> bool:
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
    if _hard_evidence(artifacts, findings):
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
    for url in r.docs:
        page = kb.facts.doc_page(url) or {}
        links.append(Link(url, page.get("title") or url))
    return Routing(route_id=r.id, title=r.title, lines=r.say, links=tuple(links), why=why)


def routed_reply(routing: Routing, notes: tuple[str, ...] = ()) -> Reply:
    sections = [Section("Where to ask", routing.lines)]
    if notes:
        sections.append(Section("Note", notes))
    return Reply(
        headline=routing.title,
        sections=tuple(sections),
        links=routing.links,
        confidence="medium",
        matches=(),
        meta={"route": routing.route_id, "why": routing.why},
    )
