"""Installing the bot into several workspaces with Slack's OAuth flow (Bolt's `AsyncOAuthSettings`): the
installations and the OAuth `state` values live in the bot's own state store (memory, SQLite, Redis), so
every replica sees every workspace, and token rotation's refreshed tokens are saved where all replicas read
them. Without SLACK_CLIENT_ID / SLACK_CLIENT_SECRET the bot runs with one SLACK_BOT_TOKEN, as before."""

from __future__ import annotations

import logging
import uuid

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.state import State

log = logging.getLogger("kratos_bot.slack")
STATE_TTL = 600  # seconds an OAuth `state` value stays valid (Bolt's default)
# What the bot asks for at install; the same list as deploy/slack-app-manifest.yaml (tests/test_deploy.py).
SCOPES = (
    "app_mentions:read",
    "chat:write",
    "chat:write.public",
    "channels:history",
    "groups:history",
    "im:history",
    "mpim:history",
    "files:read",
    "commands",
    "reactions:write",
    "users:read",
)


def _key(kind: str, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str:
    # An org-wide install answers for every workspace of the enterprise: no team in its key.
    team = "" if is_enterprise_install else (team_id or "")
    return f"install:{kind}:{enterprise_id or ''}:{team}"


class StateInstallationStore(AsyncInstallationStore):
    """The latest installation and bot of each workspace (or enterprise), kept until the app is uninstalled."""

    def __init__(self, state: State):
        self.state = state

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_save(self, installation: Installation) -> None:
        key = _key("installation", installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        await self.state.put_answer(key, dict(installation.__dict__), ttl=None)
        await self.async_save_bot(installation.to_bot())

    async def async_save_bot(self, bot: Bot) -> None:
        if bot.bot_token is None:
            return
        key = _key("bot", bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self.state.put_answer(key, dict(bot.__dict__), ttl=None)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        data = await self.state.get_answer(_key("bot", enterprise_id, team_id, is_enterprise_install))
        return Bot(**data) if data else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        data = await self.state.get_answer(_key("installation", enterprise_id, team_id, is_enterprise_install))
        if not data or (user_id is not None and data.get("user_id") != user_id):
            return None
        return Installation(**data)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        for enterprise_install in (False, True):
            await self.state.delete_answer(_key("bot", enterprise_id, team_id, enterprise_install))

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        for enterprise_install in (False, True):
            await self.state.delete_answer(_key("installation", enterprise_id, team_id, enterprise_install))


class StateOAuthStateStore(AsyncOAuthStateStore):
    """OAuth `state` values, each valid once and for STATE_TTL seconds, on whichever replica the callback lands."""

    def __init__(self, state: State):
        self.state = state

    @property
    def logger(self) -> logging.Logger:
        return log

    async def async_issue(self, *args, **kwargs) -> str:
        value = uuid.uuid4().hex
        await self.state.put_answer(f"oauth-state:{value}", {"issued": True}, ttl=STATE_TTL)
        return value

    async def async_consume(self, state: str) -> bool:
        key = f"oauth-state:{state}"
        if await self.state.get_answer(key) is None:
            return False
        await self.state.delete_answer(key)
        return True


def oauth_settings(
    client_id: str, client_secret: str, state: State, client: AsyncWebClient, rotation_minutes: int = 120
) -> AsyncOAuthSettings:
    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        installation_store=StateInstallationStore(state),
        state_store=StateOAuthStateStore(state),
        # Refresh a rotating bot token this many minutes before it expires (Slack's tokens live 12 hours).
        token_rotation_expiration_minutes=rotation_minutes,
    )
    # Refreshes go where every other call goes (SLACK_API_URL: a proxy, the tests' fake Slack); Bolt's own
    # rotator would use a client of its own with Slack's default URL.
    settings.authorize.token_rotator = AsyncTokenRotator(
        client_id=client_id, client_secret=client_secret, client=client
    )
    return settings
