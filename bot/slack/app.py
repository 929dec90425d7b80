"""The slack_bolt AsyncApp and what its listeners share. The listeners themselves are plain functions in
bot/slack/listeners/ (events, the /kratos command, the message shortcut, the buttons), each module with a
`register(app, rt)`. A listener turns the payload into an `Inbound`, `answer` asks bot/engage.py whether to
speak, runs the triage pipeline and hands the reply to the outbox (bot/slack/outbox.py), which posts it and
retries what Slack did not take; Bolt has already acknowledged the request by then."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot import engage
from bot.feedback import answer_record
from bot.handoff import summary
from bot.kb.loader import KnowledgeError, load_knowledge
from bot.logs import bolt_logger
from bot.metrics import Metrics, retry_reason
from bot.pipeline import Triage
from bot.slack.files import file_texts
from bot.slack.inbound import Inbound
from bot.slack.install import StateInstallationStore, oauth_settings
from bot.slack.messages import feedback_block, messages, post_button
from bot.slack.outbox import Outbox, channel_item, ephemeral_item
from bot.slack.settings import Settings
from bot.state import State, StateError

log = logging.getLogger("kratos_bot.slack")
SHORTCUT_ID = "triage_message"
COMMAND = "/kratos"
ANSWERS_AT_ONCE = 4  # answers being triaged and composed at once; triage is CPU work sharing one GIL
BIG_INPUT = 20_000  # characters: a paste this large (or any file) gets a working indicator while it is read
WORKING = "hourglass_flowing_sand"
THANKED = "white_check_mark"
MODES_FRESH = 30.0  # seconds a replica trusts its copy of the channel modes (changed on another replica)


@dataclass
class Runtime:
    """What the listeners share: the pipeline (swapped on reload), the state store, metrics, the outbox."""

    settings: Settings
    triage: Triage
    state: State
    metrics: Metrics = field(default_factory=Metrics)
    bot_user_id: str = ""
    slack_ok: bool = False  # auth.test answered ok at least once
    socket_connected: object = None  # Socket Mode: an async callable, True while the socket is up (/readyz)
    installs: StateInstallationStore | None = field(init=False)  # OAuth mode: the workspaces' bot tokens
    outbox: Outbox = field(init=False)
    answering: asyncio.Semaphore = field(init=False)
    _modes: tuple[float, dict[str, str]] = (float("-inf"), {})

    def __post_init__(self) -> None:
        # Its own client: the outbox honours Retry-After itself, by rescheduling, instead of sleeping in the
        # call. The lease covers one attempt: a timeout per call, and the client's bounded retries.
        client = web_client(self.settings, rate_limit_retries=0)
        self.installs = StateInstallationStore(self.state) if self.settings.oauth else None
        self.outbox = Outbox(
            self.state,
            self.metrics,
            client,
            lease=6 * self.settings.slack_timeout + 30,
            token_for=self.bot_token if self.installs is not None else None,
        )
        self.answering = asyncio.Semaphore(ANSWERS_AT_ONCE)

    def reload(self, directory: Path | None = None) -> bool:
        """Load and validate the knowledge again; the old one keeps serving if the new one is invalid."""
        try:
            fresh = Triage(load_knowledge(directory))
        except (KnowledgeError, OSError, ValueError) as exc:
            self.metrics.reloads.labels(result="failed").inc()
            log.error("knowledge reload failed, keeping the loaded knowledge: %s", str(exc).splitlines()[0])
            return False
        self.triage = fresh
        self.metrics.reloads.labels(result="ok").inc()
        log.info("knowledge reloaded: %d entries", len(fresh.kb.entries))
        return True

    async def bot_token(self, team: str) -> str | None:
        """The bot token of a workspace the app is installed in (OAuth mode), as the last rotation saved it."""
        assert self.installs is not None
        bot = await self.installs.async_find_bot(enterprise_id=None, team_id=team)
        return bot.bot_token if bot is not None else None

    async def channel_mode(self, channel: str) -> str:
        """The channel's mode (bot/engage.py), from a copy of the state store's table at most MODES_FRESH old."""
        at, modes = self._modes
        if time.monotonic() - at > MODES_FRESH:
            try:
                modes = await self.state.channel_modes()
            except StateError as exc:
                self.metrics.state_errors.inc()
                log.error("channel modes not read, keeping the last copy: %s", exc)
            self._modes = (time.monotonic(), modes)
        return modes.get(channel, engage.DEFAULT_MODE)

    async def set_channel_mode(self, channel: str, mode: str | None) -> None:
        await self.state.set_channel_mode(channel, mode)
        self._modes = (float("-inf"), {})

    def allowed(self, channel: str) -> bool:
        return not self.settings.allowed_channels or channel in self.settings.allowed_channels

    async def bot_id(self, client) -> str:
        if not self.bot_user_id:
            self.bot_user_id = (await client.auth_test()).get("user_id", "")
            self.slack_ok = bool(self.bot_user_id)
        return self.bot_user_id


def web_client(settings: Settings, rate_limit_retries: int = 3) -> AsyncWebClient:
    kwargs = {"base_url": settings.api_url} if settings.api_url else {}
    handlers = [AsyncConnectionErrorRetryHandler(max_retry_count=2), AsyncServerErrorRetryHandler(max_retry_count=2)]
    if rate_limit_retries:
        handlers.insert(0, AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))  # Retry-After
    return AsyncWebClient(token=settings.bot_token, timeout=settings.slack_timeout, retry_handlers=handlers, **kwargs)


async def _state_step(rt: Runtime, what: str, inbound: Inbound, coro, default=None):
    """A state call the reply does not depend on: a failing store costs the thread context or a record,
    never the reply to an event that is already acknowledged."""
    try:
        return await coro
    except StateError as exc:
        rt.metrics.state_errors.inc()
        log.error("state store failed (%s), answering anyway: event=%s error=%s", what, inbound.event_id, exc)
        return default


async def react(rt: Runtime, client: AsyncWebClient, channel: str, ts: str, name: str, remove: bool = False) -> None:
    """A reaction on a message; a failure (missing scope, already there) costs only the reaction."""
    if not (channel and ts):
        return
    try:
        if remove:
            await client.reactions_remove(channel=channel, timestamp=ts, name=name)
        else:
            await client.reactions_add(channel=channel, timestamp=ts, name=name)
    except SlackApiError as exc:
        log.info("reaction %s not %s: %s", name, "removed" if remove else "added", exc.response.get("error"))


async def answer(
    rt: Runtime,
    client: AsyncWebClient,
    inbound: Inbound,
    *,
    where: str = engage.ADDRESSED,
    mode: str = engage.DEFAULT_MODE,
    context: str = "",
    ephemeral_user: str = "",
    response_url: str = "",
    delivery_key: str = "",
    me: str = "",
) -> None:
    """Triage one message and hand the reply to the outbox: in its thread, or ephemerally (through the
    command's `response_url` when there is one), unless bot/engage.py says to stay quiet (`where`: how the
    message reached the bot; `mode`: the channel's). `context`: earlier messages of the thread, read before
    the message itself (a late mention). `delivery_key` names the reply so that one event or command never
    gets two (default: the event id). `me`: the bot's user id in the message's workspace. Never raises."""
    started = time.perf_counter()
    working = False
    me = me or rt.bot_user_id  # the bot's user id in this message's workspace
    try:
        verdict = engage.before_triage(inbound.text, where, me)
        if verdict.act != "answer":
            rt.metrics.silenced.labels(reason=verdict.act).inc()
            if verdict.act == "react":
                await react(rt, client, inbound.channel, inbound.ts, THANKED)
            return
        working = not ephemeral_user and (bool(inbound.files) or len(inbound.text) + len(context) > BIG_INPUT)
        if working:
            await react(rt, client, inbound.channel, inbound.ts, WORKING)
        text = "\n\n".join(part for part in (context, inbound.text) if part)
        if inbound.files:
            extra = await file_texts(inbound.files, client.token or rt.settings.bot_token or "", client)
            text = "\n".join([text, *extra])
        key = inbound.thread_key if inbound.thread_ts else ""
        # Under a burst, answers wait here rather than all being worked on at once: the event loop then stays
        # free to acknowledge new requests within Slack's 3 seconds, and the replies catch up afterwards.
        # Posting is outside: a slow Slack must not hold a slot.
        async with rt.answering:
            history = await _state_step(rt, "history", inbound, rt.state.history(key), ()) if key else ()
            # In a worker thread: a 1 MB paste takes a quarter second, and the event loop must keep acking.
            reply, turn = await asyncio.to_thread(rt.triage.triage, text, history, me)
            rt.metrics.observe_stages(reply.meta.get("timings", {}))
            verdict = engage.after_triage(reply, where, mode, text=inbound.text)
            # A thread the bot stays out of must not become one it has joined; one it is in keeps every turn.
            if key and turn is not None and (verdict.act == "answer" or where == engage.FOLLOWUP):
                await _state_step(rt, "append", inbound, rt.state.append(key, turn))
            if verdict.act != "answer":
                rt.metrics.silenced.labels(reason="not worth posting").inc()
                log.info("not answered: event=%s why=%s", inbound.event_id, verdict.why)
                return
            answer_id = uuid.uuid4().hex[:16]
            entries = [m.entry_id for m in reply.matches[:3]]
            in_thread = bool(inbound.thread_ts) and not ephemeral_user
            extra_block = post_button(answer_id) if ephemeral_user else feedback_block(answer_id, rt.settings.handoff)
            payloads = messages(reply, extra_block)
        if ephemeral_user:
            # Kept in the shared state: the "Post to channel" click may reach another replica. Without it
            # the user still gets the answer; only the button will say it expired.
            try:
                await rt.state.put_answer(answer_id, {"payloads": messages(reply, feedback_block(answer_id))})
            except StateError as exc:
                rt.metrics.state_errors.inc()
                log.error("answer not stored for Post to channel: error=%s", exc)
        if ephemeral_user:
            # The command's response_url works in any channel, also ones the bot has not joined.
            item = ephemeral_item(inbound.channel, ephemeral_user, payloads, response_url, team=inbound.team)
        else:
            item = channel_item(inbound.channel, inbound.thread_ts, payloads, inbound.event_id, team=inbound.team)
        posted = await rt.outbox.send(delivery_key or inbound.event_id or f"answer:{answer_id}", item)
        record = answer_record(answer_id, entries, reply.confidence, inbound.channel)
        await _state_step(rt, "record", inbound, rt.state.record(record))
        if in_thread:
            # What "Still stuck" hands over, kept as long as the thread's context.
            kept = summary(
                reply,
                channel=inbound.channel,
                thread_ts=inbound.thread_ts,
                user=inbound.user,
                version=reply.meta.get("version", ""),
            )
            put = rt.state.put_answer(f"summary:{answer_id}", kept, ttl=rt.settings.thread_ttl)
            await _state_step(rt, "summary", inbound, put)
        rt.metrics.replies.labels(confidence=reply.confidence).inc()
        if reply.confidence == "none":
            rt.metrics.unanswered.inc()
        latency = time.perf_counter() - started
        rt.metrics.latency.observe(latency)
        log.info(
            "answered",
            extra={
                "fields": {
                    "event_id": inbound.event_id,
                    "channel": inbound.channel,
                    "entries": entries,
                    "confidence": reply.confidence,
                    "findings": [f.rule for f in reply.findings],
                    "posted": posted,  # False: in the outbox for a retry, or given up (logged there)
                    "latency_ms": round(latency * 1000, 1),
                }
            },
        )
    except SlackApiError as exc:
        rt.metrics.post_failures.inc()
        log.error(
            "posting the reply failed: event=%s channel=%s error=%s",
            inbound.event_id,
            inbound.channel,
            exc.response.get("error"),
        )
    except StateError as exc:
        rt.metrics.state_errors.inc()
        log.error("state store failed: event=%s error=%s", inbound.event_id, exc)
    except Exception:  # one bad event must never stop the app
        rt.metrics.post_failures.inc()
        log.exception("answering failed: event=%s channel=%s", inbound.event_id, inbound.channel)
    finally:
        if working:
            await react(rt, client, inbound.channel, inbound.ts, WORKING, remove=True)


def _header(req, name: str) -> str:
    values = (getattr(req, "headers", None) or {}).get(name) or []
    return str(values[0]) if values else ""


def _delivery_key(body: dict) -> str:
    """What makes one delivery unique: the event id, or for slash commands, shortcuts and button clicks
    (which have none) their trigger_id, which Slack issues once per invocation and which is signed along
    with the rest of the body. A replay of either within the signature window is then a duplicate."""
    if body.get("event_id"):
        return str(body["event_id"])
    return f"trigger:{body['trigger_id']}" if body.get("trigger_id") else ""


def build_app(rt: Runtime, client: AsyncWebClient | None = None) -> AsyncApp:
    from bot.slack.listeners import register_all  # the listeners import this module's helpers

    settings = rt.settings
    # Several workspaces: Bolt finds each request's bot token in the installation store and rotates it.
    client = client or web_client(settings)
    oauth = (
        {
            "oauth_settings": oauth_settings(
                settings.client_id, settings.client_secret, rt.state, client, settings.token_rotation_minutes
            )
        }
        if settings.oauth
        else {}
    )
    app = AsyncApp(
        client=client,
        signing_secret=settings.signing_secret,
        **oauth,
        # Bolt's loggers copy their level from this one (from the root logger without it), and at INFO or
        # DEBUG they print whole request bodies: bad signatures, unhandled requests, listener arguments.
        logger=bolt_logger(),
        # Socket Mode requests are not signed; HTTP mode requests are checked (401 on a bad signature).
        request_verification_enabled=not settings.socket_mode,
    )
    app.middleware(dedupe_middleware(rt))
    register_all(app, rt)

    @app.error
    async def on_error(error, body):
        log.error("listener failed: event=%s error=%s", (body or {}).get("event_id"), error)

    return app


def dedupe_middleware(rt: Runtime):
    async def dedupe(req, body, next):  # noqa: A002 - Bolt passes `next` by name
        body = body if isinstance(body, dict) else {}
        kind = body.get("type") or ("command" if "command" in body else "other")
        rt.metrics.events.labels(kind=str(kind)).inc()
        event_id = _delivery_key(body)
        # HTTP mode marks Slack's redeliveries (Socket Mode's retry_attempt does not reach Bolt middleware).
        retry = _header(req, "x-slack-retry-num")
        fields = {"event_id": event_id, "kind": kind, "retry": int(retry) if retry.isdigit() else None}
        if retry:
            reason = retry_reason(_header(req, "x-slack-retry-reason"))
            rt.metrics.retries.labels(reason=reason).inc()
            fields["retry_reason"] = reason
        if event_id:
            try:
                first = await rt.state.first_delivery(str(event_id))
            except StateError as exc:
                # Not acknowledged as handled: Slack delivers it again once the store is back.
                rt.metrics.state_errors.inc()
                log.error(
                    "state store unreachable, event not handled: event=%s error=%s",
                    event_id,
                    exc,
                    extra={"fields": {**fields, "outcome": "state_unavailable"}},
                )
                return BoltResponse(status=503, body="state unavailable")
            if not first:
                rt.metrics.duplicates.inc()
                log.info(
                    "duplicate delivery ignored: event=%s",
                    event_id,
                    extra={"fields": {**fields, "outcome": "duplicate"}},
                )
                return BoltResponse(status=200, body="")
        await next()

    return dedupe
