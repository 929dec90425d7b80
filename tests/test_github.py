"""`kratos-bot github` on issues as people file them, and the workflow that posts its comment."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.compose import BOLD_CLOSE, BOLD_OPEN
from bot.github import NO_COMMENT, Issue, is_feature_request, read_issue, triage_issue
from bot.render import to_github_markdown, to_mrkdwn
from tests.conftest import ROOT

WORKFLOW = ROOT / "deploy" / "github" / "kratos-triage.yml"
COOKIE = "MTcxMjM0NTY3OHxzb21lLWxvbmctc2Vzc2lvbi12YWx1ZS1oZXJl"

BUG_CONFIG = Issue(
    "Kratos exits on start after I added an account page",
    """### Describe the bug

I wanted users to be able to change their password, so I added the settings page to the config. Since then the
container stops right after it starts. Did the config format change?

### Relevant configuration

```yaml
selfservice:
  default_browser_return_url: http://127.0.0.1:4455/
  flows:
    setting:
      ui_url: http://127.0.0.1:4455/account
    login:
      ui_url: http://127.0.0.1:4455/signin
```

### Version

v1.1.0
""",
)
BUG_EVENT = {
    "action": "opened",
    "issue": {
        "number": 42,
        "title": "Second factor step answers 401 in our mobile app",
        "labels": [{"name": "bug"}],
        "body": "### Describe the bug\n\nThe app signs in with the password first, then opens the TOTP step, "
        "which always comes back with this:\n\n```json\n"
        '{"error":{"id":"session_aal1_required","code":401,"status":"Unauthorized"}}\n```\n\n'
        "The call the app makes:\n\n```\ncurl -s -H 'Accept: application/json' "
        f"-H 'Cookie: ory_kratos_session={COOKIE}' "
        "'https://auth.example.org/self-service/login/api?aal=aal2'\n```\n\n### Version\n\nv1.3.1",
    },
}
FEATURE_TEMPLATE = Issue(
    "Let admins export every identity as a CSV file",
    """### Describe your problem

Our support team needs a spreadsheet of all users each month and pages through the admin API by hand.

### Describe your ideal solution

An admin endpoint that streams all identities with their traits as CSV.

### Version

v1.3.1
""",
)
FEATURE_PLAIN = Issue(
    "Dark mode for the built-in account pages",
    "It would be lovely if the default account pages followed the browser's dark mode setting. Many of our users "
    "asked for it.",
)


@pytest.fixture
def triage(kb):
    from bot.pipeline import Triage

    return Triage(kb)


def _plain(text: str) -> str:
    """Words only: Slack's and GitHub's markup, escapes and bold markers removed."""
    text = text.replace(BOLD_OPEN, "").replace(BOLD_CLOSE, "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(re.sub(r"[*_`>•\[\]]", " ", text).split())


def test_comment_says_what_the_slack_reply_says(triage):
    result = triage_issue(triage, BUG_CONFIG)
    reply, _ = triage.triage(BUG_CONFIG.text)
    slack, github = _plain(to_mrkdwn(reply)), _plain(result.comment)
    assert reply.findings
    for finding in reply.findings:
        assert _plain(finding.title) in slack and _plain(finding.title) in github
    for section in reply.sections:
        assert _plain(section.title) in github
        for line in section.lines:
            assert _plain(line) in github, line
    assert to_github_markdown(reply) in result.comment


def test_bug_with_a_config_gets_the_corrected_config_and_labels(triage):
    result = triage_issue(triage, BUG_CONFIG)
    assert result.decision == "answer" and result.confidence == "high"
    assert "### `selfservice.flows.setting` is not a Kratos config key" in result.comment
    assert "```yaml\n" in result.comment and "settings:  # <- was 'setting'" in result.comment
    assert result.labels == ("area/config", "area/settings", "usage question")
    assert "Suggested labels: `area/config`, `area/settings`, `usage question`" in result.comment


def test_event_json_with_a_live_cookie(triage):
    issue = read_issue(json.dumps(BUG_EVENT))
    assert issue.number == 42 and issue.labels == ("bug",) and issue.title.startswith("Second factor")
    result = triage_issue(triage, issue)
    assert COOKIE not in result.comment
    assert result.comment.split("\n\n")[1].startswith("> [!WARNING]\n> You pasted a live secret")
    assert "### `session_aal1_required` (401)" in result.comment
    assert "[Two-factor authentication](https://www.ory.com/docs/" in result.comment


def test_feature_requests_get_no_comment(triage):
    assert is_feature_request(FEATURE_TEMPLATE)
    for issue in (FEATURE_TEMPLATE, FEATURE_PLAIN, Issue("Support SCIM groups", "Please add it.", ("feat",))):
        result = triage_issue(triage, issue)
        assert result.comment is None and result.labels == (), issue.title


def test_a_bug_report_is_not_a_feature_request():
    assert not is_feature_request(BUG_CONFIG)
    assert not is_feature_request(read_issue(json.dumps(BUG_EVENT)))


def test_labels_for_an_old_release_and_for_a_report_without_a_paste(triage):
    old = Issue(
        "Code login does not show up",
        "### Describe the bug\n\nI enabled passwordless one-time codes but the login page only has the password "
        "field.\n\n```yaml\nselfservice:\n  methods:\n    code:\n      enabled: true\n"
        "      passwordless_enabled: true\n```\n\n### Version\n\nv1.0.0\n",
    )
    assert "version too old" in triage_issue(triage, old).labels
    vague = Issue(
        "whoami keeps failing from our API server",
        "Our Go service calls whoami and keeps receiving session_inactive although the user is signed in.",
    )
    assert "needs more info" in triage_issue(triage, vague).labels
    howto = Issue("How do I keep users signed in for 30 days?", "They are signed out every day. Where is that set?")
    result = triage_issue(triage, howto)
    assert "usage question" in result.labels and "needs more info" not in result.labels


def test_read_issue_forms():
    assert read_issue("# Title here\n\nBody text") == Issue("Title here", "Body text")
    assert read_issue('{"title": "T", "body": null, "labels": ["feat"]}') == Issue("T", "", ("feat",))
    assert read_issue("{not json") == Issue("{not json", "")


def _cli(argv, capsys, monkeypatch, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_prints_the_comment_or_nothing_with_exit_3(tmp_path, capsys, monkeypatch):
    event = tmp_path / "event.json"
    event.write_text(json.dumps(BUG_EVENT))
    code, out, _ = _cli(["github", str(event)], capsys, monkeypatch)
    assert code == 0 and out.startswith("<!-- kratos-support-bot -->") and COOKIE not in out
    feature = f"{FEATURE_TEMPLATE.title}\n\n{FEATURE_TEMPLATE.body}"
    code, out, err = _cli(["github"], capsys, monkeypatch, stdin=feature)
    assert code == NO_COMMENT and out == "" and "feature request" in err


def test_cli_json(tmp_path, capsys, monkeypatch):
    code, out, _ = _cli(["github", "--json", "-"], capsys, monkeypatch, stdin=json.dumps(BUG_EVENT))
    doc = json.loads(out)
    assert code == 0 and doc["post"] is True and doc["decision"] == "answer" and COOKIE not in out
    assert "area/login" in doc["labels"] and doc["comment"].startswith("<!-- kratos-support-bot -->")
    code, out, _ = _cli(
        ["github", "--json"], capsys, monkeypatch, stdin=FEATURE_PLAIN.title + "\n" + FEATURE_PLAIN.body
    )
    assert code == NO_COMMENT and json.loads(out)["post"] is False and json.loads(out)["comment"] is None


# The workflow, run as GitHub runs its steps: bash with the event file, and `gh` replaced by a recorder.


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def test_workflow_triggers_on_new_issues_with_the_least_rights():
    doc = _workflow()
    assert doc[True]["issues"]["types"] == ["opened"]  # YAML 1.1 reads the key `on` as True
    assert doc["permissions"] == {"contents": "read", "issues": "write"}
    text = WORKFLOW.read_text()
    # An issue's own text in a `${{ }}` expression would be pasted into the script before bash parses it.
    assert not re.search(r"\$\{\{[^}]*github\.event\.issue\.(title|body)", text)


@pytest.fixture
def comment_step(tmp_path):
    step = next(s for s in _workflow()["jobs"]["triage"]["steps"] if "gh issue comment" in s.get("run", ""))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$GH_LOG"\ncat "$5" > "$GH_LOG.body"\n')
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)

    def run(event: dict) -> tuple[subprocess.CompletedProcess, Path]:
        event_path = tmp_path / "event.json"
        event_path.write_text(json.dumps(event))
        log = tmp_path / "gh.log"
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_EVENT_PATH": str(event_path),
            "RUNNER_TEMP": str(tmp_path),
            "GH_LOG": str(log),
            "ISSUE_NUMBER": str(event["issue"]["number"]),
        }
        done = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, timeout=120)
        return done, log

    return run


def test_workflow_posts_the_comment_for_a_bug(comment_step):
    done, log = comment_step(BUG_EVENT)
    assert done.returncode == 0, done.stderr
    assert log.read_text().split("\n")[:3] == ["issue", "comment", "42"]
    body = Path(str(log) + ".body").read_text()
    assert body.startswith("<!-- kratos-support-bot -->") and COOKIE not in body


def test_workflow_posts_nothing_for_a_feature_request(comment_step):
    event = {
        "action": "opened",
        "issue": {"number": 43, "title": FEATURE_TEMPLATE.title, "body": FEATURE_TEMPLATE.body},
    }
    done, log = comment_step(event)
    assert done.returncode == 0, done.stderr
    assert not log.exists() and "nothing to post" in done.stdout
