"""Issue 10, rows 7, 8 and the replay item of 9, measured again: replies under Slack faults, a Redis burst,
SQLite at 200 events/s, a read-only SQLite file, /readyz on an unwritable store, replayed slash commands and
shortcuts. The bot runs as `kratos-bot serve` builds it (HTTP mode, 127.0.0.1) with the fake Slack of
tests/fakeslack.py; load rows put the bot in a child process. Loopback only, bounded (about 1.5 minutes).

    .venv/bin/python bench/attacks/delivery.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
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

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
for _name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
    os.environ.pop(_name, None)

import aiohttp  # noqa: E402

from tests.fakeslack import FakeSlack, sign  # noqa: E402
from tests.redis_server import free_port, redis_server  # noqa: E402

SECRET = "bench-secret"
ERROR = '{"error": {"id": "session_inactive", "code": 401}}'


def mention(event_id: str, ts: str, text: str = ERROR) -> dict:
    return {
        "type": "event_callback",
        "event_id": event_id,
        "team_id": "T0001",
        "api_app_id": "A1",
        "event": {"type": "app_mention", "user": "U1", "channel": "C1", "ts": ts, "text": f"<@UBOT> {text}"},
    }


async def post(
    http: aiohttp.ClientSession, url: str, body: bytes, content_type: str = "application/json", **headers: str
) -> tuple[int, float]:
    signed = {**sign(body, SECRET), "Content-Type": content_type, **headers}
    started = time.perf_counter()
    async with http.post(url, data=body, headers=signed) as resp:
        await resp.read()
        return resp.status, time.perf_counter() - started


@contextlib.asynccontextmanager
async def bot(fake: FakeSlack, state_url: str, workdir: Path, **env: str):
    """The bot in this process, its outbox worker started as `serve` starts it; yields (events URL, base, rt)."""
    from aiohttp import web

    from bot.slack.serve import create, http_app
    from bot.slack.settings import load_settings

    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "STATE_URL": state_url,
            "KRATOS_BOT_FEEDBACK_FILE": str(workdir / "feedback.jsonl"),
            **env,
        }
    )
    app, rt = create(settings)
    runner = web.AppRunner(http_app(app, rt), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    start = getattr(getattr(rt, "outbox", None), "start", None)
    if start:
        start()
    base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    try:
        yield f"{base}/slack/events", base, rt
    finally:
        await runner.cleanup()
        if getattr(rt, "outbox", None):
            await rt.outbox.stop()
        await rt.state.close()


async def wait(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())


# --- the bot under load (child process) --------------------------------------------------------------------


async def serve_child(state_url: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as fake, bot(fake, state_url, Path(tmp)) as (events, _, _):
            print("READY", events, flush=True)
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
            expected = int(sys.stdin.readline() or 0)
            await wait(lambda: len({p.get("thread_ts") for p in fake.posts}) >= expected, 60)
            await asyncio.sleep(1)
            threads = Counter(p.get("thread_ts") for p in fake.posts)
            print(
                json.dumps({"threads": sorted(threads), "duplicates": sum(n - 1 for n in threads.values())}), flush=True
            )


@contextlib.contextmanager
def child(state_url: str):
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", state_url],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready = proc.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise RuntimeError(f"bot did not start: {ready}")

        def finish(expected: int) -> dict:
            proc.stdin.write(f"STOP\n{expected}\n")
            proc.stdin.flush()
            return json.loads(proc.stdout.readline())

        yield ready[1], finish
    finally:
        proc.kill()
        proc.wait()


# --- row 7: Slack faults ------------------------------------------------------------------------------------


FAULTS = {
    "500 x3": {"status": 500, "times": 3},
    "503 x3": {"status": 503, "times": 3},
    "429 x4": {"status": 429, "retry_after": 1, "times": 4},
    "hanging": {"status": 503, "times": 1, "delay": 4},
    "channel_not_found": {"status": 200, "error": "channel_not_found"},
}


async def one_fault(name: str, fault: dict, workdir: Path) -> str:
    async with (
        FakeSlack() as fake,
        bot(fake, "memory://", workdir, KRATOS_BOT_SLACK_TIMEOUT="1") as (events, base, _),
        aiohttp.ClientSession() as http,
    ):
        fake.fail_next("chat.postMessage", **fault)
        status, _ = await post(http, events, json.dumps(mention("Ev1", "1700000000.000100")).encode())
        permanent = "error" in fault

        async def given_up() -> bool:
            async with http.get(f"{base}/metrics") as resp:
                return 'given_up_total{reason="permanent"} 1.0' in await resp.text()

        if permanent:
            deadline = time.monotonic() + 10
            counted = False
            while time.monotonic() < deadline and not (counted := await given_up()):
                await asyncio.sleep(0.2)
            await asyncio.sleep(3)
            return (
                f"ack {status}; {len(fake.posts)} posted, {len(fake.calls_to('chat.postMessage'))} call(s), "
                f"given up {'and counted' if counted else 'NOT counted'}"
            )
        await wait(lambda: fake.posts, 30)
        await asyncio.sleep(2)
        return f"ack {status}; posted {len(fake.posts)} time(s) after {len(fake.calls_to('chat.postMessage'))} calls"


async def faults(workdir: Path) -> dict[str, str]:
    names = list(FAULTS)
    results = await asyncio.gather(*[one_fault(n, FAULTS[n], workdir / str(i)) for i, n in enumerate(names)])
    return dict(zip(names, results, strict=True))


# --- row 7: a Redis burst -----------------------------------------------------------------------------------


async def burst(url: str, count: int) -> tuple[int, int, Counter]:
    """`count` events at once; a non-200 is delivered again (as Slack does, though sooner), up to 3 times."""
    payloads = [mention(f"EvB{n}", f"1700000000.{n:06d}") for n in range(count)]
    acked: set[str] = set()
    statuses: Counter = Counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=500)) as http:
        pending = payloads
        for attempt in range(4):
            headers = {"X-Slack-Retry-Num": str(attempt)} if attempt else {}
            results = await asyncio.gather(
                *[post(http, url, json.dumps(p).encode(), **headers) for p in pending], return_exceptions=True
            )
            again = []
            for p, result in zip(pending, results, strict=True):
                status = result[0] if isinstance(result, tuple) else "error"
                statuses[status] += 1
                (acked.add(p["event"]["ts"]) if status == 200 else again.append(p))
            pending = again
            if not pending:
                break
            await asyncio.sleep(2)
    return len(acked), len(pending), statuses


# --- row 8: SQLite at 200 events/s --------------------------------------------------------------------------


async def steady(url: str, rate: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    total = int(rate * seconds)

    async def one(http, n):
        body = json.dumps(mention(f"EvS{n}", f"1700000001.{n:06d}")).encode()
        try:
            status, took = await post(http, url, body)
        except (aiohttp.ClientError, OSError):
            status, took = 0, float("inf")
        latencies.append(took if status == 200 else float("inf"))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        start = time.perf_counter()
        tasks = []
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(http, n)))
        await asyncio.wait_for(asyncio.gather(*tasks), seconds + 60)
    return sorted(latencies)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def read_only_start() -> str:
    base = Path(tempfile.mkdtemp(prefix="kratos-bot-ro-"))
    db = base / "state.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    db.chmod(0o444)
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"] if os.geteuid() == 0 else []
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "STATE_URL": f"sqlite:///{db}",
        "PORT": str(free_port()),
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "KRATOS_BOT_FEEDBACK_FILE": os.devnull,
        "PYTHONPATH": str(ROOT),
    }
    try:
        proc = subprocess.Popen(
            [*prefix, sys.executable, "-m", "bot.cli", "serve"],
            env=env,
            cwd=base,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            _, err = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=15)
            lines = [x for x in err.decode().splitlines() if x.strip()]
            return f"started anyway on a read-only file ({len(lines)} log lines), stopped after 15 s"
    finally:
        shutil.rmtree(base, ignore_errors=True)
    lines = [x for x in err.decode().splitlines() if x.strip()]
    how = "SIGBUS" if proc.returncode == -signal.SIGBUS else f"exit {proc.returncode}"
    first = lines[0][:90] + "…" if lines else "(nothing)"
    return f"{how}, {len(lines)} stderr line(s): {first}"


async def readyz_unwritable(workdir: Path) -> str:
    path = workdir / "ready.db"
    async with (
        FakeSlack() as fake,
        bot(fake, f"sqlite://{path}", workdir) as (_, base, _),
        aiohttp.ClientSession() as http,
    ):
        async with http.get(f"{base}/readyz") as resp:
            before = resp.status
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            async with http.get(f"{base}/readyz") as resp:
                locked = resp.status
        finally:
            other.execute("ROLLBACK")
            other.close()
    return f"writable: {before}; write-locked by another process: {locked}"


# --- row 9: replays -----------------------------------------------------------------------------------------


async def replays(workdir: Path) -> tuple[int, int]:
    async with FakeSlack() as fake, bot(fake, "memory://", workdir) as (events, _, _), aiohttp.ClientSession() as http:
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
        for _ in range(2):  # the request, then its replay with the same signature headers
            await post(http, events, command, form)
            await post(http, events, shortcut, form)
        await wait(lambda: fake.responses and fake.posts, 15)
        await asyncio.sleep(2)
        return len(fake.responses), len(fake.posts)


# --- the table ----------------------------------------------------------------------------------------------


async def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, result in (await faults(work / "faults")).items():
            rows.append(("7", f"chat.postMessage {name}", "acked, reply never posted nor retried", result))

        with redis_server(work) as (url, _), child(url) as (events, finish):
            count = 4000
            acked, unacked, statuses = await burst(events, count)
            seen = finish(acked)
            answered = len(seen["threads"])
            rows.append(
                (
                    "7",
                    f"Redis burst, {count} events at once, default pool",
                    "77 of 4000 acked and never answered",
                    f"{acked - answered} of {acked} acked and never answered; {unacked} never acked; "
                    f"{seen['duplicates']} duplicate replies; statuses {dict(statuses)}",
                )
            )

        # The same load against the memory store tells what of the ack latency is the store's and what is
        # the process's own (one event loop, triage threads sharing the GIL, the fake Slack in that process).
        for what, url, seconds, before in (
            ("SQLite", f"sqlite://{work}/load.db", 15, "p50 2.0 s, p99 5.1 s, 1,194-2,466 past 3 s"),
            ("memory:// (reference)", "memory://", 6, "-"),
        ):
            with child(url) as (events, finish):
                lat = await steady(events, 200, seconds)
                finish(0)
            late = sum(1 for x in lat if x > 3.0)
            rows.append(
                (
                    "8",
                    f"{what}, 200 events/s for {seconds} s: ack p50 / p99 / past 3 s",
                    before,
                    f"p50 {pct(lat, 50) * 1000:.1f} ms, p99 {pct(lat, 99) * 1000:.1f} ms, "
                    f"{late} of {len(lat)} past 3 s",
                )
            )
        rows.append(("8", "read-only SQLite file at start-up", "SIGBUS, no log line", read_only_start()))
        rows.append(
            (
                "8",
                "/readyz when the store cannot be written",
                "200 (never checks a write)",
                await readyz_unwritable(work),
            )
        )
        responses, posts = await replays(work / "replay")
        rows.append(("9", "signed slash command, then its replay", "answered twice", f"answered {responses}x"))
        rows.append(("9", "signed shortcut, then its replay", "answered twice", f"answered {posts}x"))

    widths = [max(len(r[i]) for r in rows + [("row", "what", "before (issue)", "now")]) for i in range(3)]
    print(f"{'row':<{widths[0]}} | {'what':<{widths[1]}} | {'before (issue)':<{widths[2]}} | now")
    print("-" * (sum(widths) + 20))
    for r in rows:
        print(f"{r[0]:<{widths[0]}} | {r[1]:<{widths[1]}} | {r[2]:<{widths[2]}} | {r[3]}")


if __name__ == "__main__":
    # The bot's own warnings (failed posts, refusals) would bury the table; the figures are the output.
    logging.disable(logging.CRITICAL)
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        asyncio.run(serve_child(sys.argv[2]))
    else:
        asyncio.run(main())
