"""When the bot speaks (bot/engage.py): thanks and remarks get no reply; a help channel gets answers only
with evidence or confidence."""

from __future__ import annotations

import pytest

from bot.engage import ADDRESSED, CHANNEL, FOLLOWUP, after_triage, asks, before_triage, is_thanks


@pytest.mark.parametrize(
    "text",
    [
        "thanks!",
        "Thank you so much, that fixed it 🙏",
        "ok",
        "got it",
        "that did it",
        "perfect, works now",
        ":+1:",
        "cheers <@U123>",
    ],
)
def test_thanks_and_acknowledgements(text):
    assert is_thanks(text) and before_triage(text, FOLLOWUP).act == "react"


@pytest.mark.parametrize(
    "text",
    [
        "thanks, but now I get a 403 on settings",
        "thanks! how do I enable recovery?",
        "ok but it still fails",
        "thank you, one more thing: where is the session lifespan set?",
        "thanks! and where do I set the lifespan",
    ],
)
def test_thanks_with_a_new_problem_is_a_question(text):
    assert not is_thanks(text) and before_triage(text, FOLLOWUP).act == "answer"


def test_a_remark_to_a_colleague_is_left_alone_unless_the_bot_is_asked():
    remark = "<@U777> can you look at this after lunch"
    assert before_triage(remark, FOLLOWUP).act == "quiet"
    assert before_triage(f"<@UBOT> {remark}", ADDRESSED, "UBOT").act == "answer"


def test_questions_and_problem_reports_ask():
    assert asks("where is the session lifespan set")
    assert asks("still getting 401 after that")
    assert not asks("morning all, coffee first")


def _reply(kb_reply=None, **meta):
    from bot.models import Reply

    return Reply(
        headline="h", sections=(), links=(), confidence=meta.pop("confidence", "medium"), matches=(), meta=meta
    )


def test_after_triage_by_where_and_mode():
    paste = _reply(decision="answer", evidence=True)
    guess = _reply(decision="answer", evidence=False)
    confident = _reply(decision="answer", evidence=False, confidence="high")
    unsure = _reply(decision="abstain", evidence=False, confidence="low")
    repeat = _reply(decision="repeat", evidence=True)
    assert after_triage(unsure, ADDRESSED).act == "answer"
    assert after_triage(repeat, FOLLOWUP, text="why?").act == "quiet"
    assert after_triage(guess, FOLLOWUP, text="nice weather").act == "quiet"
    assert after_triage(guess, FOLLOWUP, text="why does it fail?").act == "answer"
    assert after_triage(paste, CHANNEL, "auto").act == "answer"
    assert after_triage(confident, CHANNEL, "auto").act == "answer"
    assert after_triage(guess, CHANNEL, "auto", text="how do I do x?").act == "quiet"
    assert after_triage(guess, CHANNEL, "all", text="how do I do x?").act == "answer"
    assert after_triage(unsure, CHANNEL, "all", text="how do I do x?").act == "quiet"
    assert after_triage(paste, CHANNEL, "mention").act == "quiet"
