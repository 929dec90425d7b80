"""Follow-ups build on the thread: they are answered against its topic, and never get the same reply twice."""

from __future__ import annotations

from bot.context import Turn, turn_from_json, turn_to_json
from bot.render import to_mrkdwn


def test_same_question_twice_gets_a_short_reminder_not_the_same_reply(triage):
    question = "how do I make email verification optional so users can log in before verifying?"
    first = to_mrkdwn(triage.answer(question, thread="t-repeat"))
    second_reply = triage.answer(question, thread="t-repeat")
    second = to_mrkdwn(second_reply)
    assert second != first
    assert second_reply.meta.get("decision") == "repeat"
    assert second.startswith("*As above:") and len(second) < len(first)
    assert not second_reply.links  # the first reply in the thread has them


def test_followup_without_own_match_answers_from_the_thread_topic(triage):
    first = triage.answer("how long does a session last and how do I change the session lifespan?", thread="t-topic")
    reply = triage.answer("where exactly does that go then?", thread="t-topic")
    assert reply.meta.get("decision") in ("answer", "repeat"), reply.meta.get("reasons")
    assert any("thread's topic" in r for r in reply.meta["reasons"])
    assert first.headline in reply.headline


def test_digest_survives_the_stores():
    turn = Turn(artifacts=(), entry_ids=("topic.x",), rules=(), prose="p", digest="abc123")
    assert turn_from_json(turn_to_json(turn)).digest == "abc123"
    assert turn_from_json('{"artifacts": [], "entry_ids": []}').digest == ""  # written before digests existed


def test_context_given_after_the_question_is_a_followup(triage):
    # The second message only says where Kratos runs: it narrows the first question, it is not a new one.
    triage.answer("how long does a session last and how do I change the session lifespan?", thread="t-context")
    reply = triage.answer("I have a local instance, v1.3.1.", thread="t-context")
    assert any("thread's topic" in r for r in reply.meta["reasons"]), reply.meta["reasons"]
    assert "lifespan" in to_mrkdwn(reply)


def test_short_followup_gets_the_sentences_that_answer_it(triage):
    # "default" also names other topics; a short follow-up leans on the thread, and gets the line about it.
    first = triage.answer("how long does a session last and how do I change the session lifespan?", thread="t-gist")
    reply = triage.answer("and what is the default value then?", thread="t-gist")
    body = to_mrkdwn(reply)
    assert reply.meta.get("decision") == "repeat", reply.meta.get("reasons")
    assert "24h" in body and len(body) < len(to_mrkdwn(first))
