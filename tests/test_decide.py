"""Routing (bot/decide.py, knowledge/routes.yaml): what is not a Kratos question gets a short pointer to
where its answer lives; a Kratos question with the same words does not."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from bot.kb.loader import KnowledgeError, load_knowledge
from bot.render import to_mrkdwn

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

ROUTED = [
    ("does a user who never logs in count toward our monthly bill? how does billing work", "route.billing"),
    ("hey, can someone review https://github.com/ory/kratos/pull/1234 ? waiting to be merged", "route.maintainers"),
    ("when will passkey autofill be released?", "route.maintainers"),
    ("I propose a pull request that makes the helm chart's container command configurable", "route.proposal"),
    ("how do I write a permission rule in OPL that checks a relation tuple?", "route.permissions"),
    ("运行 kratos new myservice 失败, 无法下载 kratos-layout", "route.go-kratos"),
    ("my wordpress site with the kratos theme stopped sending comment mails", "route.wordpress-kratos"),
    ("our kratos v0.19.2 node does not sync blocks", "route.unknown-release"),
]

NOT_ROUTED = [
    # Kratos questions that share words with a route
    "**Is your feature request related to a problem? Please describe.** I propose that kratos lets me log in "
    "with the username or the email. Is there a way with the helm chart?",
    "how much does a session cost in database rows? sessions table grows",
    '{"error":{"id":"session_aal1_required","code":401}} happens when I merge my PR branch and run it',
    "we run kratos v1.3.1 and the login flow returns 410",
]


@pytest.mark.parametrize(("text", "route_id"), ROUTED, ids=[r for _, r in ROUTED])
def test_routed(triage, text, route_id):
    reply = triage.answer(text)
    assert reply.meta.get("route") == route_id, reply.meta
    rendered = to_mrkdwn(reply)
    visible = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", rendered)  # a link shows its label, not its URL
    assert len(visible) < 800, "a routed reply is short"
    assert "selfservice." not in rendered and "kratos.yml" not in rendered


@pytest.mark.parametrize("text", NOT_ROUTED)
def test_kratos_questions_are_not_routed(triage, text):
    assert "route" not in triage.answer(text).meta


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE / "facts", target / "facts")
    return target


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("routes:\n- {id: r, title: t, when: ['(unclosed'], say: [s], verified_by: [v]}\n", "does not compile"),
        ("routes:\n- {id: r, title: t, when: [a], say: [s], verified_by: [v], colour: red}\n", "only the keys"),
        ("routes:\n- {id: r, title: t, when: [a], say: [s]}\n", "missing verified_by"),
        (
            "routes:\n- {id: r, title: t, when: [a], say: [s], verified_by: [v],"
            " links: [{url: 'http://x', text: x}]}\n",
            "https",
        ),
        (
            "routes:\n- {id: r, title: t, when: [a], say: [s], verified_by: [v], docs: ['https://www.ory.com/docs/nope']}\n",
            "docs index",
        ),
    ],
)
def test_invalid_routes_are_rejected(kb_copy, body, message):
    (kb_copy / "routes.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(kb_copy)
    assert message in str(info.value)


# --- abstention and calibration --------------------------------------------------------------------

HOWTO_UNKNOWN = [
    "how do I rotate the colour of the login button per tenant in the kratos admin UI?",
    "is it possible to run kratos on a raspberry pi cluster with zero downtime deploys?",
]


@pytest.mark.parametrize("text", HOWTO_UNKNOWN)
def test_howto_without_answer_abstains_briefly_and_never_asks_for_error_json(triage, text):
    reply = triage.answer(text)
    rendered = to_mrkdwn(reply)
    assert reply.meta.get("decision") == "abstain", reply.meta.get("reasons")
    assert rendered.startswith("*Not sure")
    assert "error JSON" not in rendered
    visible = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", rendered)  # a link shows its label, not its URL
    assert len(visible) < 800


def test_unknown_error_report_asks_for_the_error(triage):
    reply = triage.answer("it does not work, please help")
    assert reply.meta.get("decision") == "abstain"
    assert "error JSON" in to_mrkdwn(reply)


def test_no_guess_without_a_kratos_word(triage):
    reply = triage.answer("which shared_buffers value suits a write heavy postgres?")
    assert reply.meta.get("decision") == "abstain" and not reply.matches


def test_explain_reasons(triage):
    reply = triage.answer('{"error":{"id":"session_inactive","code":401}}')
    assert reply.meta["decision"] == "answer"
    assert any("exact-error-id error.session_inactive" in r for r in reply.meta["reasons"])


def test_calibration_high_passes_on_our_cases(kb):
    """What the bot calls "high" on tests/cases passes: high means the paste shows the cause."""
    from bot.evaluate import evaluate_file
    from bot.pipeline import Triage

    cases = sorted((Path(__file__).parent / "cases").glob("*.yaml"))
    high = [r for path in cases for r in evaluate_file(path, Triage(kb)) if r.confidence == "high"]
    assert high, "some replies are high"
    assert all(r.ok for r in high), [(r.case, r.missing) for r in high if not r.ok]


def test_question_topic_leads_over_findings_beside_it(triage):
    """Asked about the password policy, with a config that also has an outdated key: the answer to the question
    comes first, the outdated key is still reported."""
    text = (
        "our users hate the password length requirement, we want 6 characters minimum instead\n```yaml\n"
        "selfservice:\n  whitelisted_return_urls:\n    - https://app.example.com\n  methods:\n    password:\n"
        "      enabled: true\n```"
    )
    reply = triage.answer(text)
    assert reply.headline.lower().startswith("password policy")
    body = to_mrkdwn(reply)
    assert "min_password_length" in body
    assert "allowed_return_urls" in body  # the finding about the old key is still there
    # The old key is real, but it is not why the user asked: the answer is not "high".
    assert reply.confidence == "medium"


def test_plain_words_many_topics_use_lift_little(kb):
    """Keywords: a name is specific, "code" or "recovery" is in dozens of topics and must not carry one of them."""
    from bot.match import KEYWORD_BOOST, Index

    index = Index.build(kb)
    assert index.keyword_boost.get("code", KEYWORD_BOOST) == 0
    assert index.keyword_boost.get("recovery", KEYWORD_BOOST) < KEYWORD_BOOST
    assert "passwordless_enabled" not in index.keyword_boost  # a config name: always the full boost
    assert index.keyword_boost.get("callback") == KEYWORD_BOOST  # a plain word few topics use still names them


def test_findings_lead_and_the_asked_topic_follows(triage):
    """Kratos refused the config (the finding explains that), and the user asked how to do the thing in their
    release: the reply gives both."""
    text = (
        "We are on kratos v0.11.1 and want a webhook that can stop the registration when our invite check fails. "
        "Kratos does not start:\n```\nThe configuration contains values or keys which are invalid:\n"
        "selfservice.flows.registration.after.password.hooks.0.config: map[method:POST response:map[parse:true] "
        "url:http://invites:8080/check]\n" + " " * 63 + '^-- additionalProperties "response" not allowed\n'
        "```\nHow do I block the registration from the webhook in this version?"
    )
    reply = triage.answer(text)
    body = to_mrkdwn(reply)
    assert "v0.13.0" in reply.headline  # the finding: response.parse needs a newer release
    assert "About your question" in body and "can_interrupt" in body
    assert "^--" not in next(r for r in reply.meta["reasons"] if r.startswith("question read as"))


def test_node_labels_in_a_paste_are_not_the_subject(triage):
    # A cut-off flow paste: only labels (107xxxx) carry ids. They name form fields, not a problem.
    text = (
        'step 2 response:\n"nodes": [ {"meta": {"label": {"id": 1070004, "text": "ID", "type": "info"}}}, '
        '{"meta": {"label": {"id": 1070013, "text": "Login code", "type": "info"}}} ... what is wrong?'
    )
    reply = triage.answer(text)
    assert not reply.headline.startswith("UI message 107"), reply.headline


def test_integration_with_another_ory_product_is_answered(triage):
    # Oathkeeper in front of Kratos is a Kratos question when we have an entry about exactly that.
    reply = triage.answer(
        "could oathkeeper hand out JWTs so our services stop hitting the database for every session check?"
    )
    assert reply.meta["decision"] == "answer", reply.meta["reasons"]
    assert not any("another Ory product" in r for r in reply.meta["reasons"])
    # Still declined: a question about the other product alone.
    other = triage.answer("how do I write an oathkeeper access rule for a regex url match?")
    assert other.meta["decision"] == "abstain"


def test_pasted_error_leads_and_the_asked_topic_follows(triage):
    """The pasted error says what happened; the question asks about something next to it."""
    text = (
        'after logging in whoami gives me {"error":{"id":"session_aal2_required","code":403,"status":"Forbidden"}} '
        "but the user lost their phone with the authenticator app. how can an admin remove the TOTP so they can "
        "log in again?"
    )
    reply = triage.answer(text)
    assert reply.headline.startswith("`session_aal2_required`")
    body = to_mrkdwn(reply)
    assert "About your question" in body and "/credentials/totp" in body
    assert "{" not in next(r for r in reply.meta["reasons"] if r.startswith("question read as"))


def test_long_report_with_one_clear_topic_is_answered(triage):
    """A bug report covers little of any entry's words; when one entry is far ahead of the rest it answers."""
    text = (
        "### Describe the bug\n\nWe want users to verify their phone number in the verification flow, but the form "
        "only has an email field. Typing the phone number into it does nothing. After registration the SMS with the "
        "code does arrive, so the courier works, but there is no way to start a verification for the phone later. "
        "Is there a plan for this, or a setting we missed?"
    )
    reply = triage.answer(text)
    assert reply.meta["decision"] == "answer", reply.meta["reasons"]
    assert "phone" in reply.headline.lower()
