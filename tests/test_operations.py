"""Running for real: two replicas on one Redis, SQLite across a restart, health and metrics, knowledge
reload. The bots are the real Slack apps in HTTP mode; Slack is the fake in tests/fakeslack.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path

import aiohttp
import yaml

from bot.kb.loader import load_knowledge
from bot.pipeline import Triage
from bot.slack.serve import create, http_app
from bot.slack.settings import load_settings
from tests.conftest import ROOT, loopback
from tests.fakeslack import FakeSlack
from tests.redis_server import redis_server
from tests.test_slack_app import SEED_TURN, event, mention

SECRET = "ops-secret"
ADMIN = "admin-token"


@contextlib.asynccontextmanager
async def http_bot(fake: FakeSlack, state_url: str, tmp_path: Path, kb=None, **env: str):
    """One bot replica in HTTP mode on a loopback port; yields (events URL, base URL, runtime)."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "STATE_URL": state_url,
            "KRATOS_BOT_ADMIN_TOKEN": ADMIN,
            "KRATOS_BOT_FEEDBACK_FILE": str(tmp_path / "feedback.jsonl"),
            **env,
        }
    )
    app, rt = create(settings, Triage(kb or load_knowledge()))
    runner, base = await loopback(http_app(app, rt))
    try:
        yield f"{base}/slack/events", base, rt
    finally:
        await runner.cleanup()
        await rt.state.close()


async def deliver(http: aiohttp.ClientSession, url: str, payload: dict, **extra_headers: str) -> int:
    body = json.dumps(payload).encode()
    headers = {**FakeSlack.sign(body, SECRET), "Content-Type": "application/json", **extra_headers}
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), timeout=90))


def test_two_replicas_share_one_redis(tmp_path):
    kb = load_knowledge()

    async def scenario(url):
        async with (
            FakeSlack() as fake,
            http_bot(fake, url, tmp_path / "a", kb) as (a, _, _),
            http_bot(fake, url, tmp_path / "b", kb) as (b, _, _),
            aiohttp.ClientSession() as http,
        ):
            root = "1700000000.000100"
            assert await deliver(http, a, mention("Ev1", SEED_TURN, ts=root)) == 200
            await fake.wait_for(lambda: len(fake.posts) == 1, 10)
            follow = event("Ev2", text="so what should I do with this?", ts="1700000001.000100", thread_ts=root)
            assert await deliver(http, b, follow) == 200
            await fake.wait_for(lambda: len(fake.posts) == 2, 10)
            assert "2a2a701a-7a45-4df1-a710-816cc4f9efc" in json.dumps(fake.posts[1])  # B used A's context
            retry = mention("Ev3", '{"error": {"id": "session_inactive"}}', ts="1700000003.000100")
            statuses = await asyncio.gather(deliver(http, a, retry), deliver(http, b, retry))
            assert statuses == [200, 200]
            await asyncio.sleep(1.0)
            assert len(fake.posts) == 3

    with redis_server(tmp_path) as (url, _):
        run(lambda: scenario(url))


def test_redis_down_means_not_ready_and_not_acknowledged(tmp_path):
    async def scenario(url, proc):
        async with (
            FakeSlack() as fake,
            http_bot(fake, url, tmp_path) as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200
            proc.terminate()
            proc.wait(timeout=10)
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 503 and (await resp.json())["state"] is False
            assert await deliver(http, events, mention("Ev1", "hello")) == 503
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200  # the process is up; only readiness fails
            async with http.get(f"{base}/metrics") as resp:
                assert "kratos_bot_state_errors_total 1.0" in await resp.text()
            assert fake.posts == []

    with redis_server(tmp_path) as (url, proc):
        run(lambda: scenario(url, proc))


def test_sqlite_thread_survives_restart(tmp_path):
    url = f"sqlite://{tmp_path}/state.db"
    root = "1700000000.000100"

    async def first(fake):
        async with http_bot(fake, url, tmp_path) as (events, _, _), aiohttp.ClientSession() as http:
            await deliver(http, events, mention("Ev1", SEED_TURN, ts=root))
            await fake.wait_for(lambda: len(fake.posts) == 1, 10)

    async def second(fake):
        async with http_bot(fake, url, tmp_path) as (events, _, _), aiohttp.ClientSession() as http:
            follow = event("Ev2", text="so what should I do with this?", ts="1700000001.000100", thread_ts=root)
            await deliver(http, events, follow)
            await fake.wait_for(lambda: len(fake.posts) == 2, 10)
            assert "2a2a701a-7a45-4df1-a710-816cc4f9efc" in json.dumps(fake.posts[1])

    async def scenario():
        async with FakeSlack() as fake:
            await first(fake)
            await second(fake)

    run(scenario)


def test_metrics_and_readiness(tmp_path):
    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path) as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200 and await resp.json() == {"knowledge": True, "state": True, "slack": True}
            await deliver(http, events, mention("Ev1", '{"error": {"id": "session_inactive"}}'))
            await fake.wait_for(lambda: fake.posts, 10)
            async with http.get(f"{base}/metrics") as resp:
                text = await resp.text()
            assert 'kratos_bot_replies_posted_total{confidence="medium"} 1.0' in text
            assert 'kratos_bot_stage_seconds_count{stage="analyze"} 1.0' in text
            assert 'kratos_bot_events_received_total{kind="event_callback"} 1.0' in text

    run(scenario)


def test_reload_uses_new_knowledge_and_keeps_old_when_invalid(tmp_path, monkeypatch):
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    errors = knowledge / "errors.yaml"

    async def ask(http, events, fake, n, event_id):
        await deliver(
            http, events, mention(event_id, '{"error": {"id": "session_inactive"}}', ts=f"17000000{n:02d}.000100")
        )
        await fake.wait_for(lambda: len(fake.posts) == n, 10)
        return fake.posts[n - 1]["text"]

    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path, load_knowledge(knowledge)) as (events, base, rt),
            aiohttp.ClientSession() as http,
        ):
            before = await ask(http, events, fake, 1, "Ev1")
            assert "Brand new title" not in before
            doc = yaml.safe_load(errors.read_text())
            for entry in doc["entries"]:
                if entry["id"] == "error.session_inactive":
                    entry["title"] = "Brand new title"
            errors.write_text(yaml.safe_dump(doc, sort_keys=False))
            assert rt.reload(knowledge) is True
            assert "Brand new title" in await ask(http, events, fake, 2, "Ev2")
            errors.write_text("entries: [this is not, valid")
            assert rt.reload(knowledge) is False
            assert "Brand new title" in await ask(http, events, fake, 3, "Ev3")  # the old knowledge still serves
            headers = {"Authorization": f"Bearer {ADMIN}"}
            async with http.post(f"{base}/admin/reload") as resp:
                assert resp.status == 403  # admin-only
            async with http.post(f"{base}/admin/reload", headers=headers) as resp:
                assert resp.status == 200 and (await resp.json())["reloaded"] is True
            # The CLI does the same through the admin path.
            from bot.cli import main as cli

            monkeypatch.setenv("KRATOS_BOT_ADMIN_TOKEN", ADMIN)
            assert await asyncio.to_thread(cli, ["kb", "reload", "--url", base]) == 0
            monkeypatch.setenv("KRATOS_BOT_ADMIN_TOKEN", "wrong")
            assert await asyncio.to_thread(cli, ["kb", "reload", "--url", base]) == 1
            async with http.get(f"{base}/metrics") as resp:
                text = await resp.text()
            assert 'kratos_bot_knowledge_reloads_total{result="failed"} 1.0' in text

    run(scenario)


def test_logs_are_json_lines_without_message_text(tmp_path, capsys):
    import logging

    from bot.logs import configure

    configure("INFO")

    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path) as (events, _, _),
            aiohttp.ClientSession() as http,
        ):
            await deliver(http, events, mention("EvLog", SEED_TURN))
            await fake.wait_for(lambda: fake.posts, 10)

    try:
        run(scenario)
    finally:
        logging.getLogger().handlers[:] = []
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    answered = [line for line in lines if line["message"] == "answered"]
    assert answered and answered[0]["event_id"] == "EvLog" and answered[0]["confidence"] == "high"
    assert "latency_ms" in answered[0]
    assert not any("2a2a701a" in json.dumps(line) or "MTc0OTAy" in json.dumps(line) for line in lines)


def _serve_process(env: dict):
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "KRATOS_BOT_", "STATE_URL"))}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigterm_stops_the_bot_while_slack_is_unreachable():
    """Socket Mode keeps retrying the connection; Kubernetes' SIGTERM must still end the pod quickly."""
    import signal
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        health = probe.getsockname()[1]
    proc = _serve_process(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_APP_TOKEN": "xapp-test",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing listens on the discard port
            "HEALTH_PORT": str(health),
        }
    )
    try:
        # Wait until the health port answers: the signal handlers are in place by then (start-up takes longer
        # on a loaded machine than any fixed sleep).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", health)) == 0:
                    break
            time.sleep(0.2)
        time.sleep(1)  # and Socket Mode is busy retrying its connection
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        proc.kill()


def test_unusable_paths_stop_startup_with_one_line(tmp_path):
    proc = _serve_process(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "PORT": "39997",
            "KRATOS_BOT_KNOWLEDGE": str(tmp_path / "missing"),
        }
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.startswith("kratos-bot serve: cannot start:") and "missing" in err and "Traceback" not in err


async def deliver_form(http: aiohttp.ClientSession, url: str, fields: dict) -> int:
    """Slash commands and button clicks reach HTTP mode form-encoded, signed like events."""
    from urllib.parse import urlencode

    body = urlencode(fields).encode()
    headers = {**FakeSlack.sign(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status


def test_post_to_channel_click_on_the_other_replica(tmp_path):
    """/kratos answered by replica A; Slack delivers the "Post to channel" click to replica B."""
    kb = load_knowledge()

    async def scenario(url):
        async with (
            FakeSlack() as fake,
            http_bot(fake, url, tmp_path / "a", kb) as (a, _, _),
            http_bot(fake, url, tmp_path / "b", kb) as (b, _, _),
            aiohttp.ClientSession() as http,
        ):
            command = {
                "command": "/kratos",
                "text": '{"error": {"id": "session_inactive"}}',
                "channel_id": "C7",
                "user_id": "U7",
                "team_id": "T1",
                "api_app_id": "A1",
                "trigger_id": "t1",
                "response_url": fake.new_response_url(),
            }
            assert await deliver_form(http, a, command) == 200
            await fake.wait_for(lambda: fake.responses, 10)
            _, ephemeral = fake.responses[0]
            button = next(b for b in ephemeral["blocks"] if b["type"] == "actions")["elements"][0]
            click = {
                "type": "block_actions",
                "user": {"id": "U7"},
                "channel": {"id": "C7"},
                "team": {"id": "T1"},
                "api_app_id": "A1",
                "container": {"type": "message"},
                "trigger_id": "t2",
                "response_url": fake.new_response_url(),
                "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
            }
            assert await deliver_form(http, b, {"payload": json.dumps(click)}) == 200
            await fake.wait_for(lambda: fake.posts, 10)
            assert fake.posts[0]["channel"] == "C7" and "session_inactive" in json.dumps(fake.posts[0])

    with redis_server(tmp_path) as (url, _):
        run(lambda: scenario(url))


def test_slack_retry_is_counted_logged_and_not_answered_twice(tmp_path, caplog):
    import logging

    from tests.test_faults import metric

    caplog.set_level(logging.INFO, logger="kratos_bot.slack")

    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path) as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            first = mention("EvR", '{"error": {"id": "session_inactive"}}')
            assert await deliver(http, events, first) == 200
            retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
            assert await deliver(http, events, first, **retry) == 200
            assert await metric(http, base, 'kratos_bot_events_retried_total{reason="http_timeout"} 1.0')
            await fake.wait_for(lambda: fake.posts, 10)
            await asyncio.sleep(0.5)
            assert len(fake.posts) == 1

    run(scenario)
    dup = [r for r in caplog.records if getattr(r, "fields", {}).get("outcome") == "duplicate"]
    seen = [(r.fields["event_id"], r.fields["retry"], r.fields["retry_reason"]) for r in dup]
    assert seen == [("EvR", 1, "http_timeout")]
