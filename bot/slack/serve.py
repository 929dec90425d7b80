"""`kratos-bot serve`: run the Slack app in Socket Mode (SLACK_APP_TOKEN set) or HTTP mode (POST
/slack/events on PORT)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

from bot.feedback import FeedbackLog
from bot.kb.loader import load_knowledge
from bot.pipeline import Triage
from bot.slack.app import Runtime, build_app, web_client
from bot.slack.settings import Settings

log = logging.getLogger("kratos_bot.slack")
EVENTS_PATH = "/slack/events"


def create(settings: Settings, triage: Triage | None = None) -> tuple[AsyncApp, Runtime]:
    rt = Runtime(
        settings=settings, triage=triage or Triage(load_knowledge()), feedback=FeedbackLog(settings.feedback_path)
    )
    return build_app(rt, web_client(settings)), rt


def http_app(app: AsyncApp) -> web.Application:
    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    web_app.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", healthz)])
    return web_app


def socket_handler(app: AsyncApp, settings: Settings) -> AsyncSocketModeHandler:
    return AsyncSocketModeHandler(app, settings.app_token, web_client=app.client)


def run(settings: Settings) -> None:
    app, _ = create(settings)
    if settings.socket_mode:
        log.info("starting in Socket Mode")
        asyncio.run(socket_handler(app, settings).start_async())
    else:
        log.info("starting in HTTP mode on port %s", settings.port)
        web.run_app(http_app(app), port=settings.port, print=None)
