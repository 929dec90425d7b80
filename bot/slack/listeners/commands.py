"""The /kratos command: `help`, `config` (channel modes, admins only) or a question, answered only to the
user who asked (with a button to post it)."""

from __future__ import annotations

import logging
import re

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.engage import MODES
from bot.slack.app import COMMAND, Runtime, _delivery_key, answer
from bot.slack.home import HELP, MODE_MEANING
from bot.slack.inbound import Inbound
from bot.slack.listeners.events import bot_user
from bot.state import StateError

log = logging.getLogger("kratos_bot.slack")
_CONFIG = re.compile(r"^config(?:\s+mode\s+(\w+)(?:\s+<#(C\w+)(?:\|[^>]*)?>)?)?\s*$", re.IGNORECASE)


async def is_admin(rt: Runtime, client, user: str) -> bool:
    """A workspace admin or owner, or a user named in KRATOS_BOT_ADMINS."""
    if user in rt.settings.admins:
        return True
    try:
        info = (await client.users_info(user=user)).get("user") or {}
    except SlackApiError as exc:
        log.warning("users.info failed, treating %s as no admin: %s", user, exc.response.get("error"))
        return False
    return bool(info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner"))


async def configure(rt: Runtime, client, command: dict, mode: str | None, channel: str | None) -> str:
    """The reply to `/kratos config [mode <mode> [#channel]]`."""
    if mode is None:
        modes = await rt.state.channel_modes()
        lines = [f"• <#{c}>: `{m}` ({MODE_MEANING[m]})" for c, m in sorted(modes.items())]
        return "\n".join(["*Channel modes*", *lines] if lines else ["Every channel is in `mention` mode."])
    mode = mode.lower()
    if mode not in MODES:
        return f"Unknown mode `{mode}`: use one of {', '.join(f'`{m}`' for m in MODES)}."
    if not await is_admin(rt, client, str(command.get("user_id", ""))):
        return "Only workspace admins (or users in KRATOS_BOT_ADMINS) can change a channel's mode."
    target = channel or str(command.get("channel_id", ""))
    await rt.set_channel_mode(target, None if mode == "mention" else mode)
    log.info("channel mode set: channel=%s mode=%s by=%s", target, mode, command.get("user_id"))
    return f"<#{target}> is now in `{mode}` mode: the bot {MODE_MEANING[mode]}."


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.command(COMMAND)
    async def on_command(ack, command, client, respond, context):
        await ack()
        text = str(command.get("text", "")).strip()
        if text.lower() in ("", "help"):
            await respond(text=HELP, response_type="ephemeral")
            return
        config = _CONFIG.match(text)
        if config:
            try:
                reply = await configure(rt, client, command, config.group(1), config.group(2))
            except StateError as exc:
                rt.metrics.state_errors.inc()
                log.error("channel modes not changed: %s", exc)
                reply = "The bot's state store is unavailable; try again in a minute."
            await respond(text=reply, response_type="ephemeral")
            return
        me = await bot_user(rt, client, context)
        inbound = Inbound(
            text=text,
            channel=str(command.get("channel_id", "")),
            ts="",
            thread_ts="",
            user=str(command.get("user_id", "")),
            team=str(command.get("team_id", "")),
        )
        await answer(
            rt,
            client,
            inbound,
            ephemeral_user=inbound.user,
            response_url=str(command.get("response_url", "")),
            delivery_key=_delivery_key(command),
            me=me,
        )
