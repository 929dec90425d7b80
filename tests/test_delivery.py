"""Nothing acknowledged is lost (issue 10, rows 7, 8 and the replay item of row 9): replies go through a
durable outbox and arrive exactly once however Slack fails; Redis bursts wait for a pool connection; SQLite
dedupe never waits on the disk, an unwritable database stops start-up with one line, /readyz checks that the
store takes a write; slash commands and shortcuts replayed within the signature window are answered once.

Slack is tests/fakeslack.py on loopback, Redis a real redis-server, SQLite a real file."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bot.kb.loader import load_knowledge
from bot.pipeline import Triage
from bot.slack.outbox import METADATA_TYPE, channel_item
from bot.slack.serve import create, http_app
from bot.slack.settings import load_settings
from bot.state import open_state
from tests.conftest import ROOT
from tests.fakeslack import FakeSlack
from tests.redis_server import free_port, redis_server
from tests.test_faults import metric
from tests.test_slack_app import mention

SECRET = "delivery-secret"
ERROR = '{"error": {"id": "session_inactive", "code": 401}}'


@pytest.fixture(scope="module")
def triage():
    return Triage(load_knowledge())


@contextlib.asynccontextmanager
async def bot(fake: FakeSlack, state_url: str, tmp_path: Path, triage: Triage, **env: str):
    """One replica in HTTP mode on loopback, its outbox worker running as `kratos-bot serve` runs it;
    yields (events URL, base URL, runtime)."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "STATE_URL": state_url,
            "KRATOS_BOT_FEEDBACK_FILE": str(tmp_path / "feedback.jsonl"),
            **env,
        }
    )
    app, rt = create(settings, triage)
    runner = web.AppRunner(http_app(app, rt))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rt.outbox.start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        yield f"{base}/slack/events", base, rt
    finally:
        await runner.cleanup()
        await rt.outbox.stop()
        await rt.state.close()


async def post(http: aiohttp.ClientSession, url: str, body: bytes, content_type: str, **headers: str) -> int:
    signed = {**FakeSlack.sign(body, SECRET), "Content-Type": content_type, **headers}
    async with http.post(url, data=body, headers=signed) as resp:
        return resp.status


async def deliver(http: aiohttp.ClientSession, url: str, payload: dict, **headers: str) -> int:
    return await post(http, url, json.dumps(payload).encode(), "application/json", **headers)


def run(scenario, timeout: float = 90):
    asyncio.run(asyncio.wait_for(scenario(), timeout=timeout))


def per_thread(fake: FakeSlack) -> Counter:
    return Counter(p.get("thread_ts") for p in fake.posts)


# ---------------------------------------------------------------- row 7: Slack faults


@pytest.mark.parametrize(
    "fault, calls",
    [
        # slack_sdk's own two retries on 500/503 fail as well; the outbox tries again later.
        ({"status": 500, "times": 3}, 4),
        ({"status": 503, "times": 3}, 4),
        # Four 429s in a row: each one's Retry-After is waited out, then the fifth call goes through.
        ({"status": 429, "retry_after": 1, "times": 4}, 5),
        # A hanging Slack: the call times out (nothing was posted), the outbox tries again.
        ({"status": 503, "times": 1, "delay": 4}, 2),
    ],
    ids=["500x3", "503x3", "429x4", "hang"],
)
def test_post_faults_end_in_exactly_one_reply(tmp_path, triage, fault, calls):
    async def scenario():
        async with (
            FakeSlack() as fake,
            bot(fake, "memory://", tmp_path, triage, KRATOS_BOT_SLACK_TIMEOUT="1") as (events, base, _),
            aiohttp.ClientSession() as http,
        ):
            fake.fail_next("chat.postMessage", **fault)
            assert await deliver(http, events, mention("Ev1", ERROR)) == 200
            await fake.wait_for(lambda: fake.posts, 40)
            await asyncio.sleep(1.5)  # room for a wrong second post
            assert len(fake.posts) == 1 and fake.posts[0]["thread_ts"] == "1700000000.000100"
            assert "session_inactive" in json.dumps(fake.posts[0])
            assert len(fake.calls_to("chat.postMessage")) == calls
            assert await metric(http, base, "kratos_bot_outbox_retries_total")
            assert not await metric(http, base, "kratos_bot_outbox_given_up_total{", wait=0)

    run(scenario)


def test_rate_limit_retries_wait_for_retry_after(tmp_path, triage):
    """Slack keeps answering 429 with Retry-After: 1. No call comes sooner than that after the previous
    one (a lower bound on the gaps, seen by polling every 5 ms, not a timing budget), and the fifth one
    posts the reply."""

    async def scenario():
        async with (
            FakeSlack() as fake,
            bot(fake, "memory://", tmp_path, triage) as (events, _, _),
            aiohttp.ClientSession() as http,
        ):
            fake.fail_next("chat.postMessage", status=429, retry_after=1, times=4)
            assert await deliver(http, events, mention("Ev1", ERROR)) == 200
            seen = []
            for n in range(1, 6):
                await fake.wait_for(lambda n=n: len(fake.calls_to("chat.postMessage")) >= n, 20, interval=0.005)
                seen.append(time.monotonic())
            await fake.wait_for(lambda: fake.posts, 5)
            assert all(later - earlier >= 0.9 for earlier, later in zip(seen, seen[1:], strict=False))

    run(scenario)


def test_permanent_error_is_given_up_not_retried(tmp_path, triage, caplog):
    async def scenario():
        async with (
            FakeSlack() as fake,
            bot(fake, "memory://", tmp_path, triage) as (events, base, rt),
            aiohttp.ClientSession() as http,
        ):
            fake.fail_next("chat.postMessage", status=200, error="channel_not_found")
            assert await deliver(http, events, mention("Ev1", ERROR)) == 200
            assert await metric(http, base, 'kratos_bot_outbox_given_up_total{reason="permanent"} 1.0')
            await asyncio.sleep(3)  # longer than the first backoff: a retry would have happened
            assert fake.posts == [] and len(fake.calls_to("chat.postMessage")) == 1
            assert await rt.state.outbox_claim("probe", 1, 10) == []

    run(scenario)
    assert any("reply given up" in r.getMessage() and "channel_not_found" in r.getMessage() for r in caplog.records)


def test_post_that_reached_slack_before_a_timeout_is_not_posted_again(tmp_path, triage):
    """Slack took the message but answered too late: the retry finds it (by its metadata) and stops."""

    async def scenario():
        async with (
            FakeSlack() as fake,
            bot(fake, "memory://", tmp_path, triage, KRATOS_BOT_SLACK_TIMEOUT="1") as (events, _, _),
            aiohttp.ClientSession() as http,
        ):
            slow = [True]

            async def post_then_hang(params):
                result = builtin(params)
                if slow[0]:
                    slow[0] = False
                    await asyncio.sleep(1.5)  # the message is in; the answer comes after the client gave up
                return result

            builtin = fake.on("chat.postMessage", post_then_hang)
            assert await deliver(http, events, mention("Ev1", ERROR)) == 200
            await fake.wait_for(lambda: fake.calls_to("conversations.replies"), 20)
            await asyncio.sleep(2)
            assert len(fake.posts) == 1
            assert fake.posts[0]["metadata"] == {
                "event_type": METADATA_TYPE,
                "event_payload": {"key": "Ev1", "part": 0},
            }

    run(scenario)


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_unposted_reply_survives_a_restart(tmp_path, triage, backend):
    """Slack is down while the first process runs; the reply waits in the store and the next process
    posts it (once) on start-up, before any new event arrives."""

    async def scenario(url):
        async with FakeSlack() as down:
            down.fail_next("chat.postMessage", status=503, times=10_000)
            async with bot(down, url, tmp_path, triage) as (events, base, _), aiohttp.ClientSession() as http:
                assert await deliver(http, events, mention("Ev1", ERROR)) == 200
                assert await metric(http, base, "kratos_bot_outbox_retries_total 1.0")
        async with FakeSlack() as up, bot(up, url, tmp_path, triage) as (_, _, rt):
            await up.wait_for(lambda: up.posts, 30)
            await asyncio.sleep(1.5)
            assert len(up.posts) == 1 and "session_inactive" in json.dumps(up.posts[0])
            await up.wait_for(lambda: _empty(rt), 10)

    if backend == "sqlite":
        run(lambda: scenario(f"sqlite://{tmp_path}/state.db"))
    else:
        with redis_server(tmp_path) as (url, _):
            run(lambda: scenario(url))


async def _empty(rt) -> bool:
    return await rt.state.outbox_claim("probe", 0, 10) == []


def test_crash_after_slack_took_the_post_is_not_posted_again(tmp_path, triage):
    """A process died after Slack took the message and before the outbox heard of it: what it left is an
    item still marked as being posted. The next process looks the part up in the thread and does not post it
    a second time."""
    url = f"sqlite://{tmp_path}/state.db"

    async def scenario():
        async with FakeSlack() as fake:
            payloads = [{"text": "the answer", "blocks": []}]
            item = {
                **channel_item("C1", "1700000000.000100", payloads, "Ev1"),
                "sent": 0,
                "attempts": 1,
                "created": time.time(),
                "unsure": 0,
            }
            state = open_state(url, tmp_path / "f")
            assert await state.outbox_put("Ev1", item, "dead-process", 0)
            await state.close()
            client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
            metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": "Ev1", "part": 0}}
            await client.chat_postMessage(channel="C1", thread_ts="1700000000.000100", metadata=metadata, **payloads[0])
            async with bot(fake, url, tmp_path, triage) as (_, _, rt):
                await fake.wait_for(lambda: fake.calls_to("conversations.replies"), 10)
                await fake.wait_for(lambda: _empty(rt), 10)
                assert len(fake.posts) == 1

    run(scenario)


def test_one_claim_per_item_across_replicas(tmp_path):
    """Two replicas on one Redis racing for the same due items: each item goes to exactly one of them, and
    a replica whose lease was taken over can no longer write the item."""

    async def scenario(url):
        a, b = open_state(url, tmp_path / "a"), open_state(url, tmp_path / "b")
        try:
            for n in range(20):
                assert await a.outbox_put(f"k{n}", {"n": n}, "nobody", 0)
            assert not await b.outbox_put("k0", {"n": 0}, "nobody", 0)  # one item per key
            claims = await asyncio.gather(*[s.outbox_claim(f"{s is a}-{i}", 60, 3) for i in range(10) for s in (a, b)])
            keys = [key for claim in claims for key, _ in claim]
            assert sorted(keys) == sorted(f"k{n}" for n in range(20))
            owner = next(
                f"{s is a}-{i}"
                for i in range(10)
                for s in (a, b)
                if any(k == "k0" for k, _ in claims[i * 2 + (s is b)])
            )
            assert await a.outbox_save("k0", owner, {"n": 0, "sent": 1}, None)
            assert not await b.outbox_save("k0", "someone-else", {"n": 0}, None)
            assert await b.outbox_save("k0", owner, {"n": 0}, time.time() - 1)  # released, due now
            [(key, _)] = await b.outbox_claim("second", 60, 5)
            assert key == "k0" and not await a.outbox_save("k0", owner, {}, None)
        finally:
            await a.close()
            await b.close()

    with redis_server(tmp_path) as (url, _):
        asyncio.run(scenario(url))


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_outbox_contract(tmp_path, backend):
    """Every backend: one item per key, a claimed item is nobody else's until its lease ends or it is
    released, and only the current owner writes or removes it."""

    async def scenario(url):
        state = open_state(url, tmp_path / "f")
        try:
            assert await state.outbox_put("k", {"v": 1}, "a", 60)
            assert not await state.outbox_put("k", {"v": 2}, "b", 0)
            assert await state.outbox_claim("b", 60, 10) == []  # leased to "a"
            assert not await state.outbox_save("k", "b", {"v": 3}, None)
            assert await state.outbox_save("k", "a", {"v": 4}, time.time() - 1)  # released, due now
            assert await state.outbox_claim("b", 60, 10) == [("k", {"v": 4})]
            assert not await state.outbox_save("k", "a", {"v": 5}, None)  # "a" lost it
            await state.outbox_done("k", "a")  # not the owner: no effect
            assert await state.outbox_save("k", "b", {"v": 6}, time.time() - 1)
            [(_, item)] = await state.outbox_claim("c", 0, 10)  # a zero lease: due again at once
            assert item == {"v": 6}
            await state.outbox_done("k", "c")
            assert await state.outbox_claim("d", 60, 10) == []
        finally:
            await state.close()

    if backend == "redis":
        with redis_server(tmp_path) as (url, _):
            asyncio.run(scenario(url))
    else:
        asyncio.run(scenario("memory://" if backend == "memory" else f"sqlite://{tmp_path}/state.db"))


# ---------------------------------------------------------------- row 7: Redis pool under a burst


def test_redis_burst_with_a_small_pool_loses_nothing(tmp_path, triage):
    """Many events at once through a pool of 4 connections: every state call waits its turn. Anything not
    acknowledged with 200 is delivered again, as Slack does; in the end every event has exactly one reply."""
    count = 300

    async def scenario(url):
        async with (
            FakeSlack() as fake,
            bot(fake, url, tmp_path, triage, KRATOS_BOT_REDIS_POOL="4") as (events, _, _),
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            payloads = [mention(f"EvB{n}", ERROR, ts=f"1700000000.{n:06d}") for n in range(count)]
            statuses = await asyncio.gather(*[deliver(http, events, p) for p in payloads])
            for attempt in range(1, 4):
                again = [p for p, s in zip(payloads, statuses, strict=True) if s != 200]
                if not again:
                    break
                statuses = await asyncio.gather(
                    *[deliver(http, events, p, **{"X-Slack-Retry-Num": str(attempt)}) for p in again]
                )
                payloads = again
            await fake.wait_for(lambda: len(fake.posts) >= count, 60)
            await asyncio.sleep(1.5)
            threads = per_thread(fake)
            assert len(threads) == count and set(threads.values()) == {1}

    with redis_server(tmp_path) as (url, _):
        run(lambda: scenario(url), timeout=150)


# ---------------------------------------------------------------- row 8: SQLite


def test_sqlite_dedupe_does_not_wait_on_a_locked_database(tmp_path):
    """Another writer holds the database: dedupe (which runs before the ack) still answers at once, and the
    event ids reach the file once the lock is gone."""
    path = tmp_path / "state.db"

    async def scenario():
        state = open_state(f"sqlite://{path}", tmp_path / "f")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            assert await asyncio.wait_for(state.first_delivery("Ev1"), 1.0) is True
            assert await asyncio.wait_for(state.first_delivery("Ev1"), 1.0) is False
            assert await state.ping() is False  # the store cannot take a write right now
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert await state.ping() is True
        await state.close()
        again = open_state(f"sqlite://{path}", tmp_path / "f")
        try:
            assert await again.first_delivery("Ev1") is False  # kept across the restart
        finally:
            await again.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def _unwritable(kind: str) -> tuple[Path, list[str]]:
    """A state.db nobody may write (file or directory read-only), and the command prefix to run the child
    with: root writes to read-only files, so as root the child runs without CAP_DAC_OVERRIDE."""
    base = Path(tempfile.mkdtemp(prefix="kratos-bot-ro-"))
    base.chmod(0o755)
    db = base / "state.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    db.chmod(0o444)
    if kind == "directory":
        base.chmod(0o555)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root and setpriv (util-linux) is missing: root could write the file")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    return db, prefix


@pytest.mark.parametrize("kind", ["file", "directory"])
def test_read_only_sqlite_stops_startup_with_one_line(kind):
    db, prefix = _unwritable(kind)
    env = {k: v for k, v in os.environ.items() if "PROXY" not in k.upper()}
    env.update(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "STATE_URL": f"sqlite:///{db}",
            "PORT": str(free_port()),
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "HOME": str(db.parent),
            "KRATOS_BOT_FEEDBACK_FILE": os.devnull,
            "PYTHONPATH": str(ROOT),
        }
    )
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "bot.cli", "serve"], env=env, capture_output=True, timeout=60, cwd=db.parent
        )
    finally:
        db.parent.chmod(0o755)
        shutil.rmtree(db.parent, ignore_errors=True)
    stderr = proc.stderr.decode()
    assert proc.returncode != -signal.SIGBUS
    assert proc.returncode == 2, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "STATE_URL" in lines[0] and str(db) in lines[0], stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_readyz_fails_when_the_store_cannot_be_written(tmp_path, triage, backend):
    """The store still answers reads (SQLite: another process holds the write lock; Redis: it became a
    read-only replica), but a reply could not be queued or an event marked: not ready."""

    async def scenario(url, make_unwritable):
        async with (
            FakeSlack() as fake,
            bot(fake, url, tmp_path, triage) as (_, base, _),
            aiohttp.ClientSession() as http,
        ):
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200, await resp.text()
            undo = make_unwritable()
            try:
                async with http.get(f"{base}/readyz") as resp:
                    assert resp.status == 503 and (await resp.json())["state"] is False
            finally:
                undo()
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200

    if backend == "sqlite":
        path = tmp_path / "state.db"

        def lock():
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN EXCLUSIVE")
            return lambda: (other.execute("ROLLBACK"), other.close())

        run(lambda: scenario(f"sqlite://{path}", lock))
    else:
        import redis

        with redis_server(tmp_path) as (url, _):
            admin = redis.Redis.from_url(url)

            def read_only():
                admin.execute_command("REPLICAOF", "127.0.0.1", str(free_port()))
                return lambda: admin.execute_command("REPLICAOF", "NO", "ONE")

            try:
                run(lambda: scenario(url, read_only))
            finally:
                admin.close()


# ---------------------------------------------------------------- row 9: replayed commands and shortcuts


def test_replayed_slash_command_and_shortcut_are_answered_once(tmp_path, triage):
    """The same signed request sent again within the 5-minute window (a replay, or a proxy's retry)."""

    async def scenario():
        async with (
            FakeSlack() as fake,
            bot(fake, "memory://", tmp_path, triage) as (events, _, _),
            aiohttp.ClientSession() as http,
        ):
            command = urllib.parse.urlencode(
                {
                    "token": "x",
                    "team_id": "T0001",
                    "channel_id": "C1",
                    "user_id": "U3",
                    "command": "/kratos",
                    "text": "what is the purpose of passwordless_enabled?",
                    "api_app_id": "A1",
                    "response_url": fake.new_response_url(),
                    "trigger_id": "1111.2222.abc",
                }
            ).encode()
            shortcut = urllib.parse.urlencode(
                {
                    "payload": json.dumps(
                        {
                            "type": "message_action",
                            "callback_id": "triage_message",
                            "trigger_id": "3333.4444.def",
                            "team": {"id": "T0001"},
                            "api_app_id": "A1",
                            "user": {"id": "U4"},
                            "channel": {"id": "C2"},
                            "response_url": fake.new_response_url(),
                            "message": {"ts": "1700000005.000100", "text": ERROR},
                        }
                    )
                }
            ).encode()
            form = "application/x-www-form-urlencoded"
            for _ in range(3):
                assert await post(http, events, command, form) == 200
                assert await post(http, events, shortcut, form) == 200
            await fake.wait_for(lambda: fake.responses and fake.posts, 20)
            await asyncio.sleep(1.5)
            assert len(fake.responses) == 1 and len(fake.posts) == 1
            assert fake.posts[0]["channel"] == "C2"

    run(scenario)
