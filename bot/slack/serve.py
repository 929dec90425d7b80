"""`kratos-bot serve`: run the Slack app in Socket Mode (SLACK_APP_TOKEN set) or HTTP mode (POST
/slack/events on PORT), with /healthz, /readyz, /metrics and an admin-only knowledge reload."""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.kb.loader import load_knowledge
from bot.pipeline import Triage
from bot.slack.app import Runtime, build_app, web_client
from bot.slack.settings import Settings
from bot.state import open_state

log = logging.getLogger("kratos_bot.slack")
EVENTS_PATH = "/slack/events"
RELOAD_PATH = "/admin/reload"


def create(settings: Settings, triage: Triage | None = None) -> tuple[AsyncApp, Runtime]:
    state = open_state(settings.state_url, settings.feedback_path, settings.thread_ttl)
    rt = Runtime(settings=settings, triage=triage or Triage(load_knowledge()), state=state)
    return build_app(rt, web_client(settings)), rt


def ops_routes(app: AsyncApp, rt: Runtime) -> list[web.RouteDef]:
    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        checks = {"knowledge": bool(rt.triage.kb.entries), "state": await rt.state.ping(), "slack": rt.slack_ok}
        if not checks["slack"]:
            try:
                auth = await asyncio.wait_for(app.client.auth_test(), timeout=3)
                rt.bot_user_id = rt.bot_user_id or auth.get("user_id", "")
                rt.slack_ok = checks["slack"] = bool(auth.get("ok"))
            except Exception as exc:  # readiness reports, never raises
                log.warning("readiness: slack auth failed: %s", exc)
        return web.json_response(checks, status=200 if all(checks.values()) else 503)

    async def metrics(request: web.Request) -> web.Response:
        return web.Response(body=rt.metrics.render(), content_type="text/plain", charset="utf-8")

    async def reload(request: web.Request) -> web.Response:
        token = rt.settings.admin_token
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token or not hmac.compare_digest(given, token):
            return web.json_response({"error": "forbidden"}, status=403)
        ok = rt.reload()
        return web.json_response({"reloaded": ok}, status=200 if ok else 422)

    return [
        web.get("/healthz", healthz),
        web.get("/readyz", readyz),
        web.get("/metrics", metrics),
        web.post(RELOAD_PATH, reload),
    ]


def http_app(app: AsyncApp, rt: Runtime, with_events: bool = True) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, UnicodeDecodeError) as exc:  # a body that is not JSON or form data
            rt.metrics.events.labels(kind="malformed").inc()
            log.warning("malformed event body refused: %s", type(exc).__name__)
            return web.json_response({"error": "malformed body"}, status=400)
        return await to_aiohttp_response(await app.async_dispatch(bolt_request))

    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app.add_routes(ops_routes(app, rt) + ([web.post(EVENTS_PATH, events)] if with_events else []))
    return web_app


def socket_handler(app: AsyncApp, settings: Settings) -> AsyncSocketModeHandler:
    return AsyncSocketModeHandler(app, settings.app_token, web_client=app.client)


async def _serve(settings: Settings) -> None:
    app, rt = create(settings)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, rt.reload)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    port = settings.health_port if settings.socket_mode else settings.port
    runner = web.AppRunner(http_app(app, rt, with_events=not settings.socket_mode), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "0.0.0.0", port).start()
    handler = None
    if settings.socket_mode:
        handler = socket_handler(app, settings)
        # Connecting retries for as long as Slack is unreachable; SIGTERM must still stop the pod then.
        connect = asyncio.create_task(handler.connect_async())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({connect, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if connect.done() and connect.exception() is None:
            log.info("connected in Socket Mode; health on port %s", port)
        elif connect.done():
            log.error("Socket Mode connection failed: %s", connect.exception())
            stop.set()
        else:
            connect.cancel()
            log.info("stopped while connecting to Slack")
    else:
        log.info("serving HTTP mode on port %s", port)
    await stop.wait()
    if handler is not None:
        await handler.close_async()
    await runner.cleanup()
    await rt.state.close()


def run(settings: Settings) -> None:
    asyncio.run(_serve(settings))
