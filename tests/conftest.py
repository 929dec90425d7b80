from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import load_knowledge
from bot.pipeline import Triage

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
needs_shared = pytest.mark.skipif(
    not (SHARED / "kratos" / "README.md").is_file(),
    reason="../shared (Kratos reference data and the seed thread) is not next to this checkout",
)


@pytest.fixture(scope="session")
def kb():
    return load_knowledge()


@pytest.fixture
def triage(kb):
    return Triage(kb)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # slack_sdk sends even loopback traffic through a configured proxy (it ignores NO_PROXY): keep every
    # request of the fake-Slack tests on 127.0.0.1.
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(name, raising=False)


async def loopback(web_app):
    """Serve an aiohttp application on a free 127.0.0.1 port: (runner, base URL). The caller cleans up."""
    from aiohttp import web

    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
