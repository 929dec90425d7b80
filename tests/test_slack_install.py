"""OAuth install into several workspaces (bot/slack/install.py), end to end in HTTP mode against the fake
Slack: the install link and Slack's redirect back, one bot token per workspace from the installation store in
the bot's state backend, and token rotation."""

from __future__ import annotations

import contextlib
import re

import aiohttp
import pytest

from bot.pipeline import Triage
from bot.slack.serve import create, http_app
from bot.slack.settings import SettingsError, load_settings
from tests.conftest import loopback
from tests.fakeslack import FakeSlack
from tests.redis_server import redis_server
from tests.test_operations import SECRET, deliver, run
from tests.test_slack_app import mention

ERROR = '{"error": {"id": "session_inactive", "code": 401}}'


@contextlib.asynccontextmanager
async def oauth_bot(fake: FakeSlack, kb, tmp_path, state_url: str):
    settings = load_settings(
        {
            "SLACK_CLIENT_ID": "111.222",
            "SLACK_CLIENT_SECRET": "client-secret",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "STATE_URL": state_url,
            "KRATOS_BOT_FEEDBACK_FILE": str(tmp_path / "f.jsonl"),
        }
    )
    app, rt = create(settings, Triage(kb))
    runner, base = await loopback(http_app(app, rt))
    try:
        yield base, rt
    finally:
        await runner.cleanup()
        await rt.state.close()


async def install(http: aiohttp.ClientSession, base: str, code: str) -> str:
    """A person clicks "Add to Slack", approves, and Slack sends the browser back with a code."""
    async with http.get(f"{base}/slack/install", allow_redirects=False) as resp:
        assert resp.status == 200
        state = re.search(r"state=([0-9a-f]{32})", await resp.text()).group(1)
    cookie = {"Cookie": f"slack-app-oauth-state={state}"}
    async with http.get(f"{base}/slack/oauth_redirect?code={code}&state={state}", headers=cookie) as resp:
        return f"{resp.status} {await resp.text()}"


def _posted_tokens(fake: FakeSlack) -> dict[str, str]:
    return {
        c.params["channel"]: c.headers["authorization"][len("Bearer ") :] for c in fake.calls_to("chat.postMessage")
    }


def test_oauth_mode_needs_both_client_values_and_http_mode():
    with pytest.raises(SettingsError, match="go together"):
        load_settings({"SLACK_CLIENT_ID": "1.2", "SLACK_SIGNING_SECRET": "s"})
    with pytest.raises(SettingsError, match="HTTP mode"):
        load_settings({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x", "SLACK_APP_TOKEN": "xapp-1"})
    assert load_settings({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "x", "SLACK_SIGNING_SECRET": "s"}).oauth


@pytest.mark.parametrize("backend", ["memory", "sqlite", "redis"])
def test_install_into_two_workspaces_and_rotate_their_tokens(kb, tmp_path, backend):
    with contextlib.ExitStack() as stack:
        if backend == "redis":
            state_url, _ = stack.enter_context(redis_server(tmp_path))
        else:
            state_url = "memory://" if backend == "memory" else f"sqlite://{tmp_path}/state.db"
        _install_and_rotate(kb, tmp_path, state_url)


def _install_and_rotate(kb, tmp_path, state_url: str) -> None:
    async def scenario():
        async with (
            FakeSlack() as fake,
            oauth_bot(fake, kb, tmp_path, state_url) as (base, rt),
            aiohttp.ClientSession() as http,
        ):
            fake.token_lifetime = 3600  # within Bolt's 120-minute window: every token is refreshed on first use
            fake.install_codes = {"code-a": ("TA", "Team A", "UBOTA"), "code-b": ("TB", "Team B", "UBOTB")}
            for code in ("code-a", "code-b"):
                outcome = await install(http, base, code)
                assert outcome.startswith("200"), outcome
            installed = {
                t: (await rt.installs.async_find_bot(enterprise_id=None, team_id=t)).bot_token for t in ("TA", "TB")
            }
            assert installed["TA"].startswith("xoxb-TA-") and installed["TB"].startswith("xoxb-TB-")
            # A replayed redirect (the state was used once) installs nothing.
            exchanges = len(fake.calls_to("oauth.v2.access"))
            async with http.get(
                f"{base}/slack/oauth_redirect?code=code-x&state=0123456789abcdef0123456789abcdef",
                headers={"Cookie": "slack-app-oauth-state=0123456789abcdef0123456789abcdef"},
            ) as resp:
                assert resp.status >= 400  # a state the bot never issued: refused before any code exchange
            assert len(fake.calls_to("oauth.v2.access")) == exchanges

            for team, channel in (("TA", "CA"), ("TB", "CB")):
                payload = mention(f"Ev{team}", ERROR, channel=channel, ts="1700000000.000100")
                payload["team_id"] = team
                payload["event"]["text"] = f"<@UBOT{team[-1]}> {ERROR}"
                assert await deliver(http, f"{base}/slack/events", payload) == 200
            await fake.wait_for(lambda: len(fake.posts) == 2, 15)
            tokens = _posted_tokens(fake)
            # Each workspace answered with its own bot token, refreshed (rotation) before use.
            assert tokens["CA"].startswith("xoxb-TA-") and tokens["CB"].startswith("xoxb-TB-")
            assert tokens["CA"] != installed["TA"] and tokens["CB"] != installed["TB"]
            refreshes = [c for c in fake.calls_to("oauth.v2.access") if c.params.get("grant_type") == "refresh_token"]
            assert len(refreshes) == 2
            assert all("session_inactive" in p["text"] for p in fake.posts)

    run(scenario)
