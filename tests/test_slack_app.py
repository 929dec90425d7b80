"""End to end: the real Slack app (slack_bolt AsyncApp built by `kratos-bot serve`'s code) against the
fake Slack in tests/fakeslack.py, in Socket Mode and in HTTP mode. Nothing of our own is stubbed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.feedback import FeedbackLog, stats
from bot.pipeline import Triage
from bot.slack.serve import create, http_app, socket_handler
from bot.slack.settings import load_settings
from tests.conftest import SHARED
from tests.fakeslack import FakeSlack

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-test"
SECRET = "test-signing-secret"
SEED_TURN = (
    "curl --request POST \\\n--url '{{host}}/self-service/settings?flow=2a2a701a-7a45-4df1-a710-816cc4f9efc' \\\n"
    "--header 'cookie: ory_kratos_session=MTc0OTAyODM3N3xncTJXMGdUQjIyb2JVbnNnaUx6U2FNWFc3dV9mRDAyZTQ1VFF4; "
    'Path=/; Max-Age=31536000; HttpOnly\' \\\n--data \'{"csrf_token": "{{recoveryFlowCsrf}}", "method": '
    '"password", "password": "123SupperPassword2025$"}\'\nI get error\n'
    '{"error": {"code": 400, "status": "Bad Request", "reason": "The flow query parameter is missing or malformed."}}'
)


def event(event_id: str, **fields) -> dict:
    body = {"type": "message", "user": "U1", "channel": "C1", "channel_type": "channel", **fields}
    body.setdefault("ts", f"{time.time():.6f}")
    return {
        "type": "event_callback",
        "event_id": event_id,
        "team_id": "T0001",
        "api_app_id": "A1",
        "event_time": int(time.time()),
        "event": body,
    }


def mention(event_id: str, text: str, ts: str = "1700000000.000100", **fields) -> dict:
    return event(event_id, type="app_mention", text=f"<@UBOT> {text}", ts=ts, **fields)


@contextlib.asynccontextmanager
async def socket_bot(kb, feedback: Path, **env):
    """A fake Slack and the real bot connected to it over Socket Mode."""
    async with FakeSlack() as fake:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": fake.api_url,
                "KRATOS_BOT_FEEDBACK_FILE": str(feedback),
                **env,
            }
        )
        app, _ = create(settings, Triage(kb))
        handler = socket_handler(app, settings)
        await handler.connect_async()
        await fake.wait_connected(5)
        try:
            yield fake
        finally:
            await handler.close_async()


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), timeout=60))


def test_mention_gets_one_threaded_reply_without_secrets(kb, tmp_path):
    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            await fake.send_event(mention("Ev1", SEED_TURN))
            await fake.wait_for(lambda: fake.posts, 10)
            await asyncio.sleep(0.3)
            assert len(fake.posts) == 1
            post = fake.posts[0]
            assert post["thread_ts"] == "1700000000.000100" and post["channel"] == "C1"
            everything = json.dumps(post)
            assert "2a2a701a-7a45-4df1-a710-816cc4f9efc" in everything
            assert "MTc0OTAyODM3N3xncTJX" not in everything and "123SupperPassword2025" not in everything
            assert post["text"].startswith(":warning:")
            assert any(b["type"] == "actions" for b in post["blocks"])

    run(scenario)


def test_follow_up_in_bot_thread_only(kb, tmp_path):
    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            root = "1700000000.000100"
            await fake.send_event(mention("Ev1", SEED_TURN, ts=root))
            await fake.wait_for(lambda: len(fake.posts) == 1, 10)
            follow = "so what should I do with this?"
            await fake.send_event(event("Ev2", text=follow, ts="1700000001.000100", thread_ts=root))
            await fake.wait_for(lambda: len(fake.posts) == 2, 10)
            assert fake.posts[1]["thread_ts"] == root
            assert "2a2a701a-7a45-4df1-a710-816cc4f9efc" in json.dumps(fake.posts[1])
            # The same words in a thread the bot never answered in: ignored.
            await fake.send_event(event("Ev3", text=follow, ts="1700000002.000100", thread_ts="1600000000.1"))
            await asyncio.sleep(1.0)
            assert len(fake.posts) == 2

    run(scenario)


def test_retried_event_is_answered_once(kb, tmp_path):
    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            payload = mention("EvRetry", '{"error": {"id": "session_aal1_required", "code": 401}}')
            for attempt in range(3):
                await fake.send_event(payload, retry_attempt=attempt, retry_reason="timeout" if attempt else "")
            await fake.wait_for(lambda: fake.posts, 10)
            await asyncio.sleep(1.0)
            assert len(fake.posts) == 1
            assert len(fake.acks) >= 3  # every delivery is acknowledged, only one answered

    run(scenario)


def test_snippet_file_is_read_and_own_messages_ignored(kb, tmp_path):
    schema = {
        "properties": {
            "traits": {
                "type": "object",
                "properties": {
                    "email": {
                        "type": "string",
                        "format": "email",
                        "ory.sh/kratos": {"credentials": {"password": {"identifer": True}}},
                    }
                },
            }
        }
    }

    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            file = fake.add_file("F1", "schema.json", json.dumps(schema).encode(), "json", "application/json")
            await fake.send_event(
                event("Ev1", subtype="file_share", text="my schema", channel="D1", channel_type="im", files=[file])
            )
            await fake.wait_for(lambda: fake.posts, 10)
            assert "identifer" in json.dumps(fake.posts[0]) and ("F1", 200) in fake.downloads
            await fake.send_event(event("Ev2", user="UBOT", bot_id="BBOT", text="hi", channel="D1", channel_type="im"))
            await asyncio.sleep(1.0)
            assert len(fake.posts) == 1

    run(scenario)


def test_rate_limited_post_arrives_once(kb, tmp_path):
    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            fake.fail_next("chat.postMessage", status=429, retry_after=1, times=1)
            await fake.send_event(mention("Ev1", '{"error": {"id": "session_inactive", "code": 401}}'))
            await fake.wait_for(lambda: fake.posts, 15)
            await asyncio.sleep(0.5)
            assert len(fake.posts) == 1
            assert len(fake.calls_to("chat.postMessage")) == 2

    run(scenario)


def test_feedback_click_recorded_and_counted(kb, tmp_path):
    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            await fake.send_event(mention("Ev1", '{"error": {"id": "session_inactive", "code": 401}}'))
            await fake.wait_for(lambda: fake.posts, 10)
            actions = next(b for b in fake.posts[0]["blocks"] if b["type"] == "actions")
            helpful = actions["elements"][0]
            await fake.send_interactive(
                {
                    "type": "block_actions",
                    "user": {"id": "U2"},
                    "channel": {"id": "C1"},
                    "message": {"ts": "1700000000.000200"},
                    "container": {"type": "message"},
                    "actions": [
                        {
                            "action_id": helpful["action_id"],
                            "value": helpful["value"],
                            "type": "button",
                            "block_id": actions["block_id"],
                        }
                    ],
                }
            )
            await fake.wait_for(lambda: fake.ephemerals, 10)

    run(scenario)
    table = stats(FeedbackLog(tmp_path / "f.jsonl").records())
    assert table["error.session_inactive"]["helpful"] == 1
    assert table["error.session_inactive"]["answered"] == 1


def test_slash_command_is_ephemeral_with_post_button_and_shortcut_answers_in_thread(kb, tmp_path):
    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            await fake.send_slash_command(
                {
                    "command": "/kratos",
                    "text": "what is the purpose of passwordless_enabled?",
                    "channel_id": "C1",
                    "user_id": "U3",
                }
            )
            # Through the command's response_url, which works also where the bot is not a member.
            await fake.wait_for(lambda: fake.responses, 10)
            _, ephemeral = fake.responses[0]
            assert ephemeral["response_type"] == "ephemeral" and "passwordless_enabled" in json.dumps(ephemeral)
            assert fake.ephemerals == []
            button = next(b for b in ephemeral["blocks"] if b["type"] == "actions")["elements"][0]
            await fake.send_interactive(
                {
                    "type": "block_actions",
                    "user": {"id": "U3"},
                    "channel": {"id": "C1"},
                    "container": {"type": "message"},
                    "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
                }
            )
            await fake.wait_for(lambda: fake.posts, 10)
            assert fake.posts[0]["channel"] == "C1" and "passwordless_enabled" in json.dumps(fake.posts[0])
            await fake.send_interactive(
                {
                    "type": "message_action",
                    "callback_id": "triage_message",
                    "user": {"id": "U4"},
                    "channel": {"id": "C2"},
                    "message": {"ts": "1700000005.000100", "text": '{"error": {"id": "session_inactive"}}'},
                }
            )
            await fake.wait_for(lambda: len(fake.posts) == 2, 10)
            assert fake.posts[1]["channel"] == "C2" and fake.posts[1]["thread_ts"] == "1700000005.000100"

    run(scenario)


async def http_bot(fake: FakeSlack, kb, feedback: Path):
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "KRATOS_BOT_FEEDBACK_FILE": str(feedback),
        }
    )
    app, rt = create(settings, Triage(kb))
    runner = web.AppRunner(http_app(app, rt))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


def test_http_mode_checks_signatures(kb, tmp_path):
    async def scenario():
        async with FakeSlack() as fake:
            runner, url = await http_bot(fake, kb, tmp_path / "f.jsonl")
            try:
                body = json.dumps(mention("EvH", '{"error": {"id": "session_inactive"}}')).encode()
                async with aiohttp.ClientSession() as http:
                    bad = {**FakeSlack.sign(body, "wrong-secret"), "Content-Type": "application/json"}
                    async with http.post(url, data=body, headers=bad) as resp:
                        assert resp.status == 401
                    old = {
                        **FakeSlack.sign(body, SECRET, timestamp=int(time.time()) - 600),
                        "Content-Type": "application/json",
                    }
                    async with http.post(url, data=body, headers=old) as resp:
                        assert resp.status == 401
                    good = {**FakeSlack.sign(body, SECRET), "Content-Type": "application/json"}
                    async with http.post(url, data=body, headers=good) as resp:
                        assert resp.status == 200
                    await fake.wait_for(lambda: fake.posts, 10)
                    async with http.post(url, data=body, headers={**good, "X-Slack-Retry-Num": "1"}) as resp:
                        assert resp.status == 200
                    await asyncio.sleep(0.5)
                    assert len(fake.posts) == 1
                    async with http.get(url.replace("/slack/events", "/healthz")) as resp:
                        assert resp.status == 200
            finally:
                await runner.cleanup()

    run(scenario)


def test_seed_thread_through_slack(kb, tmp_path):
    """The whole seed thread posted into one Slack thread: the replies meet the expectations."""
    if not (SHARED / "seed" / "expectations.yaml").is_file():
        pytest.skip("../shared/seed is not next to this checkout")
    import re

    import yaml

    turns = yaml.safe_load((SHARED / "seed" / "expectations.yaml").read_text())["thread"]

    async def scenario():
        async with socket_bot(kb, tmp_path / "f.jsonl") as fake:
            root = "1700000000.000100"
            for i, turn in enumerate(turns):
                if i == 0:
                    payload = mention("Ev0", turn["text"], ts=root)
                else:
                    payload = event(f"Ev{i}", text=turn["text"], ts=f"17000000{i:02d}.000100", thread_ts=root)
                await fake.send_event(payload)
                await fake.wait_for(lambda n=i: len(fake.posts) == n + 1, 15)
                text = fake.posts[i]["text"]
                for item in turn.get("expect", []):
                    assert re.search(item["pattern"], text, re.I | re.S), (turn["id"], item["pattern"])

    run(scenario)
