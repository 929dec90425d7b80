"""Buttons: Helpful / Not helpful, Post to channel (under an ephemeral /kratos answer), Still stuck (hand the
thread to a person) and Resolved."""

from __future__ import annotations

import logging
import uuid

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.feedback import NONE, feedback_record, outcome_record
from bot.handoff import expired_summary, handoff_text, mark_key
from bot.slack.app import Runtime, _delivery_key, react
from bot.slack.messages import FEEDBACK_HELPFUL, FEEDBACK_NOT_HELPFUL, POST_ANSWER, RESOLVED, STILL_STUCK
from bot.slack.outbox import channel_item
from bot.state import StateError

log = logging.getLogger("kratos_bot.slack")
HANDED_OFF = "sos"
RESOLVED_MARK = "white_check_mark"


def _team(body: dict) -> str:
    return str((body.get("team") or {}).get("id", ""))


def _where(body: dict) -> tuple[str, str, str, str]:
    """(channel, user, the bot message's ts, its thread's ts) of a button click."""
    message = body.get("message") or {}
    ts = str(message.get("ts", ""))
    return (
        str((body.get("channel") or {}).get("id", "")),
        str((body.get("user") or {}).get("id", "")),
        ts,
        str(message.get("thread_ts") or ts),
    )


async def _tell(client, channel: str, user: str, text: str) -> None:
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError:
        log.warning("ephemeral note not posted: %s", text[:60])


def register(app: AsyncApp, rt: Runtime) -> None:
    settings = rt.settings

    async def on_feedback(ack, body, action, client, helpful: bool):
        await ack()
        answer_id = str(action.get("value", ""))
        channel, user, _, _ = _where(body)
        rt.metrics.feedback.labels(value="helpful" if helpful else "not_helpful").inc()
        try:
            await rt.state.record(feedback_record(answer_id, helpful, channel))
        except StateError as exc:
            rt.metrics.state_errors.inc()
            log.error("feedback not recorded: answer=%s error=%s", answer_id, exc)
        await _tell(client, channel, user, "Thanks, noted.")

    @app.action(FEEDBACK_HELPFUL)
    async def on_helpful(ack, body, action, client):
        await on_feedback(ack, body, action, client, True)

    @app.action(FEEDBACK_NOT_HELPFUL)
    async def on_not_helpful(ack, body, action, client):
        await on_feedback(ack, body, action, client, False)

    @app.action(POST_ANSWER)
    async def on_post(ack, body, action, client):
        await ack()
        channel, user, _, _ = _where(body)
        try:
            stored = await rt.state.get_answer(str(action.get("value", "")))
        except StateError as exc:
            rt.metrics.state_errors.inc()
            log.error("stored answer not read: error=%s", exc)
            stored = None
        if stored is None:
            await _tell(client, channel, user, "That answer has expired; ask again.")
            return
        key = _delivery_key(body) or f"post:{uuid.uuid4().hex}"
        await rt.outbox.send(key, channel_item(channel, "", stored["payloads"], team=_team(body)))

    @app.action(STILL_STUCK)
    async def on_still_stuck(ack, body, action, client):
        await ack()
        answer_id = str(action.get("value", ""))
        channel, user, bot_ts, thread_ts = _where(body)
        mark = mark_key(channel, thread_ts)
        try:
            if await rt.state.get_answer(mark) is not None:
                await _tell(client, channel, user, "This thread is already with the team.")
                return
            kept = await rt.state.get_answer(f"summary:{answer_id}")
            # Marked before posting: a second click while the first is on its way must not post twice.
            await rt.state.put_answer(mark, {"by": user, "answer_id": answer_id}, ttl=settings.thread_ttl)
        except StateError as exc:
            rt.metrics.state_errors.inc()
            log.error("hand-off failed: answer=%s error=%s", answer_id, exc)
            await _tell(client, channel, user, "The hand-off failed (state store unavailable); try again shortly.")
            return
        s = kept or expired_summary(channel, thread_ts, user)
        text = handoff_text(s, user, settings.handoff_group or "")
        if settings.handoff_channel:
            team = _team(body)
            summary_item = channel_item(settings.handoff_channel, "", [{"text": text}], team=team)
            await rt.outbox.send(f"handoff:{answer_id}", summary_item)
            note = f"Handed over to the team in <#{settings.handoff_channel}>; a person will follow up here."
            note_item = channel_item(channel, thread_ts, [{"text": note}], team=team)
            await rt.outbox.send(f"handoff-note:{answer_id}", note_item)
        else:  # only a group: the summary goes into the thread, with the group mentioned
            thread_item = channel_item(channel, thread_ts, [{"text": text}], team=_team(body))
            await rt.outbox.send(f"handoff:{answer_id}", thread_item)
        await react(rt, client, channel, bot_ts, HANDED_OFF)
        entries = list(s.get("entries") or [])
        rt.metrics.handoffs.labels(entry=(entries or [NONE])[0]).inc()
        try:
            await rt.state.record(outcome_record("handoff", answer_id, entries, channel))
        except StateError as exc:
            rt.metrics.state_errors.inc()
            log.error("hand-off not recorded: answer=%s error=%s", answer_id, exc)

    @app.action(RESOLVED)
    async def on_resolved(ack, body, action, client):
        await ack()
        answer_id = str(action.get("value", ""))
        channel, user, bot_ts, _ = _where(body)
        entries: list[str] = []
        try:
            kept = await rt.state.get_answer(f"summary:{answer_id}")
            entries = list((kept or {}).get("entries") or [])
            await rt.state.record(outcome_record("resolved", answer_id, entries, channel))
        except StateError as exc:
            rt.metrics.state_errors.inc()
            log.error("resolution not recorded: answer=%s error=%s", answer_id, exc)
        rt.metrics.resolutions.labels(entry=(entries or [NONE])[0]).inc()
        await react(rt, client, channel, bot_ts, RESOLVED_MARK)
        await _tell(client, channel, user, "Marked as resolved. Thanks!")
