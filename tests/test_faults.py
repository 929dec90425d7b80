"""Faults end in a logged, counted outcome and no crash: Slack 5xx and timeouts, Redis dropping in the
middle of a thread, a malformed event body. (Invalid knowledge reloads: tests/test_operations.py.)"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.fakeslack import FakeSlack
from tests.redis_server import redis_server
from tests.test_operations import deliver, http_bot
from tests.test_slack_app import SEED_TURN, event, mention


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), timeout=90))


async def metric(http, base: str, line: str, wait: float = 20) -> bool:
    """True once the bot's /metrics contains `line` (the outcome of a fault is counted asynchronously)."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        async with http.get(f"{base}/metrics") as resp:
            if line in await resp.text():
                return True
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.2)


def test_slack_server_errors_are_counted_and_the_next_event_still_answered(tmp_path, caplog):
    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path) as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            # The first post and its two bounded retries all fail; the next event's post goes through.
            fake.fail_next("chat.postMessage", status=500, times=3)
            assert await deliver(http, events, mention("Ev1", '{"error": {"id": "session_inactive"}}')) == 200
            assert await metric(http, base, "kratos_bot_post_failures_total 1.0")
            assert fake.posts == [] and len(fake.calls_to("chat.postMessage")) == 3
            assert (
                await deliver(
                    http, events, mention("Ev2", '{"error": {"id": "session_inactive"}}', ts="1700000002.000100")
                )
                == 200
            )
            await fake.wait_for(lambda: fake.posts, 20)

    run(scenario)
    assert any("posting the reply failed: event=Ev1" in r.getMessage() for r in caplog.records)


def test_slack_timeout_is_a_counted_failure(tmp_path):
    async def slow(params):
        await asyncio.sleep(5)
        return {"channel": params.get("channel"), "ts": "1.0"}

    async def scenario():
        async with FakeSlack() as fake:
            fake.on("chat.postMessage", slow)
            async with (
                http_bot(fake, "memory://", tmp_path, KRATOS_BOT_SLACK_TIMEOUT="1") as (events, base, _),
                aiohttp.ClientSession() as http,
            ):
                assert await deliver(http, events, mention("Ev1", '{"error": {"id": "session_inactive"}}')) == 200
                assert await metric(http, base, "kratos_bot_post_failures_total 1.0")
                async with http.get(f"{base}/healthz") as resp:
                    assert resp.status == 200

    run(scenario)


def test_redis_dropping_mid_thread(tmp_path):
    async def scenario(url, proc):
        async with (
            FakeSlack() as fake,
            http_bot(fake, url, tmp_path) as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            root = "1700000000.000100"
            assert await deliver(http, events, mention("Ev1", SEED_TURN, ts=root)) == 200
            await fake.wait_for(lambda: len(fake.posts) == 1, 10)
            # The answer is recorded in Redis just after it is posted; stop Redis only once that is done.
            assert await metric(http, base, "kratos_bot_answer_seconds_count 1.0")
            proc.terminate()
            proc.wait(timeout=10)
            follow = event("Ev2", text="so what should I do with this?", ts="1700000001.000100", thread_ts=root)
            assert await deliver(http, events, follow) == 503  # not handled: Slack will deliver it again
            assert await metric(http, base, "kratos_bot_state_errors_total 1.0")
            assert len(fake.posts) == 1

    with redis_server(tmp_path) as (url, proc):
        run(lambda: scenario(url, proc))


def test_malformed_event_body(tmp_path, caplog):
    async def scenario():
        async with (
            FakeSlack() as fake,
            http_bot(fake, "memory://", tmp_path) as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            for body in (b"{not json", b"", json.dumps({"type": "event_callback"}).encode(), b"\x00\xff" * 100):
                headers = {**FakeSlack.sign(body, "ops-secret"), "Content-Type": "application/json"}
                async with http.post(events, data=body, headers=headers) as resp:
                    assert resp.status < 500
            assert await metric(http, base, 'kratos_bot_events_received_total{kind="malformed"} 2.0')
            assert await deliver(http, events, mention("Ev9", '{"error": {"id": "session_inactive"}}')) == 200
            await fake.wait_for(lambda: fake.posts, 10)

    run(scenario)
    assert sum("malformed event body refused" in r.getMessage() for r in caplog.records) == 2
