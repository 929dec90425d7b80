"""Replies that must not be lost: every composed reply goes through an outbox in the state store.

`Outbox.send` writes the item (already claimed by this process) and posts it at once; a post that fails for
a passing reason (HTTP 429 / 5xx, a timeout, a dropped connection) is released with a due time (Slack's
`Retry-After` on 429, else exponential backoff) and a worker posts it later, on whichever replica claims it
first. Permanent errors (`channel_not_found`, `not_in_channel`, `is_archived`, a revoked token, ...) and items
older than `MAX_AGE` are given up: logged and counted, never retried. Items left by a stopped process are
claimed again once their lease runs out, so a restart resumes them.

Exactly one reply: an item is keyed by the event (or the slash command's trigger), so a second answer of the
same event cannot add a second item, and each posted part is written back as done before the next. What
remains is a post whose outcome is unknown: a timeout, or a crash after Slack took the message and before
we wrote that down. Every channel post carries message metadata with the item key and part; before posting
such a part again the worker looks for it in the thread (or channel) history and skips it when it is there.
When that lookup itself fails the part is posted again: at least once, never silently dropped. Ephemeral
replies (response_url, chat.postEphemeral) cannot be looked up, so for them an unknown outcome is posted
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import Metrics
from bot.state import State, StateError

log = logging.getLogger("kratos_bot.slack")

METADATA_TYPE = "kratos_bot_reply"
MAX_AGE = 15 * 60  # seconds after which a reply that still could not be posted is given up
BACKOFF_FIRST = 2.0
BACKOFF_MAX = 120.0
POLL = 1.0  # seconds between looks for due items
CLAIM_BATCH = 20
CONCURRENCY = 8  # posts in flight from the worker: one hanging post must not hold the others
# Slack answers these with HTTP 200 and ok=false, but they pass; every other ok=false error is about the
# request or the channel and would fail the same way again.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}
)


class _Retry(Exception):
    def __init__(self, reason: str, delay: float | None = None, unsure: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay
        self.unsure = unsure  # the request may have reached Slack


class _GiveUp(Exception):
    pass


def channel_item(channel: str, thread_ts: str, payloads: list[dict], event_id: str = "", team: str = "") -> dict:
    # `team`: whose bot token posts it, when the app is installed in several workspaces (bot/slack/install.py).
    return {
        "via": "chat",
        "channel": channel,
        "thread_ts": thread_ts,
        "payloads": payloads,
        "event_id": event_id,
        "team": team,
    }


def ephemeral_item(channel: str, user: str, payloads: list[dict], response_url: str = "", team: str = "") -> dict:
    via = "respond" if response_url else "ephemeral"
    return {
        "via": via,
        "channel": channel,
        "user": user,
        "response_url": response_url,
        "payloads": payloads,
        "team": team,
    }


class Outbox:
    def __init__(
        self,
        state: State,
        metrics: Metrics,
        client: AsyncWebClient,
        *,
        lease: float = 120.0,
        max_age: float = MAX_AGE,
        poll: float = POLL,
        token_for: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        self.state = state
        self.metrics = metrics
        self.client = client
        self.token_for = token_for  # several workspaces: the bot token of an item's team (None: uninstalled)
        self.lease = lease  # longer than one delivery attempt can take (timeouts times the client's retries)
        self.max_age = max_age
        self.poll = poll
        self._worker: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._inflight: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ public

    async def send(self, key: str, item: dict) -> bool:
        """Store the reply and post it now; True when posted. On a passing failure the worker retries it."""
        self.start()
        owner = uuid.uuid4().hex
        item = {**item, "sent": 0, "attempts": 0, "created": time.time(), "unsure": 0}
        try:
            stored = await self.state.outbox_put(key, item, owner, self.lease)
        except StateError as exc:
            # The store cannot keep it: post anyway, without the safety net, rather than lose the reply.
            self.metrics.state_errors.inc()
            log.error("outbox not written, posting without retry: key=%s error=%s", key, exc)
            return await self._deliver(key, None, item, fresh=True)
        if not stored:
            log.info("reply already queued, not queued again: key=%s", key)
            return False
        return await self._deliver(key, owner, item, fresh=True)

    def start(self) -> None:
        """Run the worker (idempotent): resumes items left by an earlier process once their lease ends."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._worker, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._worker = None

    # ------------------------------------------------------------------ worker

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()
            free = CONCURRENCY - len(self._inflight)
            if free <= 0:
                continue
            owner = uuid.uuid4().hex
            try:
                claimed = await self.state.outbox_claim(owner, self.lease, min(free, CLAIM_BATCH))
            except StateError as exc:
                self.metrics.state_errors.inc()
                log.error("outbox not read: error=%s", exc)
                continue
            except Exception:
                log.exception("outbox not read")
                continue
            for key, item in claimed:
                task = asyncio.get_running_loop().create_task(self._deliver_bounded(key, owner, item))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)

    async def _deliver_bounded(self, key: str, owner: str, item: dict) -> None:
        async with self._slots:
            try:
                await self._deliver(key, owner, item)
            except Exception:  # the worker must outlive any one item; its lease brings it back
                log.exception("outbox delivery failed: key=%s", key)

    # ------------------------------------------------------------------ one item

    async def _deliver(self, key: str, owner: str | None, item: dict, fresh: bool = False) -> bool:
        """Post the parts not yet posted. `owner` None: not in the store (post once, no retry). `fresh`: just
        put, so nothing of it can have been posted yet."""
        item["attempts"] += 1
        payloads = item["payloads"]
        try:
            while item["sent"] < len(payloads):
                part = item["sent"]
                if not fresh and item.get("unsure") == part and await self._already_posted(key, item, part):
                    log.info("reply part found already posted, not posted again: key=%s part=%d", key, part)
                else:
                    await self._post(key, item, part)
                item["sent"] = part + 1
                item["unsure"] = part + 1  # the next part is about to go out
                more = item["sent"] < len(payloads)
                if owner is not None and more and not await self.state.outbox_save(key, owner, item, None):
                    return False  # our lease ran out and another worker took the item over
        except _GiveUp as exc:
            self.metrics.given_up.labels(reason="permanent").inc()
            log.error("reply given up: key=%s channel=%s error=%s", key, item.get("channel"), exc)
            await self._finish(key, owner)
            return False
        except _Retry as exc:
            return await self._reschedule(key, owner, item, exc)
        except StateError as exc:
            self.metrics.state_errors.inc()
            log.error("outbox progress not written: key=%s error=%s", key, exc)
            return False  # the lease runs out and the item is taken up again; posted parts are looked up
        await self._finish(key, owner)
        return True

    async def _finish(self, key: str, owner: str | None) -> None:
        if owner is None:
            return
        try:
            await self.state.outbox_done(key, owner)
        except StateError as exc:
            # Posted but still listed: the next claim finds the part in the history and skips it.
            self.metrics.state_errors.inc()
            log.error("outbox item not removed: key=%s error=%s", key, exc)

    async def _reschedule(self, key: str, owner: str | None, item: dict, exc: _Retry) -> bool:
        self.metrics.post_failures.inc()
        age = time.time() - item["created"]
        if owner is None or age >= self.max_age:
            self.metrics.given_up.labels(reason="expired" if owner is not None else "no_outbox").inc()
            log.error(
                "reply given up after %d attempt(s): key=%s channel=%s error=%s",
                item["attempts"],
                key,
                item.get("channel"),
                exc.reason,
            )
            await self._finish(key, owner)
            return False
        delay = exc.delay
        if delay is None:
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (item["attempts"] - 1)) * random.uniform(0.75, 1.0)
        item["unsure"] = item["sent"] if exc.unsure else None
        self.metrics.retries_scheduled.inc()
        log.warning(
            "posting the reply failed: event=%s channel=%s attempt=%d error=%s; retrying in %.1fs",
            key,
            item.get("channel"),
            item["attempts"],
            exc.reason,
            delay,
        )
        try:
            await self.state.outbox_save(key, owner, item, time.time() + delay)
        except StateError as err:
            self.metrics.state_errors.inc()
            log.error("outbox retry not scheduled (the lease will bring it back): key=%s error=%s", key, err)
        if delay <= self.poll:
            asyncio.get_running_loop().call_later(delay, self._wake.set)
        return False

    async def _auth(self, item: dict) -> dict:
        """The `token` argument of an item's API calls: the client's own token unless the app serves several
        workspaces."""
        if self.token_for is None or not item.get("team"):
            return {}
        token = await self.token_for(item["team"])
        if token is None:
            raise _GiveUp("not_installed")
        return {"token": token}

    async def _post(self, key: str, item: dict, part: int) -> None:
        payload = dict(item["payloads"][part])
        if item["via"] != "respond":  # a response_url needs no token, and must never receive one
            payload.update(await self._auth(item))
        try:
            if item["via"] == "respond":
                await self._respond(item["response_url"], payload)
            elif item["via"] == "ephemeral":
                await self.client.chat_postEphemeral(channel=item["channel"], user=item["user"], **payload)
            else:
                metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": key, "part": part}}
                kwargs: dict[str, Any] = {"thread_ts": item["thread_ts"]} if item.get("thread_ts") else {}
                # No link previews: a docs link under every answer would unfurl into a card longer than the answer.
                previews = {"unfurl_links": False, "unfurl_media": False}
                await self.client.chat_postMessage(
                    channel=item["channel"], metadata=metadata, **previews, **kwargs, **payload
                )
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", 200)
            error = str(exc.response.get("error", "")) if hasattr(exc.response, "get") else ""
            if status == 429 or error == "ratelimited":
                wait = _header_seconds(getattr(exc.response, "headers", None), "retry-after")
                raise _Retry("ratelimited", wait) from None
            if status >= 500 or error in TRANSIENT_ERRORS:
                raise _Retry(error or f"http {status}") from None
            raise _GiveUp(error or f"http {status}") from None
        except (aiohttp.ClientError, OSError) as exc:  # OSError includes timeouts
            raise _Retry(type(exc).__name__, unsure=True) from None

    async def _respond(self, url: str, payload: dict) -> None:
        webhook = AsyncWebhookClient(url=url, timeout=self.client.timeout)
        resp = await webhook.send_dict({"response_type": "ephemeral", **payload})
        if resp.status_code == 429:
            raise _Retry("ratelimited", _header_seconds(resp.headers, "retry-after"))
        if resp.status_code >= 500:
            raise _Retry(f"response_url {resp.status_code}")
        if resp.status_code >= 300:
            raise _GiveUp(f"response_url {resp.status_code} {resp.body[:100]}")

    async def _already_posted(self, key: str, item: dict, part: int) -> bool:
        """Whether a channel post of this part is in Slack already (its metadata names key and part)."""
        if item["via"] != "chat":
            return False
        try:
            auth = await self._auth(item)
            if item.get("thread_ts"):
                resp = await self.client.conversations_replies(
                    channel=item["channel"], ts=item["thread_ts"], include_all_metadata=True, limit=200, **auth
                )
            else:
                resp = await self.client.conversations_history(
                    channel=item["channel"],
                    oldest=str(item["created"] - 60),
                    include_all_metadata=True,
                    limit=200,
                    **auth,
                )
        except (SlackApiError, aiohttp.ClientError, OSError, _GiveUp) as exc:
            log.warning("could not look for an earlier post, posting again: key=%s error=%s", key, exc)
            return False
        for message in resp.get("messages") or []:
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == METADATA_TYPE and payload.get("key") == key and payload.get("part") == part:
                return True
        return False


def _header_seconds(headers: Any, name: str) -> float | None:
    for key, value in (headers or {}).items():
        if key.lower() == name:
            with contextlib.suppress(ValueError, IndexError):
                return max(float(value[0] if isinstance(value, list) else value), 0.0)
    return None
