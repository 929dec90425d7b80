"""The fake Slack speaks what the real slack_sdk clients expect (loopback only, no network)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import FakeSlack

BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-test"


def web_client(fake: FakeSlack, **kwargs) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=f"{fake.url}/api/", **kwargs)


def test_binds_loopback_on_free_port():
    async def main():
        async with FakeSlack() as a, FakeSlack() as b:
            assert a.url.startswith("http://127.0.0.1:")
            assert a.port != b.port

    asyncio.run(main())


def test_auth_test_and_post_message():
    async def main():
        async with FakeSlack(bot_user_id="UBOT", bot_id="BBOT") as fake:
            client = web_client(fake)
            auth = await client.auth_test()
            assert auth["user_id"] == "UBOT" and auth["bot_id"] == "BBOT" and auth["team_id"]
            assert {"user", "team", "url"} <= set(auth.data)
            assert auth.headers.get("x-oauth-scopes")

            first = await client.chat_postMessage(channel="C1", text="hello", thread_ts="1.000001")
            second = await client.chat_postMessage(channel="C1", blocks=[{"type": "divider"}], text="fallback")
            assert first["channel"] == "C1" and first["message"]["text"] == "hello"
            assert float(second["ts"]) > float(first["ts"])
            assert [p["text"] for p in fake.posts] == ["hello", "fallback"]
            assert fake.posts[0]["thread_ts"] == "1.000001"
            assert fake.posts[1]["blocks"] == [{"type": "divider"}]

            method, params, headers = fake.calls[0]
            assert method == "auth.test" and params == {}
            assert headers["Authorization"] == f"Bearer {BOT_TOKEN}"

            updated = await client.chat_update(channel="C1", ts=first["ts"], text="edited")
            assert updated["ts"] == first["ts"] and fake.messages[("C1", first["ts"])]["text"] == "edited"
            eph = await client.chat_postEphemeral(channel="C1", user="U1", text="psst")
            assert eph["message_ts"] and fake.ephemerals[0]["user"] == "U1"

            with pytest.raises(SlackApiError) as err:
                await client.api_call("conversations.kick", json={"channel": "C1"})
            assert err.value.response["error"] == "unknown_method"
            with pytest.raises(SlackApiError) as err:
                await AsyncWebClient(base_url=fake.api_url).auth_test()
            assert err.value.response["error"] == "not_authed"

    asyncio.run(main())


def test_rate_limited_post_is_retried_and_posted_once():
    async def main():
        async with FakeSlack() as fake:
            fake.fail_next("chat.postMessage", status=429, retry_after=0)
            client = web_client(fake)
            client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
            resp = await client.chat_postMessage(channel="C1", text="once")
            assert resp["ok"]
            assert len(fake.calls_to("chat.postMessage")) == 2
            assert [p["text"] for p in fake.posts] == ["once"]

    asyncio.run(main())


def test_faults_without_retry_surface_as_errors():
    async def main():
        async with FakeSlack() as fake:
            client = web_client(fake)
            fake.fail_next("chat.postMessage", status=429, retry_after=7)
            with pytest.raises(SlackApiError) as err:
                await client.chat_postMessage(channel="C1", text="x")
            assert err.value.response.status_code == 429
            assert err.value.response.headers["Retry-After"] == "7"
            assert err.value.response["error"] == "ratelimited"

            fake.fail_next("chat.postMessage", status=500, times=2)
            for _ in range(2):
                with pytest.raises(SlackApiError) as err:
                    await client.chat_postMessage(channel="C1", text="x")
                assert err.value.response.status_code == 500
            assert (await client.chat_postMessage(channel="C1", text="x"))["ok"]
            assert len(fake.posts) == 1

    asyncio.run(main())


def test_files_info_and_download_need_bot_token():
    async def main():
        async with FakeSlack() as fake:
            fake.add_file("F1", "kratos.yml", b"serve: {}\n", filetype="yaml", mimetype="text/yaml")
            info = await web_client(fake).files_info(file="F1")
            url = info["file"]["url_private_download"]
            assert url.startswith(fake.url) and info["file"]["size"] == 10
            async with aiohttp.ClientSession() as session:
                async with session.get(url, headers={"Authorization": f"Bearer {BOT_TOKEN}"}) as res:
                    assert res.status == 200 and await res.read() == b"serve: {}\n"
                async with session.get(url) as res:
                    assert res.status == 403
                async with session.get(url, headers={"Authorization": f"Bearer {APP_TOKEN}"}) as res:
                    assert res.status == 403
            with pytest.raises(SlackApiError) as err:
                await web_client(fake).files_info(file="F404")
            assert err.value.response["error"] == "file_not_found"

    asyncio.run(main())


def test_connections_open_requires_app_token():
    async def main():
        async with FakeSlack() as fake:
            with pytest.raises(SlackApiError) as err:
                await web_client(fake).apps_connections_open(app_token=BOT_TOKEN)
            assert err.value.response["error"] == "not_allowed_token_type"
            resp = await web_client(fake).apps_connections_open(app_token=APP_TOKEN)
            assert resp["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket")
            assert fake.calls[-1].headers["authorization"] == f"Bearer {APP_TOKEN}"

    asyncio.run(main())


def test_socket_mode_client_receives_and_acks():
    async def main():
        async with FakeSlack() as fake:
            client = SocketModeClient(app_token=APP_TOKEN, web_client=web_client(fake), ping_interval=0.2)
            received: list[SocketModeRequest] = []

            async def listener(c: SocketModeClient, req: SocketModeRequest) -> None:
                received.append(req)
                await c.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))

            client.socket_mode_request_listeners.append(listener)
            try:
                await client.connect()
                await fake.wait_connected(timeout=2)
                event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> help", "channel": "C1", "ts": "1.1"}
                envelope_id = await fake.send_event(event, retry_attempt=1, retry_reason="timeout")
                assert await fake.wait_ack(envelope_id, timeout=2) is None
                assert fake.acks == [envelope_id]
                req = received[0]
                assert req.type == "events_api" and req.retry_attempt == 1 and req.retry_reason == "timeout"
                assert req.payload["type"] == "event_callback" and req.payload["event"] == event

                command_id = await fake.send_slash_command({"command": "/kratos", "text": "help"})
                await fake.wait_ack(command_id, timeout=2)
                assert received[-1].type == "slash_commands" and received[-1].payload["text"] == "help"

                action_id = await fake.send_interactive({"type": "block_actions", "actions": [{"action_id": "a"}]})
                await fake.wait_ack(action_id, timeout=2)
                assert received[-1].payload["response_url"].startswith(fake.url)

                await asyncio.sleep(0.6)  # a few ping/pong rounds: the connection stays up
                assert await client.is_connected() and fake.connections_total == 1

                await fake.disconnect_socket()
                await fake.wait_connected(timeout=3, count=2)
                assert len(fake.calls_to("apps.connections.open")) == 2
            finally:
                await client.close()

    asyncio.run(main())


def test_wait_for_times_out_with_assertion():
    async def main():
        async with FakeSlack() as fake:
            with pytest.raises(AssertionError, match="no posts yet"):
                await fake.wait_for(lambda: fake.posts, timeout=0.05, message="no posts yet")

    asyncio.run(main())


def test_sign_matches_slack_signature_verifier():
    body = json.dumps({"type": "event_callback", "event": {"type": "app_mention"}}).encode()
    headers = FakeSlack.sign(body, "s3cret")
    assert SignatureVerifier("s3cret").is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    fixed = FakeSlack.sign(b"x", "k", timestamp=1531420618)
    assert fixed["X-Slack-Request-Timestamp"] == "1531420618"
    assert fixed["X-Slack-Signature"].startswith("v0=") and len(fixed["X-Slack-Signature"]) == 67
