"""The message shortcut "Triage with kratos-bot": answers the message it was used on, in its thread."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.app import SHORTCUT_ID, Runtime, _delivery_key, answer
from bot.slack.inbound import from_shortcut
from bot.slack.listeners.events import bot_user


def register(app: AsyncApp, rt: Runtime) -> None:
    @app.shortcut(SHORTCUT_ID)
    async def on_shortcut(ack, body, client, context):
        await ack()
        me = await bot_user(rt, client, context)
        await answer(rt, client, from_shortcut(body), delivery_key=_delivery_key(body), me=me)
