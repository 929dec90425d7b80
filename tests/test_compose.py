"""What a composed reply leaves out: nothing it says is said twice, and the hedges appear only when in doubt."""

from __future__ import annotations

import re

from bot.compose import ComposeInput, compose
from bot.models import Finding, Match
from bot.render import to_mrkdwn

RELEASE = re.compile(r"\bv\d+\.\d+(?:\.\d+)?\b")


def _answer(kb, *matches: tuple[str, float], findings=(), version="") -> object:
    ci = ComposeInput([Match(e, s, "fuzzy-topic") for e, s in matches], list(findings), "medium", version=version)
    return compose(ci, kb)


def test_a_release_the_reply_already_names_is_not_repeated_under_versions(kb):
    shown = 0
    for entry in kb.entries.values():
        if entry.kind != "topic" or not entry.history:
            continue
        reply = _answer(kb, (entry.id, 90))
        versions = next((s for s in reply.sections if s.title == "Versions"), None)
        if versions is None:
            continue
        shown += 1
        rest = " ".join([reply.headline, *(line for s in reply.sections if s is not versions for line in s.lines)])
        for line in versions.lines:
            releases = RELEASE.findall(line)
            assert not releases or not all(r in rest for r in releases), (entry.id, line)
    assert shown > 20  # history the reply does not otherwise mention is still given


def test_one_docs_page_per_entry_labelled_by_its_heading(kb):
    entry = next(
        e for e in kb.entries.values() if e.kind == "topic" and len(e.docs) >= 2 and "#" in e.docs[0] and not e.related
    )
    reply = _answer(kb, (entry.id, 95))
    assert [link.url for link in reply.links] == [entry.docs[0]]
    page = kb.facts.doc_page(entry.docs[0])
    heading = page["headings"][entry.docs[0].split("#", 1)[1]]
    assert reply.links[0].text == kb.facts.doc_label(entry.docs[0])
    assert reply.links[0].text.rstrip("…") in heading and page["title"] not in reply.links[0].text


def test_doc_label_is_cut_at_a_word(kb):
    url = next(u for u, p in kb.facts.docs.items() if len(p.get("title") or "") > 60)
    label = kb.facts.doc_label(url)
    assert len(label) <= 50 and label.endswith("…") and kb.facts.docs[url]["title"].startswith(label[:-1])


def test_findings_that_share_an_explanation_give_it_once(kb):
    why = "Kratos validates its config against the schema of its own release."
    findings = [
        Finding("config-keys", "`a.b` is newer than your release", why),
        Finding("config-keys", "`c.d` is newer than your release", why),
    ]
    body = to_mrkdwn(_answer(kb, findings=findings))
    assert body.count(why) == 1 and "`c.d` is newer" in body
    # No entry leads, so the headline is the first finding: its title is not printed again below it.
    assert body.count("`a.b` is newer than your release") == 1


def test_the_entrys_question_is_asked_only_when_the_match_is_in_doubt(kb):
    entries = [e for e in kb.entries.values() if e.kind == "topic" and e.ask]
    first, second = entries[0].id, entries[1].id
    titles = lambda reply: [s.title for s in reply.sections]  # noqa: E731
    assert "If that is not it" not in titles(_answer(kb, (first, 95)))
    assert "If that is not it" not in titles(_answer(kb, (first, 95), (second, 60)))
    assert "If that is not it" in titles(_answer(kb, (first, 95), (second, 90)))  # a close second
    assert "If that is not it" in titles(_answer(kb, (first, 78)))  # a weak match


def test_a_finding_that_explains_the_error_away_drops_the_errors_usual_advice(kb):
    entry = kb.entries["error.security_csrf_violation"]
    found = Finding(
        "url-backslash", "A backslash got into the URL", "why", fixes=("Quote the URL once.",), entries=(entry.id,)
    )

    def fixes(finding):
        reply = _answer(kb, (entry.id, 94), findings=[finding])
        return next(s for s in reply.sections if s.title == "Fix").lines

    assert any(entry.fixes[0][:30] in line for line in fixes(found))  # a finding beside the error: its top advice
    import dataclasses

    assert fixes(dataclasses.replace(found, overrides_advice=True)) == ("1. Quote the URL once.",)
