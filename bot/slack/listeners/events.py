"""Events: mentions, messages (DMs, thread follow-ups, help-channel messages) and the App Home tab."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot import engage
from bot.feedback import stats
from bot.handoff import mark_key
from bot.slack.app import Runtime, answer
from bot.slack.files import file_texts
from bot.slack.home import home_view
from bot.slack.inbound import ANSWERABLE_SUBTYPES, Inbound, from_event
from bot.state import StateError

log = logging.getLogger("kratos_bot.slack")
THREAD_READ = 50  # messages of a thread read when the bot is mentioned in it late
CONTEXT_MAX = 40_000  # characters of those messages passed on with the mention


async def bot_user(rt: Runtime, client, context) -> str:
    """The bot's user id in this workspace: Bolt's authorize found it (one per workspace with OAuth)."""
    return (context or {}).get("bot_user_id") or await rt.bot_id(client)


def _mentions_bot(text: str, bot_user_id: str) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in text


def _in_thread(event: dict) -> bool:
    return bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")


async def thread_context(rt: Runtime, client, inbound: Inbound, me: str) -> str:
    """What people wrote in the thread before the mention (root first, pastes and text files included), for a
    bot mentioned in a thread it has not been part of: "@kratos-bot any idea?" is about the question above."""
    try:
        page = await client.conversations_replies(channel=inbound.channel, ts=inbound.thread_ts, limit=THREAD_READ)
    except SlackApiError as exc:
        log.warning("thread not read (answering the mention alone): %s", exc.response.get("error"))
        return ""
    earlier = [
        m
        for m in page.get("messages") or []
        if float(m.get("ts") or 0) < float(inbound.ts or 0)
        and not m.get("bot_id")
        and m.get("user") != me
        and m.get("subtype") in ANSWERABLE_SUBTYPES
    ]
    parts = [str(m.get("text") or "") for m in earlier]
    files = tuple(f for m in earlier for f in m.get("files") or [] if isinstance(f, dict))
    if files:
        parts += await file_texts(files, rt.settings.bot_token, client)
    text = "\n\n".join(p for p in parts if p.strip())
    # The root holds the question; the rest is kept from the end, where the latest state of things is.
    if len(text) > CONTEXT_MAX and parts:
        text = parts[0][: CONTEXT_MAX // 2] + "\n\n" + text[-CONTEXT_MAX // 2 :]
    return text


async def _joined(rt: Runtime, inbound: Inbound) -> bool:
    """The bot has answered in this thread and nobody has handed it over to a person since."""
    try:
        if not await rt.state.history(inbound.thread_key):
            return False
        return await rt.state.get_answer(mark_key(inbound.channel, inbound.thread_ts)) is None
    except StateError as exc:
        rt.metrics.state_errors.inc()
        log.error("state store failed: event=%s error=%s", inbound.event_id, exc)
        return False


def register(app: AsyncApp, rt: Runtime) -> None:
    settings = rt.settings

    @app.event("app_mention")
    async def on_mention(event, body, client, context):
        if not rt.allowed(str(event.get("channel", ""))):
            return
        if event.get("bot_id") and settings.ignore_other_bots:
            return  # another bot mentioning us (a relay, a digest) is not a person asking
        me = await bot_user(rt, client, context)
        inbound = from_event(event, str(body.get("event_id", "")), str(body.get("team_id", "")))
        context = ""
        if _in_thread(event) and not await _joined(rt, inbound):
            context = await thread_context(rt, client, inbound, me)
        await answer(rt, client, inbound, context=context, me=me)

    @app.event("message")
    async def on_message(event, body, client, context):
        if event.get("subtype") not in ANSWERABLE_SUBTYPES or event.get("edited"):
            return
        if event.get("bot_id") and settings.ignore_other_bots:
            return  # Bolt already drops our own messages; other bots are ignored unless configured
        inbound = from_event(event, str(body.get("event_id", "")), str(body.get("team_id", "")))
        if not rt.allowed(inbound.channel):
            return
        me = await bot_user(rt, client, context)
        if event.get("user") == me:
            return
        if inbound.is_dm:
            await answer(rt, client, inbound, me=me)
            return
        if _mentions_bot(inbound.text, me):
            return  # the app_mention event answers it (also when it comes with a file share)
        if _in_thread(event):
            if inbound.channel not in settings.followup_optout and await _joined(rt, inbound):
                await answer(rt, client, inbound, where=engage.FOLLOWUP, me=me)
            return
        mode = await rt.channel_mode(inbound.channel)
        if mode != "mention":
            await answer(rt, client, inbound, where=engage.CHANNEL, mode=mode, me=me)

    @app.event("app_home_opened")
    async def on_home(event, client):
        if event.get("tab") != "home":
            return
        try:
            modes, records = await rt.state.channel_modes(), await rt.state.records()
        except StateError as exc:
            rt.metrics.state_errors.inc()
            log.error("App Home without records: %s", exc)
            modes, records = {}, []
        try:
            await client.views_publish(user_id=str(event.get("user", "")), view=home_view(modes, stats(records)))
        except SlackApiError as exc:
            log.warning("App Home not published: %s", exc.response.get("error"))
