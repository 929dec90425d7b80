"""Bad input gets a short, clear answer: never an exception, a hang, or an oversized reply."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.render import BLOCK_LIMIT, SECTION_LIMIT, TEXT_LIMIT, to_blocks, to_mrkdwn, to_text

SLOW_LIMIT = 5.0  # seconds; generous for CI, the benchmark measures the real figures


def _check_limits(reply):
    text = to_mrkdwn(reply)
    blocks = to_blocks(reply)
    assert 0 < len(text) <= TEXT_LIMIT + 100
    assert 0 < len(blocks) <= BLOCK_LIMIT
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
    assert to_text(reply)


BAD_INPUTS = {
    "empty": "",
    "spaces": "   \n\t ",
    "broken json": '{"error": {"id": "session_inactive", "code": 401,',
    "unbalanced quotes and fences": '```\n{"a": "b\n``` "" \' curl \'',
    "deep json": "[" * 5000 + "]" * 5000,
    "deep object": '{"a":' * 3000 + "1" + "}" * 3000,
    "binary junk": "".join(chr(i % 256) for i in range(5000)),
    "regex bait": "a" * 50_000 + "!" + "-" * 20_000 + "curl " * 2000,
    "many braces": "{" * 200_000,
    "huge curl": "curl http://h/self-service/login " + " ".join(f"-H 'X-{i}: {i}'" for i in range(5000)),
    "many uuids": " ".join("2a2a701a-7a45-4df1-a710-816cc4f9efc" for _ in range(5000)),
    "one char 1MB": "x" * 1_000_000,
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_answered(triage, name):
    started = time.perf_counter()
    reply = triage.answer(BAD_INPUTS[name], thread=name)
    assert time.perf_counter() - started < SLOW_LIMIT
    _check_limits(reply)


def test_big_paste_says_it_was_cut(triage):
    reply = triage.answer('{"error": {"id": "session_inactive"}}\n' + "y" * 1_000_000)
    assert any("I read the first" in line for s in reply.sections for line in s.lines)
    assert reply.matches[0].entry_id == "error.session_inactive"


def test_unknown_question_asks_for_the_missing_thing(triage):
    reply = triage.answer("hello")
    assert reply.confidence == "none"
    assert "error JSON" in to_mrkdwn(reply)


def test_huge_schema_reply_stays_within_limits(triage):
    props = {
        f"t{i}": {"type": "string", "ory.sh/kratos": {"credentials": {"code": {"identifier": True}}}}
        for i in range(400)
    }
    schema = {"properties": {"traits": {"type": "object", "properties": props}}}
    _check_limits(triage.answer(json.dumps(schema)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=3000))
def test_any_text_is_answered(triage, text):
    _check_limits(triage.answer(text, thread="prop"))


_FRAGMENTS = st.sampled_from(
    [
        '{"error": {"id": "browser_location_change_required", "code": 422}, "redirect_browser_to": ',
        '"messages": [{"id": 4000035, "text": "x"}]',
        "curl -X POST '{{host}}kratos/self-service/login?flow=",
        "2a2a701a-7a45-4df1-a710-816cc4f9efc",
        '\' --data \'{"method": "totp"}\'',
        "<http://ory.sh/kratos|ory.sh/kratos>",
        "selfservice:\n  flows:\n",
        "ory_kratos_session=",
        "{",
        "}",
        "[",
        "]",
        '"',
        "'",
        "\\\n",
        "```",
        "&lt;",
        "\n",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_FRAGMENTS | st.text(max_size=20), max_size=40))
def test_kratos_shaped_garbage_is_answered(triage, parts):
    _check_limits(triage.answer("".join(parts), thread="frag"))


_SECRET_SHAPES = st.sampled_from(
    [
        "ory_kratos_session={}",
        "X-Session-Token: ory_st_{}",
        "Authorization: Bearer ory_at_{}",
        "ory_pat_{}",
        '"password": "{}"',
        "cookie: ory_session_abc={}; csrf_token_1234abcd={}",
    ]
)
_SECRET_VALUES = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=16, max_size=40
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300), _SECRET_SHAPES, _SECRET_VALUES, st.text(max_size=300))
def test_no_secret_from_the_input_in_any_rendering(triage, before, shape, value, after):
    text = before + "\n" + shape.format(value, value) + "\n" + after
    reply = triage.answer(text, thread="secrets")
    rendered = "\n".join((to_mrkdwn(reply), to_text(reply), json.dumps(to_blocks(reply))))
    assert value not in rendered
