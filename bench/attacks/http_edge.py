"""Issue 10, rows 5, 6 and the HTTP items of 9, measured again: the bot in HTTP mode (the runner and
applications `kratos-bot serve` uses, bound to 127.0.0.1) in a child process, a fake Slack and the attackers in
this one. Loopback only, bounded in count and time (about 1.5 minutes).

    .venv/bin/python bench/attacks/http_edge.py
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
for _name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
    os.environ.pop(_name, None)

import aiohttp  # noqa: E402

from tests.fakeslack import FakeSlack, sign  # noqa: E402

SECRET = "bench-secret"
ADMIN = "bench-admin"
NEAR_LIMIT = 2 * 1024 * 1024 - 100
COOKIE = "ory_kratos_session=MTc0OTAyODM3N3xncTJXMGdUQjIyb2JVbnNnaUx6U2FNWFc3dV9mRDAyZTQ1VFF4"
PASSWORD = "123SupperPassword2025$"


# --- the bot (child process) ------------------------------------------------------------------------------


async def serve_child(port: int, api_url: str) -> None:

    from bot.logs import configure
    from bot.slack.serve import create, start_sites
    from bot.slack.settings import load_settings

    configure("INFO")
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "KRATOS_BOT_ADMIN_TOKEN": ADMIN,
            "PORT": str(port),
            "KRATOS_BOT_FEEDBACK_FILE": os.devnull,
        }
    )
    app, rt = create(settings)
    runners = await start_sites(app, rt, settings, "127.0.0.1")
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for runner in runners:
        await runner.cleanup()


class Bot:
    def __init__(self, api_url: str, log_path: Path, nofile: int | None = None) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = log_path.open("wb")

        def limit() -> None:
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(self.port), api_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            preexec_fn=limit,
            cwd=ROOT,
        )
        line = self.proc.stdout.readline()
        if not line.startswith(b"READY"):
            raise SystemExit(f"bot did not start: {line!r}\n{log_path.read_text()[-2000:]}")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log_bytes(self) -> int:
        self.log.flush()
        return self.log_path.stat().st_size

    def stop(self) -> None:
        try:
            self.proc.stdin.write(b"\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.log.close()


# --- attackers ---------------------------------------------------------------------------------------------


def head(extra: dict[str, str], length: int = NEAR_LIMIT) -> bytes:
    lines = [
        "POST /slack/events HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def slow_sender(port: int, headers: dict[str, str], until: float) -> None:
    """Announce a body just under 2 MiB and trickle it; reconnect whenever the bot hangs up."""
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            fresh = {k: (str(int(time.time())) if v == "<now>" else v) for k, v in headers.items()}
            writer.write(head(fresh) + b'{"type": "event_callback", "event": {"text": "')
            while time.monotonic() < until and not reader.at_eof():
                writer.write(b"x" * 1024)
                await writer.drain()
                await asyncio.sleep(0.25)
            writer.close()
        except (ConnectionError, OSError):
            await asyncio.sleep(0.05)


async def peak_rss(bot: Bot, connections: int, headers: dict[str, str], seconds: float = 8.0) -> float:
    until = time.monotonic() + seconds
    senders = [asyncio.create_task(slow_sender(bot.port, headers, until)) for _ in range(connections)]
    peak = 0.0
    while time.monotonic() < until:
        peak = max(peak, bot.rss_mb())
        await asyncio.sleep(0.2)
    await asyncio.gather(*senders, return_exceptions=True)
    return peak


def event_body(event_id: str, text: str) -> dict:
    return {
        "type": "event_callback",
        "event_id": event_id,
        "team_id": "T0001",
        "api_app_id": "A1",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": "U1",
            "channel": "C1",
            "text": f"<@UBOT> {text}",
            "ts": f"{time.time():.6f}",
        },
    }


async def deliver(
    http: aiohttp.ClientSession, url: str, payload: dict, secret: str = SECRET, timeout: float = 30, **extra: str
) -> int:
    body = json.dumps(payload).encode()
    headers = {**sign(body, secret), "Content-Type": "application/json", **extra}
    try:
        async with http.post(
            f"{url}/slack/events", data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as resp:
            return resp.status
    except (TimeoutError, aiohttp.ClientError):
        return 0


# --- rows ---------------------------------------------------------------------------------------------------


async def row5(fake: FakeSlack, tmp: Path, rows: list) -> None:
    bot = Bot(fake.api_url, tmp / "bot5.log")
    try:
        idle = bot.rss_mb()
        for n in (100, 300):
            rss = await peak_rss(bot, n, {})
            rows.append(
                (
                    "5",
                    f"RSS, {n} slow unsigned ~2 MiB bodies (8 s, reconnecting)",
                    "304 MB" if n == 100 else "764 MB",
                    f"{rss:.0f} MB (idle {idle:.0f} MB)",
                )
            )
        forged = {"X-Slack-Signature": "v0=" + "ab" * 32, "X-Slack-Request-Timestamp": "<now>"}
        rss = await peak_rss(bot, 300, forged)
        rows.append(("5", "RSS, 300 slow ~2 MiB bodies with forged well-shaped signatures", "-", f"{rss:.0f} MB"))
    finally:
        bot.stop()
    # Idle connections on a bot with 256 file descriptors, then 15 real events.
    bot = Bot(fake.api_url, tmp / "bot5fd.log", nofile=256)
    try:
        held = []
        for _ in range(300):
            try:
                held.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", bot.port), 0.5))
            except (TimeoutError, OSError):
                break
        before = len(fake.posts)
        async with aiohttp.ClientSession() as http:
            ids = [f"EvFd{i}" for i in range(15)]
            started = time.perf_counter()

            async def one(event_id: str) -> tuple[int, float]:
                payload = event_body(event_id, '{"error": {"id": "session_inactive"}}')
                status = await deliver(http, bot.url, payload, timeout=40)
                return status, time.perf_counter() - started

            results = await asyncio.gather(*(one(i) for i in ids))
            statuses = [status for status, _ in results]
            slowest = max(seconds for _, seconds in results)
        deadline = time.monotonic() + 40
        while len(fake.posts) - before < 15 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        answered = len(fake.posts) - before
        acked = sum(s == 200 for s in statuses)
        rows.append(
            (
                "5",
                f"{len(held)} idle connections held (fd limit 256), then 15 events",
                "15 acked, 0 answered",
                f"{acked} acked (slowest {slowest:.1f} s), {answered} answered",
            )
        )
        for _, writer in held:
            writer.close()
    finally:
        bot.stop()


async def row6_and_9(fake: FakeSlack, tmp: Path, rows: list) -> None:
    bot = Bot(fake.api_url, tmp / "bot6.log")
    try:
        async with aiohttp.ClientSession() as http:
            # /readyz while Slack refuses the token: how many auth.test calls do 100 GETs cause?
            fake.fail_next("auth.test", status=200, error="invalid_auth", times=10_000)
            calls = len(fake.calls_to("auth.test"))
            for _ in range(100):
                async with http.get(f"{bot.url}/readyz") as resp:
                    await resp.read()
            rows.append(
                (
                    "9",
                    "auth.test calls for 100 GETs of /readyz (Slack failing)",
                    "100",
                    str(len(fake.calls_to("auth.test")) - calls),
                )
            )
            fake._faults.pop("auth.test", None)

            # Log flood: bad signatures with large bodies for 15 s.
            start_bytes = bot.log_bytes()
            big = json.dumps(event_body("EvFlood", COOKIE + " " + PASSWORD + " " + "y" * 400_000)).encode()
            bad = {**sign(big, "not-the-secret"), "Content-Type": "application/json"}
            sent = 0
            until = time.monotonic() + 15

            async def flood() -> None:
                nonlocal sent
                while time.monotonic() < until:
                    async with http.post(f"{bot.url}/slack/events", data=big, headers=bad) as resp:
                        await resp.read()
                    sent += 1

            await asyncio.gather(*(flood() for _ in range(8)))
            rows.append(
                (
                    "6",
                    f"log bytes, 15 s of bad-signature ~400 KB requests ({sent} sent)",
                    "868 MB",
                    f"{bot.log_bytes() - start_bytes} B",
                )
            )

            # A real event signed with a rotated secret, and the same event signed right.
            payload = event_body("EvRotated", f"curl -H 'cookie: {COOKIE}' --data 'password={PASSWORD}'")
            status = await deliver(http, bot.url, payload, secret="the-old-secret")
            await deliver(http, bot.url, event_body("EvRight", payload["event"]["text"]))
            await asyncio.sleep(1.0)
            text = bot.log_path.read_text(errors="replace")
            leaks = sum(line.count("MTc0OTAy") + line.count("SupperPassword") for line in text.splitlines())
            rows.append(("6", f"cookie/password occurrences in the log (rotated secret: {status})", ">0", str(leaks)))

            # Junk before the signature check.
            statuses = set()
            for body, ctype in (
                (b"[]", "application/json"),
                (b"null", "application/json"),
                (b"[" * 100_000 + b"]" * 100_000, "application/json"),
                (b"{}", "application/json; charset=x-nope"),
            ):
                async with http.post(f"{bot.url}/slack/events", data=body, headers={"Content-Type": ctype}) as resp:
                    statuses.add(resp.status)
                signed = {**sign(body, SECRET), "Content-Type": ctype}
                async with http.post(f"{bot.url}/slack/events", data=body, headers=signed) as resp:
                    statuses.add(resp.status)
            rows.append(
                (
                    "9",
                    "unsigned/signed [] null deep-JSON bad-charset: statuses",
                    "500",
                    ",".join(map(str, sorted(statuses))),
                )
            )
            abc = {**sign(b"{}", SECRET), "X-Slack-Request-Timestamp": "abc"}
            async with http.post(f"{bot.url}/slack/events", data=b"{}", headers=abc) as resp:
                rows.append(("9", "X-Slack-Request-Timestamp: abc", "500", str(resp.status)))

            # /admin/reload.
            results = []
            for value in (ADMIN, "Bearer äöü"):
                reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
                writer.write(
                    b"POST /admin/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nAuthorization: "
                    + value.encode()
                    + b"\r\n\r\n"
                )
                results.append(int((await reader.readline()).split()[1]))
                writer.close()
            rows.append(
                (
                    "9",
                    "/admin/reload: token without Bearer / non-ASCII token",
                    "200 / 500",
                    " / ".join(map(str, results)),
                )
            )
            reload = asyncio.create_task(
                http.post(f"{bot.url}/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
            )
            worst = 0.0
            for i in range(20):
                started = time.perf_counter()
                await deliver(http, bot.url, event_body(f"EvReload{i}", "hello"))
                worst = max(worst, time.perf_counter() - started)
                await asyncio.sleep(0.025)
            (await reload).close()
            rows.append(("9", "slowest ack while a reload runs", "420 ms", f"{worst * 1000:.0f} ms"))

            # Retry reasons: 20,000 replays (bounded to 30 s) with made-up reasons.
            first = event_body("EvRetry", "hello")
            await deliver(http, bot.url, first)
            sent = 0
            until = time.monotonic() + 30

            async def replay() -> None:
                nonlocal sent
                while sent < 20_000 and time.monotonic() < until:
                    sent += 1
                    await deliver(
                        http,
                        bot.url,
                        first,
                        **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": f"r{random.random()}"},
                    )

            await asyncio.gather(*(replay() for _ in range(32)))
            async with http.get(f"{bot.url}/metrics") as resp:
                size = len(await resp.read())
            rows.append(
                (
                    "9",
                    f"/metrics size after {sent} replays with made-up retry reasons",
                    "10.6 MB",
                    f"{size / 1024:.0f} KB",
                )
            )
    finally:
        bot.stop()


async def main() -> None:
    rows: list[tuple[str, str, str, str]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlack() as fake:
            await row5(fake, Path(tmp), rows)
            await row6_and_9(fake, Path(tmp), rows)
    width = max(len(r[1]) for r in rows)
    print(f"{'row':<4} {'what':<{width}}  {'before (issue)':<22} now")
    for row, what, before, now in rows:
        print(f"{row:<4} {what:<{width}}  {before:<22} {now}")
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        asyncio.run(serve_child(int(sys.argv[2]), sys.argv[3]))
    else:
        asyncio.run(main())
