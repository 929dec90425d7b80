"""A local fake of Slack's network boundary for end-to-end tests.

`FakeSlack` is an aiohttp server bound to 127.0.0.1 on a free port. The real slack_sdk / slack_bolt clients talk
to it unchanged when they are built with ``base_url=f"{fake.url}/api/"``:

* Web API: ``POST|GET /api/<method>`` (query string, form, multipart and JSON bodies, the way slack_sdk sends
  them; note that slack_sdk sends ``auth.test`` as POST with an empty form body and ``files.info`` as GET).
* File downloads: ``GET /files/<file_id>`` (what ``url_private_download`` points at), bot token required.
* Socket Mode: a WebSocket at ``/socket?ticket=...``, the URL ``apps.connections.open`` hands out.
* ``response_url`` targets: ``POST /response/<id>`` (what bolt's ``respond()`` posts to).

Usage::

    async with FakeSlack(bot_user_id="UBOT", bot_id="BBOT") as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=f"{fake.url}/api/")
        ...

Caveat: slack_sdk routes *every* request (loopback included, NO_PROXY ignored) through HTTPS_PROXY / HTTP_PROXY
when one is set in the environment, and ``proxy=""`` does not turn that off. Tests must unset those variables.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import WSMsgType, web

__all__ = ["Call", "FakeSlack", "sign"]

HOST = "127.0.0.1"

# Form-encoded requests carry these as JSON strings; decode them so tests see the same shape as JSON bodies.
_JSON_FIELDS = ("blocks", "attachments", "metadata")

_DEFAULT_ERRORS = {429: "ratelimited", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable"}

Handler = Callable[[dict[str, Any]], "dict[str, Any] | Awaitable[dict[str, Any]]"]


class Headers(dict):
    """A plain dict of request headers whose lookups ignore case (keys are stored lower-cased)."""

    def __init__(self, items: Mapping[str, str] | None = None):
        super().__init__()
        for key, value in (items or {}).items():
            self[key] = value

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class Call(NamedTuple):
    """One Web API request as received (also those answered with an injected fault or an error)."""

    method: str
    params: dict[str, Any]
    headers: Headers


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    error: str
    remaining: int
    delay: float = 0.0


@dataclass
class _File:
    id: str
    name: str
    content: bytes
    filetype: str
    mimetype: str


def sign(body: bytes | str, secret: str, timestamp: int | str | None = None) -> dict[str, str]:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256(secret, ``v0:{timestamp}:{body}``)."""
    if isinstance(body, str):
        body = body.encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class FakeSlack:
    """Fake Slack Web API + Socket Mode server on 127.0.0.1. See the module docstring."""

    def __init__(
        self,
        *,
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        team_id: str = "T0001",
        team: str = "Fake Team",
        user: str = "kratos-support-bot",
        app_id: str = "A1",
        bot_token: str | None = None,
        app_token: str | None = None,
        scopes: str = "app_mentions:read,channels:history,chat:write,files:read,commands",
    ):
        """``bot_token`` / ``app_token``: when given, only that exact token is accepted (else ``invalid_auth``);
        when None any ``xoxb-``/``xoxp-`` (Web API) or ``xapp-`` (apps.connections.open) token is accepted."""
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_id = team_id
        self.team = team
        self.user = user
        self.app_id = app_id
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes = scopes

        self.calls: list[Call] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.downloads: list[tuple[str, int]] = []
        self.envelopes: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self.ack_payloads: dict[str, Any] = {}
        self.socket_messages: list[Any] = []
        self.responses: list[tuple[str, Any]] = []
        self.connections_total = 0
        self.reactions: dict[tuple[str, str], list[str]] = {}  # (channel, ts) -> reaction names, in order added
        self.views: dict[str, dict[str, Any]] = {}  # user id -> the App Home view published for them
        self.admins: set[str] = set()  # users.info answers is_admin for these
        # OAuth install: code -> (team id, team name, bot user id); issued bot tokens -> (team id, bot user id)
        self.install_codes: dict[str, tuple[str, str, str]] = {}
        self.tokens: dict[str, tuple[str, str]] = {}
        self.revoked: set[str] = set()
        self.token_lifetime: int | None = None  # seconds; set: tokens rotate (refresh_token, expires_in)
        self._refresh: dict[str, tuple[str, str, str]] = {}

        self._posts: list[dict[str, Any]] = []
        self._ephemerals: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, _File] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._ts_base = int(time.time())
        self._ts_seq = 0
        self._response_seq = 0
        self._current_token = ""
        self._handlers: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.info": self._files_info,
            "apps.connections.open": self._apps_connections_open,
            "reactions.add": self._reactions_add,
            "reactions.remove": self._reactions_remove,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "oauth.v2.access": self._oauth_v2_access,
        }
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_get("/files/{file_id}", self._handle_download)
        app.router.add_get("/files/{file_id}/{name}", self._handle_download)
        app.router.add_get("/socket", self._handle_socket)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        if host != HOST:  # pragma: no cover - defensive: never serve on anything but loopback
            raise RuntimeError(f"FakeSlack bound to {host}, expected {HOST}")
        self._port = port

    async def stop(self) -> None:
        await self.close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        """The ``base_url`` for slack_sdk clients."""
        return f"{self.url}/api/"

    @property
    def ws_url(self) -> str:
        return f"ws://{HOST}:{self.port}/socket"

    # ------------------------------------------------------------------ recorded traffic

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Params of the chat.postMessage calls that succeeded (not those answered with a fault or error)."""
        return list(self._posts)

    @property
    def ephemerals(self) -> list[dict[str, Any]]:
        """Params of the chat.postEphemeral calls that succeeded."""
        return list(self._ephemerals)

    @property
    def updates(self) -> list[dict[str, Any]]:
        """Params of the chat.update calls that succeeded."""
        return list(self._updates)

    def calls_to(self, method: str) -> list[Call]:
        """Every request (attempt) made to ``method``, including faulted and failed ones."""
        return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ configuration

    def add_file(
        self,
        file_id: str,
        name: str,
        content: bytes,
        filetype: str = "text",
        mimetype: str = "text/plain",
    ) -> dict[str, Any]:
        """Register a file for files.info and ``GET /files/<id>``; returns the file dict files.info will show."""
        self._files[file_id] = _File(file_id, name, content, filetype, mimetype)
        return self._file_dict(self._files[file_id])

    def add_message(
        self, channel: str, text: str, user: str = "U0001", thread_ts: str | None = None, **extra: Any
    ) -> str:
        """A message a person wrote (for conversations.replies / .history); returns its ts."""
        ts = self._next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, "team": self.team_id, **extra}
        if thread_ts:
            message["thread_ts"] = thread_ts
        self.messages[(channel, ts)] = message
        return ts

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        error: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP ``status`` and ``{"ok": false, "error": ...}``.

        429 carries ``Retry-After: retry_after`` (error ``ratelimited``); 500/503 give ``internal_error`` /
        ``service_unavailable``. ``status=200, error="channel_not_found"`` injects a plain API error.
        ``delay``: seconds to hang before answering (a client with a shorter timeout sees a timeout; nothing is
        posted either way). Faults queue up in call order.
        """
        err = error or _DEFAULT_ERRORS.get(status, "fatal_error")
        self._faults.setdefault(method, []).append(_Fault(status, retry_after, err, times, delay))

    def on(self, method: str, handler: Handler) -> Handler | None:
        """Serve ``method`` with ``handler(params) -> dict`` (sync or async; ``ok: true`` added when missing).

        Replaces a built-in method or adds one; the bearer token is still checked first. Returns the handler
        it replaces (None for a new method), so a test can wrap the built-in behaviour.
        """
        previous = self._handlers.get(method)
        self._handlers[method] = handler
        return previous

    # ------------------------------------------------------------------ Socket Mode

    @property
    def connected(self) -> bool:
        return any(not ws.closed for ws in self._sockets)

    async def wait_connected(self, timeout: float = 5.0, count: int | None = None) -> None:
        """Wait until a Socket Mode client is connected (and, with ``count``, until that many connects happened)."""

        def ready() -> bool:
            return self.connected and (count is None or self.connections_total >= count)

        what = "a Socket Mode client to connect" if count is None else f"{count} Socket Mode connections"
        await self.wait_for(ready, timeout, message=f"waiting for {what}")

    async def send_event(self, payload: dict[str, Any], retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Send an ``events_api`` envelope; returns its envelope_id.

        ``payload`` is the event_callback body; a bare event (a dict without an ``event`` key, e.g.
        ``{"type": "app_mention", ...}``) is wrapped with :meth:`event_callback` first.
        """
        if "event" not in payload:
            payload = self.event_callback(payload)
        return await self._send_envelope(
            "events_api",
            payload,
            accepts_response_payload=False,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    async def send_interactive(self, payload: dict[str, Any], accepts_response_payload: bool | None = None) -> str:
        """Send an ``interactive`` envelope (block_actions, message_action/shortcut, view_submission, ...).

        Missing ``team``/``api_app_id``/``trigger_id``, and ``response_url`` for block_actions and message_action,
        are filled in; ``response_url`` points at this fake (see ``responses``).
        """
        payload = dict(payload)
        payload.setdefault("team", {"id": self.team_id, "domain": "fake"})
        payload.setdefault("api_app_id", self.app_id)
        payload.setdefault("trigger_id", f"{uuid.uuid4().int % 10**12}.trigger")
        if payload.get("type") in ("block_actions", "message_action"):
            payload.setdefault("response_url", self.new_response_url())
        if accepts_response_payload is None:
            accepts_response_payload = payload.get("type") in ("view_submission", "block_suggestion")
        return await self._send_envelope("interactive", payload, accepts_response_payload=accepts_response_payload)

    async def send_slash_command(self, payload: dict[str, Any]) -> str:
        """Send a ``slash_commands`` envelope; missing standard fields (all strings, as Slack sends) are filled in."""
        defaults = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "team_domain": "fake",
            "channel_id": "C0001",
            "channel_name": "general",
            "user_id": "U0001",
            "user_name": "someone",
            "command": "/kratos",
            "text": "",
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.new_response_url(),
            "trigger_id": f"{uuid.uuid4().int % 10**12}.trigger",
        }
        return await self._send_envelope("slash_commands", {**defaults, **payload}, accepts_response_payload=True)

    async def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Send Slack's ``disconnect`` message; slack_sdk then opens a new connection (new apps.connections.open)."""
        msg = {"type": "disconnect", "reason": reason, "debug_info": {"host": "fakeslack"}}
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.send_str(json.dumps(msg))

    async def close_sockets(self, code: int = 1001) -> None:
        """Close every Socket Mode connection from the server side."""
        for ws in list(self._sockets):
            if not ws.closed:
                await ws.close(code=code, message=b"fakeslack closing")

    async def wait_ack(self, envelope_id: str, timeout: float = 5.0) -> Any:
        """Wait until ``envelope_id`` is acknowledged; returns the ack's payload (None when it had none)."""
        await self.wait_for(lambda: envelope_id in self.acks, timeout, message=f"waiting for ack of {envelope_id}")
        return self.ack_payloads.get(envelope_id)

    def event_callback(self, event: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Wrap an event the way the Events API delivers it."""
        body = {
            "token": "fake-verification-token",
            "team_id": self.team_id,
            "api_app_id": self.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }
        body.update(extra)
        return body

    def new_response_url(self) -> str:
        self._response_seq += 1
        return f"{self.url}/response/{self._response_seq}"

    # ------------------------------------------------------------------ helpers

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,
        message: str | None = None,
        interval: float = 0.01,
    ) -> Any:
        """Poll ``predicate()`` (sync or async) until truthy and return its value; else raise AssertionError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if inspect.isawaitable(value):
                value = await value
            if value:
                return value
            if loop.time() >= deadline:
                raise AssertionError(f"FakeSlack: timed out after {timeout}s {message or _describe(predicate)}\n{self}")
            await asyncio.sleep(interval)

    @staticmethod
    def sign(body: bytes | str, secret: str, timestamp: int | str | None = None) -> dict[str, str]:
        """Headers ``X-Slack-Signature`` / ``X-Slack-Request-Timestamp`` exactly as Slack computes them."""
        return sign(body, secret, timestamp)

    def __repr__(self) -> str:
        port = self._port if self._port is not None else "-"
        recent = ", ".join(c.method for c in self.calls[-10:]) or "none"
        return (
            f"<FakeSlack port={port} calls={len(self.calls)} (last: {recent}) posts={len(self._posts)} "
            f"ephemerals={len(self._ephemerals)} connected={self.connected} envelopes={len(self.envelopes)} "
            f"acks={len(self.acks)}>"
        )

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        headers = Headers(request.headers)
        self.calls.append(Call(method, params, headers))

        fault = self._take_fault(method)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            extra = (
                {"Retry-After": str(fault.retry_after)} if fault.status == 429 and fault.retry_after is not None else {}
            )
            return web.json_response({"ok": False, "error": fault.error}, status=fault.status, headers=extra)

        handler = self._handlers.get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": method})

        token = _bearer(headers)
        if method == "oauth.v2.access":  # authenticated by the app's client id and secret, not a token
            basic = headers.get("Authorization", "").startswith("Basic")
            if not (params.get("client_id") or basic):
                return web.json_response({"ok": False, "error": "invalid_client_id"})
            result = self._oauth_v2_access(params)
            return web.json_response(result if "error" in result else {"ok": True, **result})
        if token is None:
            return web.json_response({"ok": False, "error": "not_authed"})
        self._current_token = token
        auth_error = self._check_token(method, token)
        if auth_error is not None:
            return web.json_response({"ok": False, "error": auth_error})

        result = handler(params)
        if inspect.isawaitable(result):
            result = await result
        result = {"ok": True, **result}
        extra = {"x-oauth-scopes": self.scopes} if method == "auth.test" and token.startswith("xoxb-") else {}
        return web.json_response(result, headers=extra)

    async def _handle_download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        token = _bearer(Headers(request.headers))
        ok_token = token is not None and token.startswith("xoxb-") and self.bot_token in (None, token)
        f = self._files.get(file_id)
        status = 403 if not ok_token else 404 if f is None else 200
        self.downloads.append((file_id, status))
        if status != 200 or f is None:
            return web.Response(status=status, text="forbidden" if status == 403 else "not found")
        return web.Response(body=f.content, content_type=f.mimetype)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.responses.append((request.match_info["response_id"], body))
        return web.Response(text="ok")

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("ticket") not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True, timeout=1.0)
        await ws.prepare(request)
        self._sockets.append(ws)
        self.connections_total += 1
        try:
            open_count = sum(1 for s in self._sockets if not s.closed)
            hello = {
                "type": "hello",
                "num_connections": open_count,
                "connection_info": {"app_id": self.app_id},
                "debug_info": {},
            }
            await ws.send_str(json.dumps(hello))
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    data = msg.data
                self.socket_messages.append(data)
                if isinstance(data, dict) and "envelope_id" in data:
                    self.acks.append(data["envelope_id"])
                    self.ack_payloads[data["envelope_id"]] = data.get("payload")
        finally:
            self._sockets.remove(ws)
        return ws

    # ------------------------------------------------------------------ Web API methods

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        team_id, user_id = self.tokens.get(self._current_token, (self.team_id, self.bot_user_id))
        return {
            "url": "https://fake.slack.com/",
            "team": self.team,
            "user": self.user,
            "team_id": team_id,
            "user_id": user_id,
            "bot_id": self.bot_id if team_id == self.team_id else f"B{team_id}",
            "is_enterprise_install": False,
        }

    def _issue(self, team_id: str, name: str, bot_user_id: str) -> dict[str, Any]:
        self._ts_seq += 1
        token = f"xoxb-{team_id}-{self._ts_seq}"
        self.tokens[token] = (team_id, bot_user_id)
        out: dict[str, Any] = {
            "access_token": token,
            "token_type": "bot",
            "scope": self.scopes,
            "bot_user_id": bot_user_id,
            "app_id": self.app_id,
            "team": {"id": team_id, "name": name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": "U0001"},
        }
        if self.token_lifetime is not None:
            refresh = f"xoxe-1-{team_id}-{self._ts_seq}"
            self._refresh[refresh] = (team_id, name, bot_user_id)
            out.update(refresh_token=refresh, expires_in=self.token_lifetime)
        return out

    def _oauth_v2_access(self, params: dict[str, Any]) -> dict[str, Any]:
        """Code exchange at install, and (grant_type=refresh_token) token rotation: the old token stops working."""
        if params.get("grant_type") == "refresh_token":
            team = self._refresh.pop(str(params.get("refresh_token")), None)
            if team is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            self.revoked.update(t for t, (tid, _) in self.tokens.items() if tid == team[0])
            return self._issue(*team)
        install = self.install_codes.pop(str(params.get("code")), None)
        return self._issue(*install) if install else {"ok": False, "error": "invalid_code"}

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key):
                message[key] = params[key]
        self.messages[(channel, ts)] = message
        self._posts.append(params)
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not (params.get("text") or params.get("blocks") or params.get("attachments")):
            return {"ok": False, "error": "no_text"}
        self._ephemerals.append(params)
        return {"message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message = self.messages.get((channel, str(ts)))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._updates.append(params)
        return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Messages posted through this fake in ``channel`` (newest first), after ``oldest`` when given."""
        channel, oldest = params.get("channel"), float(params.get("oldest") or 0)
        found = [m for (c, ts), m in self.messages.items() if c == channel and float(ts) > oldest]
        return self._history_page(params, sorted(found, key=lambda m: float(m["ts"]), reverse=True))

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """The thread ``ts`` in ``channel``: messages posted through this fake with that ts or thread_ts."""
        channel, ts = params.get("channel"), str(params.get("ts", ""))
        found = [m for (c, m_ts), m in self.messages.items() if c == channel and ts in (m_ts, m.get("thread_ts"))]
        return self._history_page(params, sorted(found, key=lambda m: float(m["ts"])))

    @staticmethod
    def _history_page(params: dict[str, Any], found: list[dict[str, Any]]) -> dict[str, Any]:
        # Like Slack: message metadata is only returned when asked for.
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        limit = int(params.get("limit") or 100)
        out = [m if with_metadata else {k: v for k, v in m.items() if k != "metadata"} for m in found[:limit]]
        return {"messages": out, "has_more": len(found) > limit, "response_metadata": {"next_cursor": ""}}

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        f = self._files.get(params.get("file", ""))
        if f is None:
            return {"ok": False, "error": "file_not_found"}
        return {"file": self._file_dict(f), "comments": [], "response_metadata": {"next_cursor": ""}}

    def _apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return {"url": f"{self.ws_url}?ticket={ticket}&app_id={self.app_id}"}

    def _reactions_add(self, params: dict[str, Any]) -> dict[str, Any]:
        key, name = (str(params.get("channel")), str(params.get("timestamp"))), str(params.get("name"))
        if not all(key) or not name:
            return {"ok": False, "error": "invalid_arguments"}
        names = self.reactions.setdefault(key, [])
        if name in names:
            return {"ok": False, "error": "already_reacted"}
        names.append(name)
        return {}

    def _reactions_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        key, name = (str(params.get("channel")), str(params.get("timestamp"))), str(params.get("name"))
        if name not in self.reactions.get(key, []):
            return {"ok": False, "error": "no_reaction"}
        self.reactions[key].remove(name)
        return {}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        if not params.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
            return {"ok": False, "error": "invalid_arguments"}
        self.views[str(params["user_id"])] = view
        return {"view": {"id": f"V{len(self.views)}", **view}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        if not user:
            return {"ok": False, "error": "user_not_found"}
        return {"user": {"id": user, "name": user.lower(), "is_admin": user in self.admins, "is_owner": False}}

    # ------------------------------------------------------------------ internals

    def _check_token(self, method: str, token: str) -> str | None:
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return "not_allowed_token_type"
            return None if self.app_token in (None, token) else "invalid_auth"
        if token in self.revoked:
            return "token_expired"
        if token.startswith("xapp-"):
            return "not_allowed_token_type"
        if token.startswith("xoxp-"):
            return None
        if not token.startswith("xoxb-"):
            return "invalid_auth"
        return None if self.bot_token in (None, token) else "invalid_auth"

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    def _next_ts(self) -> str:
        self._ts_seq += 1
        return f"{self._ts_base + self._ts_seq // 1_000_000}.{self._ts_seq % 1_000_000:06d}"

    def _file_dict(self, f: _File) -> dict[str, Any]:
        url = f"{self.url}/files/{f.id}"
        return {
            "id": f.id,
            "created": self._ts_base,
            "timestamp": self._ts_base,
            "name": f.name,
            "title": f.name,
            "mimetype": f.mimetype,
            "filetype": f.filetype,
            "pretty_type": f.filetype,
            "user": "U0001",
            "mode": "hosted",
            "editable": False,
            "is_external": False,
            "is_public": False,
            "size": len(f.content),
            "url_private": url,
            "url_private_download": url,
        }

    async def _send_envelope(self, type_: str, payload: dict[str, Any], **fields: Any) -> str:
        await self.wait_connected(timeout=5.0)
        envelope = {"envelope_id": str(uuid.uuid4()), "type": type_, **fields, "payload": payload}
        ws = next(s for s in reversed(self._sockets) if not s.closed)
        await ws.send_str(json.dumps(envelope))
        self.envelopes.append(envelope)
        return envelope["envelope_id"]


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method not in ("POST", "PUT", "PATCH") or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        body = await request.json()
        if isinstance(body, dict):
            params.update(body)
        return params
    form = await request.post()
    for key, value in form.items():
        if isinstance(value, web.FileField):
            params[key] = value.file.read()
        elif key in _JSON_FIELDS and isinstance(value, str) and value[:1] in ("[", "{"):
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params


def _bearer(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    if not value.startswith("Bearer "):
        return None
    token = value[len("Bearer ") :].strip()
    return token or None


def _describe(predicate: Callable[[], Any]) -> str:
    try:
        source = inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        source = repr(predicate)
    return f"waiting for {source}"
