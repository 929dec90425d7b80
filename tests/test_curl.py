"""curl commands: how they are parsed, and the corrected request built from them."""

from __future__ import annotations

from bot.context import turn_to_json
from bot.models import Snippet
from bot.render import to_json

FLOW = "530f4a51-19eb-4570-8ebc-068dfbc6f402"
LOGIN = f"http://127.0.0.1:4433/self-service/login?flow={FLOW}"
TOTP_BODY = '\'{"method": "totp", "code": "558929"}\''


def _corrected(reply) -> str:
    """The corrected request of a reply."""
    (snippet,) = [
        s.code for s in reply.sections if isinstance(s.code, Snippet) and s.code.note.startswith("corrected request")
    ]
    return snippet.code


def test_corrected_request_keeps_the_options_the_fix_leaves_alone(triage):
    text = (
        f"curl -s -k -c jar.txt -b jar.txt -X POST '{LOGIN}' -H 'content-type: application/json' "
        f"-L -H 'X-Request-Id: 7' --data {TOTP_BODY}"
    )
    corrected = _corrected(triage.answer(text))
    assert '"totp_code": "558929"' in corrected  # the fix itself
    lines = [line.strip(" \\") for line in corrected.splitlines()]
    kept = [line for line in lines if line.startswith("-") and not line.startswith(("--request", "--url", "--data"))]
    assert kept == [
        "-s",
        "-k",
        "-c jar.txt",
        "-b jar.txt",
        "-L",
        "--header 'content-type: application/json'",
        "--header 'X-Request-Id: 7'",
    ]


def test_corrected_request_keeps_user_option_with_its_password_masked(triage):
    text = f"curl -u admin:Adm1nPw -X POST '{LOGIN}' --data {TOTP_BODY}"
    reply, turn = triage.triage(text)
    assert "-u 'admin:****'" in _corrected(reply)
    assert "Adm1nPw" not in to_json(reply) + turn_to_json(turn)
