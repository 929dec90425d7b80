"""Reading a message (bot/read.py): the question is separated from pastes and issue-template boilerplate."""

from __future__ import annotations

from bot.read import read

ISSUE = """### Preflight checklist

- [x] I could not find a solution in the existing issues, docs, nor discussions.

### Describe the bug

Users who sign up with a password never get the verification mail since we moved to the new release.

### Reproducing the bug

1. start the stack
2. register a user

### Relevant log output

time=2024-05-01T10:00:00Z level=warning msg=courier: dispatching failed audience=application

### Relevant configuration

courier:
  smtp:
    connection_uri: smtp://mailhog:1025

### Version

v1.1.0
"""


def test_issue_template_keeps_only_the_problem_sections():
    reading = read(ISSUE)
    assert reading.template
    assert reading.question.startswith("Users who sign up with a password never get the verification mail")
    for noise in ("Preflight", "level=warning", "connection_uri", "register a user", "v1.1.0"):
        assert noise not in reading.question


def test_pasted_lines_are_not_the_question():
    text = (
        "why does my hook not run?\n"
        "selfservice:\n  flows:\n    registration:\n      after:\n        hooks:\n          - hook: web_hook\n"
        'kratos-1  | time=2024 level=error msg="request failed"\n'
        "    at handler (/app/server.js:12:5)\n"
    )
    assert read(text).question == "why does my hook not run?"


def test_long_story_keeps_first_last_and_questions():
    middle = " ".join(f"Step {i} went fine." for i in range(40))
    text = f"We deploy kratos on k8s. It has two replicas. {middle} Is a shared DSN required? Thanks. Bye."
    q = read(text).question
    assert q.startswith("We deploy kratos on k8s. It has two replicas.")
    assert "Is a shared DSN required?" in q and q.endswith("Thanks. Bye.")
    assert "Step 20" not in q


def test_howto_detection():
    assert read("is it possible to log in with a username instead of an email?").howto
    assert read("how do I enable passkeys").howto
    assert not read("login returns 403 since yesterday").howto


def test_huge_paste_is_read_from_its_ends_only():
    text = "first line asks: how do I rotate secrets?\n" + ("    key: value\n" * 50_000) + "thanks in advance."
    q = read(text).question
    assert "how do I rotate secrets?" in q and "thanks in advance." in q


def test_feature_request_templates_old_and_new():
    old = (
        "**Is your feature request related to a problem? Please describe.**\n\n"
        "Breached passwords are refused outright, which locks out too many people.\n\n"
        "**Describe the solution you'd like**\n\nA threshold for how often a password may have leaked.\n\n"
        "**Describe alternatives you've considered**\n\nTurning the check off.\n"
    )
    new = (
        "### Preflight checklist\n\n- [X] I could not find a solution\n\n### Describe your problem\n\n"
        "Passkey login still asks for the email first.\n\n### Describe your ideal solution\n\n"
        "One button, no identifier.\n\n### Workarounds or alternatives\n\nNone.\n\n### Version\n\nv1.1.0\n"
    )
    first, second = read(old), read(new)
    assert first.template and second.template
    assert first.question.startswith("Breached passwords are refused")
    assert "threshold" in first.question and "Turning the check off" not in first.question
    assert "Please describe" not in first.question
    assert second.question.startswith("Passkey login still asks") and "One button" in second.question
    assert "None." not in second.question and "v1.1.0" not in second.question


def test_inline_json_is_not_question_text():
    reading = read('the login gives {"error": {"id": "session_inactive", "code": 401}} when I call it twice, why?')
    assert "session_inactive" not in reading.question and "call it twice" in reading.question


def test_english_sentence_starting_with_if_is_not_code():
    reading = read(
        "**Describe the bug**\n\nIf kratos requires a verified address (via the `require_verified_address` hook), "
        "recovery still signs the user in.\n\n**Reproducing the bug**\n\n1. run it"
    )
    assert reading.question.startswith("If kratos requires a verified address")
    assert read("if (flow.state === 'sent_email') {\nwhy is this never true?").question == "why is this never true?"
