"""Settings for `kratos-bot serve`: every bad value stops start-up with one line naming the variable."""

import pytest

from bot.feedback import FeedbackLog, stats
from bot.slack.settings import SettingsError, load_settings

GOOD = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        ({**GOOD, "SLACK_APP_TOKEN": "xoxb-2"}, "SLACK_APP_TOKEN"),
        ({**GOOD, "PORT": "http"}, "PORT"),
        ({**GOOD, "PORT": "70000"}, "PORT"),
        ({**GOOD, "SLACK_API_URL": "localhost:9000"}, "SLACK_API_URL"),
        ({**GOOD, "KRATOS_BOT_IGNORE_BOTS": "maybe"}, "KRATOS_BOT_IGNORE_BOTS"),
        ({**GOOD, "KRATOS_BOT_RETENTION_DAYS": "forever"}, "KRATOS_BOT_RETENTION_DAYS"),
    ],
)
def test_bad_settings_name_the_variable(env, names):
    with pytest.raises(SettingsError) as info:
        load_settings(env)
    assert names in str(info.value) and "\n" not in str(info.value)


def test_modes_and_defaults():
    http = load_settings({**GOOD, "SLACK_API_URL": "http://127.0.0.1:9/api", "KRATOS_BOT_CHANNELS": "C1, C2"})
    assert not http.socket_mode and http.port == 3000 and http.api_url == "http://127.0.0.1:9/api/"
    assert http.allowed_channels == {"C1", "C2"} and http.ignore_other_bots
    socket = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.socket_mode and socket.signing_secret is None
    assert http.retention == 90 * 24 * 3600


def test_default_records_file_does_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = load_settings({**GOOD, "XDG_STATE_HOME": "/var/lib/someone"}).feedback_path
    assert str(path) == "/var/lib/someone/kratos-bot/feedback.jsonl"
    assert load_settings(GOOD).feedback_path.is_absolute()
    assert str(load_settings({**GOOD, "KRATOS_BOT_FEEDBACK_FILE": "/data/f.jsonl"}).feedback_path) == "/data/f.jsonl"


def test_stats_per_entry(tmp_path):
    log = FeedbackLog(tmp_path / "f.jsonl")
    log.answered("a1", ["error.session_inactive", "topic.cors-public-api"], "high", "C1")
    log.answered("a2", [], "none", "C1")
    log.answered("a3", ["error.session_inactive"], "high", "C2")
    log.feedback("a1", True, "C1")
    log.feedback("a3", False, "C2")
    log.feedback("a2", False, "C1")
    (tmp_path / "f.jsonl").open("a").write('{"torn')
    table = stats(log.records())
    assert table["error.session_inactive"] == {"answered": 2, "helpful": 1, "not_helpful": 1}
    assert table["(no match)"] == {"unanswered": 1, "not_helpful": 1}
    assert "text" not in (tmp_path / "f.jsonl").read_text()
