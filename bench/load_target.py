"""Child process of bench.py: the fake Slack and the bot in HTTP mode on loopback. Prints
`READY <events url> <signing secret>`, serves until a line arrives on stdin, then prints what the fake
Slack received as one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
    os.environ.pop(name, None)

from aiohttp import web  # noqa: E402

from bot.slack.serve import create, http_app  # noqa: E402
from bot.slack.settings import load_settings  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402

SECRET = "bench-secret"


async def main() -> None:
    async with FakeSlack() as fake:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "KRATOS_BOT_FEEDBACK_FILE": os.devnull,
            }
        )
        app, rt = create(settings)
        runner = web.AppRunner(http_app(app, rt), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        print(f"READY http://127.0.0.1:{port}/slack/events {SECRET}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        await asyncio.sleep(2)  # let the last replies go out
        per_thread = Counter(p.get("thread_ts") for p in fake.posts)
        print(
            json.dumps({"posts": len(fake.posts), "duplicates": sum(n - 1 for n in per_thread.values() if n > 1)}),
            flush=True,
        )
        await runner.cleanup()


asyncio.run(main())
