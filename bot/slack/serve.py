"""`kratos-bot serve`: run the Slack app in Socket Mode (SLACK_APP_TOKEN set) or HTTP mode (POST
/slack/events on PORT), with /healthz, /readyz, /metrics and an admin-only knowledge reload (on PORT, or on
OPS_PORT when that is set).

HTTP mode is an open port, so the events endpoint refuses what it can before reading a byte of the body
(missing or misshaped signature headers, a stale timestamp, no or too large Content-Length), reads the rest
with a deadline and within a memory budget shared by all connections, checks the signature itself and
answers junk with a 4xx. Refusals are counted and summarised in the log once per interval, never with
their bodies."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import hmac
import logging
import re
import signal
import threading
import time
from collections.abc import AsyncIterator, Mapping

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.kb.loader import load_knowledge
from bot.metrics import Metrics
from bot.pipeline import Triage
from bot.slack.app import Runtime, build_app, web_client
from bot.slack.settings import Settings
from bot.state import open_state

log = logging.getLogger("kratos_bot.slack")
EVENTS_PATH = "/slack/events"
RELOAD_PATH = "/admin/reload"

MAX_BODY = 2 * 1024 * 1024  # far above any Slack payload
# Bytes of request bodies being read or dispatched at once, all connections together, in two lanes: Slack's
# payloads are a few KiB, so the lane of large bodies only fills with bodies nobody signed, and those then
# get 503 instead of our memory, while real events keep the small lane.
SMALL_BODY = 64 * 1024
BODY_BUDGET = 16 * 1024 * 1024  # per lane
BODY_TIMEOUT = 5.0  # Slack sends the whole body at once; it gives up on us after 3 s anyway
# aiohttp closes a connection that has not delivered a complete request line and headers this long after
# opening it, or after its previous response: idle keep-alive and slow-header senders alike.
# (KRATOS_BOT_HTTP_IDLE_TIMEOUT; aiohttp's default is an hour.)
IDLE_TIMEOUT = 5.0
LINGER = 2.0  # after refusing a body unread, how long aiohttp drains (and discards) it before closing
SIGNATURE_WINDOW = 300  # seconds, as Slack's own verifiers allow
REFUSAL_LOG_INTERVAL = 60.0
AUTH_CHECK_INTERVAL = 30.0  # /readyz asks Slack's auth.test at most this often while it is failing

_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_reload_lock = threading.Lock()  # a thread lock: reloads run in worker threads, possibly from several loops


def create(settings: Settings, triage: Triage | None = None) -> tuple[AsyncApp, Runtime]:
    state = open_state(
        settings.state_url, settings.feedback_path, settings.thread_ttl, settings.redis_pool, settings.retention
    )
    rt = Runtime(settings=settings, triage=triage or Triage(load_knowledge()), state=state)
    return build_app(rt, web_client(settings)), rt


def precheck(headers: Mapping[str, str], content_length: int | None, now: float) -> tuple[int, str] | None:
    """What to refuse from the headers alone, before the body is read: (status, reason), or None."""
    signature = headers.get("X-Slack-Signature", "")
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not signature or not timestamp:
        return 401, "unsigned"
    if not _SIGNATURE.fullmatch(signature):
        return 401, "bad_signature"
    if not _TIMESTAMP.fullmatch(timestamp):
        return 400, "bad_timestamp"
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW:
        return 401, "stale"
    if content_length is None:
        return 411, "no_length"
    if content_length > MAX_BODY:
        return 413, "too_large"
    return None


def signature_ok(secret: str, body: bytes, timestamp: str, signature: str) -> bool:
    """Slack's v0 request signature over the raw bytes. (slack_sdk's SignatureVerifier decodes the body as
    UTF-8 first and raises on anything else, which would turn unsigned junk into a 500.)"""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"v0={digest}".encode(), signature.encode())


async def reload_knowledge(rt: Runtime) -> bool:
    """Load the knowledge in a worker thread (it takes about half a second) so acks go on meanwhile;
    Runtime.reload swaps the pipeline in one assignment at the end."""

    def locked() -> bool:
        with _reload_lock:
            return rt.reload()

    return await asyncio.to_thread(locked)


class Refusals:
    """Counts refused requests (a metric per reason) and logs one summary line per interval, so a flood of
    bad requests costs a counter increment each, not a log line each."""

    def __init__(self, metrics: Metrics, interval: float = REFUSAL_LOG_INTERVAL) -> None:
        self.metrics = metrics
        self.interval = interval
        self.pending: collections.Counter[str] = collections.Counter()
        self.last = float("-inf")

    def note(self, reason: str) -> None:
        self.metrics.refused.labels(reason=reason).inc()
        self.pending[reason] += 1
        if time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self.last = time.monotonic()
        log.warning(
            "refused %d request(s) to %s since the last summary",
            sum(self.pending.values()),
            EVENTS_PATH,
            extra={"fields": {"refused": dict(self.pending)}},
        )
        self.pending.clear()


def ops_routes(app: AsyncApp, rt: Runtime) -> list[web.RouteDef]:
    last_auth_check = float("-inf")

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        nonlocal last_auth_check
        checks = {"knowledge": bool(rt.triage.kb.entries), "state": await rt.state.ping(), "slack": rt.slack_ok}
        if rt.settings.oauth:
            del checks["slack"]  # no one token to check: each workspace's is checked when its requests arrive
        if rt.socket_connected is not None:  # Socket Mode: events arrive only while the socket is up
            checks["socket"] = bool(await rt.socket_connected())
        now = time.monotonic()
        # Anyone who can reach the port can GET this; they must not be able to make us call Slack per request.
        if not checks["slack"] and now - last_auth_check >= AUTH_CHECK_INTERVAL:
            last_auth_check = now
            try:
                auth = await asyncio.wait_for(app.client.auth_test(), timeout=3)
                rt.bot_user_id = rt.bot_user_id or auth.get("user_id", "")
                rt.slack_ok = checks["slack"] = bool(auth.get("ok"))
            except Exception as exc:  # readiness reports, never raises
                log.warning("readiness: slack auth failed: %s", exc)
        return web.json_response(checks, status=200 if all(checks.values()) else 503)

    async def reload(request: web.Request) -> web.Response:
        token = rt.settings.admin_token
        header = request.headers.get("Authorization", "")
        given = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        # Bytes: compare_digest refuses str with non-ASCII characters (a TypeError, i.e. a 500).
        if not token or not given or not hmac.compare_digest(given.encode(errors="replace"), token.encode()):
            return web.json_response({"error": "forbidden"}, status=403)
        ok = await reload_knowledge(rt)
        return web.json_response({"reloaded": ok}, status=200 if ok else 422)

    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get("/metrics", rt.metrics.aiohttp_handler()),
        web.post(RELOAD_PATH, reload),
    ]


def events_route(app: AsyncApp, rt: Runtime, refusals: Refusals, body_timeout: float = BODY_TIMEOUT) -> web.RouteDef:
    secret = rt.settings.signing_secret or ""
    in_flight = {True: 0, False: 0}  # small lane, large lane: bytes reserved against BODY_BUDGET

    def refuse(status: int, reason: str) -> web.Response:
        refusals.note(reason)
        response = web.json_response({"error": reason}, status=status)
        response.force_close()  # an unread body makes the connection useless for another request
        return response

    async def events(request: web.Request) -> web.Response:
        headers = request.headers
        try:
            length = request.content_length
        except ValueError:  # aiohttp rejects most bad Content-Length values itself; this is the rest
            length = None
        refusal = precheck(headers, length, time.time())
        if refusal is not None:
            return refuse(*refusal)
        assert length is not None
        lane = length <= SMALL_BODY
        if in_flight[lane] + length > BODY_BUDGET:
            return refuse(503, "busy")
        in_flight[lane] += length
        try:
            try:
                raw = await asyncio.wait_for(request.read(), body_timeout)
            except TimeoutError:
                return refuse(408, "read_timeout")
            except (HttpProcessingError, web.HTTPException, ConnectionError, OSError):
                return refuse(400, "incomplete")
            timestamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
            if not secret or not signature_ok(secret, raw, timestamp, signature):
                return refuse(401, "bad_signature")
            try:
                bolt_request = AsyncBoltRequest(body=raw.decode("utf-8"), query=request.query_string, headers=headers)
                parsed = isinstance(bolt_request.body, dict)
                error = "" if parsed else "not an object"
            # Bolt's parser fails in many ways on junk (`[]`, `null`, 100k nested brackets, bad UTF-8); all
            # of them mean the same: this signed body is no Slack payload.
            except (ValueError, RecursionError, TypeError, AttributeError, KeyError) as exc:
                parsed, error = False, type(exc).__name__
            if not parsed:
                rt.metrics.events.labels(kind="malformed").inc()
                log.warning("malformed event body refused: %s", error)
                return web.json_response({"error": "malformed body"}, status=400)
            return await to_aiohttp_response(await app.async_dispatch(bolt_request))
        finally:
            in_flight[lane] -= length

    return web.post(EVENTS_PATH, events)


def oauth_routes(app: AsyncApp) -> list[web.RouteDef]:
    """OAuth install (several workspaces): the "Add to Slack" start and Slack's redirect back. Both are GETs
    from a person's browser, not signed by Slack; the flow checks its own `state` value."""
    flow = app.oauth_flow

    def bolt_request(request: web.Request) -> AsyncBoltRequest:
        return AsyncBoltRequest(body="", query=request.query_string, headers=request.headers)

    async def install(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_installation(bolt_request(request)))

    async def callback(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(bolt_request(request)))

    return [web.get(flow.install_path, install), web.get(flow.redirect_uri_path, callback)]


def http_app(
    app: AsyncApp,
    rt: Runtime,
    with_events: bool = True,
    with_ops: bool = True,
    *,
    refusal_interval: float = REFUSAL_LOG_INTERVAL,
    body_timeout: float = BODY_TIMEOUT,
) -> web.Application:
    """The aiohttp application: /slack/events (with_events) and /readyz, /metrics, /admin/reload (with_ops);
    /healthz always."""
    web_app = web.Application(client_max_size=MAX_BODY)
    routes = ops_routes(app, rt)
    if not with_ops:
        routes = [r for r in routes if r.path == "/healthz"]
    if with_events:
        refusals = Refusals(rt.metrics, refusal_interval)
        routes.append(events_route(app, rt, refusals, body_timeout))
        if app.oauth_flow is not None:
            routes += oauth_routes(app)

        async def summaries(_: web.Application) -> AsyncIterator[None]:
            async def every_interval() -> None:
                while True:
                    await asyncio.sleep(refusal_interval)
                    refusals.flush()

            task = asyncio.create_task(every_interval())
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            refusals.flush()

        web_app.cleanup_ctx.append(summaries)
    web_app.add_routes(routes)
    return web_app


def app_runner(web_app: web.Application, idle_timeout: float = IDLE_TIMEOUT) -> web.AppRunner:
    """The runner with the connection limits an open port needs (no access log: it would log every flood)."""
    return web.AppRunner(web_app, access_log=None, keepalive_timeout=idle_timeout, lingering_time=LINGER)


async def apply_channel_modes(rt: Runtime) -> None:
    """The modes of KRATOS_BOT_CHANNEL_MODES_FILE, written to the state store at each start (a channel the
    file names is back to the file's mode after a restart; others keep what `/kratos config` set)."""
    for channel, mode in (rt.settings.channel_modes or {}).items():
        await rt.set_channel_mode(channel, None if mode == "mention" else mode)
    if rt.settings.channel_modes:
        log.info("channel modes from file: %s", rt.settings.channel_modes)


def socket_handler(app: AsyncApp, settings: Settings, rt: Runtime | None = None) -> AsyncSocketModeHandler:
    handler = AsyncSocketModeHandler(app, settings.app_token, web_client=app.client)
    if rt is not None:
        rt.socket_connected = handler.client.is_connected
    return handler


def sites(app: AsyncApp, rt: Runtime, settings: Settings) -> list[tuple[web.Application, int]]:
    """The aiohttp applications to serve and their ports: Socket Mode's health server; HTTP mode's one port,
    or with OPS_PORT the events port and the operations port."""
    if settings.socket_mode:
        return [(http_app(app, rt, with_events=False), settings.health_port)]
    if settings.ops_port:
        return [
            (http_app(app, rt, with_ops=False), settings.port),
            (http_app(app, rt, with_events=False), settings.ops_port),
        ]
    return [(http_app(app, rt), settings.port)]


async def start_sites(app: AsyncApp, rt: Runtime, settings: Settings, host: str = "0.0.0.0") -> list[web.AppRunner]:
    """Listen on every port the settings ask for (events, and the ops port when set); the caller cleans up."""
    runners = []
    for web_app, port in sites(app, rt, settings):
        runner = app_runner(web_app, settings.http_idle_timeout)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        runners.append(runner)
    return runners


async def _serve(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    # Before the knowledge load (seconds on a busy node): a SIGTERM meanwhile stops the start-up cleanly
    # once the load is done, instead of killing the process.
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    app, rt = create(settings)
    reloads: set[asyncio.Task] = set()

    def on_sighup() -> None:
        task = asyncio.create_task(reload_knowledge(rt))
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_sighup)
    rt.outbox.start()  # replies left unposted by an earlier run go out once their lease has run out
    await apply_channel_modes(rt)
    runners = await start_sites(app, rt, settings)
    handler = None
    if settings.socket_mode:
        handler = socket_handler(app, settings, rt)
        # Connecting retries for as long as Slack is unreachable; SIGTERM must still stop the pod then.
        connect = asyncio.create_task(handler.connect_async())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({connect, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connect.done() and connect.exception() is None:
            log.info("connected in Socket Mode; health on port %s", settings.health_port)
        elif connect.done():
            log.error("Socket Mode connection failed: %s", connect.exception())
            stop.set()
        else:
            connect.cancel()
            log.info("stopped while connecting to Slack")
    elif settings.ops_port:
        log.info("serving HTTP mode on port %s, operations on port %s", settings.port, settings.ops_port)
    else:
        log.info("serving HTTP mode on port %s", settings.port)
    await stop.wait()
    if handler is not None:
        await handler.close_async()
    for runner in runners:
        await runner.cleanup()
    await rt.outbox.stop()
    await rt.state.close()


def run(settings: Settings) -> None:
    asyncio.run(_serve(settings))
