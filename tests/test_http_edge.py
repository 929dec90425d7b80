"""The HTTP edge under hostile traffic (issue 10, rows 5, 6 and the HTTP items of 9): the real bot's aiohttp
app on a loopback port, Slack faked at its network boundary, attackers speaking raw HTTP over sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
import yaml

from bot.logs import configure
from bot.pipeline import Triage
from bot.slack.serve import MAX_BODY, app_runner, create, http_app, sites
from bot.slack.settings import SettingsError, load_settings
from tests.fakeslack import FakeSlack
from tests.test_deploy import HTTP, bot_container, deep_merge, helm, k8s_validate, only, render  # noqa: F401
from tests.test_operations import ADMIN, SECRET, deliver
from tests.test_slack_app import SEED_TURN, mention

FORGED = "v0=" + "ab" * 32  # shaped like a signature, signed by nobody
LEAKS = ("MTc0OTAy", "SupperPassword", "hunter2-button-value")


def run(scenario):
    asyncio.run(asyncio.wait_for(scenario(), timeout=90))


def bot_settings(fake: FakeSlack, tmp_path: Path, **env: str):
    return load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "KRATOS_BOT_ADMIN_TOKEN": ADMIN,
            "KRATOS_BOT_FEEDBACK_FILE": str(tmp_path / "feedback.jsonl"),
            **env,
        }
    )


async def start(web_app, idle_timeout: float = 15.0):
    from aiohttp import web

    runner = app_runner(web_app, idle_timeout=idle_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def edge_bot(fake: FakeSlack, tmp_path: Path, kb, *, idle_timeout: float = 15.0, **http_kwargs):
    """The bot in HTTP mode behind app_runner (the runner `kratos-bot serve` uses); yields (port, runtime)."""
    app, rt = create(bot_settings(fake, tmp_path), Triage(kb))
    runner, port = await start(http_app(app, rt, **http_kwargs), idle_timeout)
    try:
        yield port, rt
    finally:
        await runner.cleanup()
        await rt.state.close()


async def raw(port: int, head: dict[str, str], body_part: bytes = b"", wait: float = 5.0):
    """POST /slack/events with `head` as headers and only `body_part` of the body; returns (status or None if
    no answer within `wait`, writer) so a caller can keep the connection open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["POST /slack/events HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in head.items())]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body_part)
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), wait)
    except TimeoutError:
        return None, writer
    return (int(status_line.split()[1]) if status_line else None), writer


async def metrics_text(http: aiohttp.ClientSession, port: int) -> str:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        return await resp.text()


# --- row 5: verify before you buffer ----------------------------------------------------------------------


def test_slow_unsigned_bodies_are_refused_before_the_body_is_read(kb, tmp_path):
    """Each connection announces a body just under 2 MiB and sends a few bytes of it. The answer must come
    from the headers alone (before, the bot waited for and buffered every body, then parsed it)."""
    near_limit = str(MAX_BODY - 100)
    fresh = str(int(time.time()))

    async def scenario():
        async with FakeSlack() as fake, edge_bot(fake, tmp_path, kb) as (port, _), aiohttp.ClientSession() as http:
            unsigned = {"Content-Type": "application/json", "Content-Length": near_limit}
            answers = await asyncio.gather(*(raw(port, unsigned, b'{"type": "event_') for _ in range(60)))
            assert [status for status, _ in answers] == [401] * 60
            odd = [
                ({**unsigned, "X-Slack-Signature": FORGED, "X-Slack-Request-Timestamp": "abc"}, 400),
                ({**unsigned, "X-Slack-Signature": FORGED, "X-Slack-Request-Timestamp": "1700000000"}, 401),
                ({**unsigned, "X-Slack-Signature": "v0=nothex", "X-Slack-Request-Timestamp": fresh}, 401),
                (
                    {
                        **unsigned,
                        "X-Slack-Signature": FORGED,
                        "X-Slack-Request-Timestamp": fresh,
                        "Content-Length": str(3 * MAX_BODY),
                    },
                    413,
                ),
                (
                    {"X-Slack-Signature": FORGED, "X-Slack-Request-Timestamp": fresh, "Transfer-Encoding": "chunked"},
                    411,
                ),
            ]
            for head, expected in odd:
                status, writer = await raw(port, head, b"1\r\n{" if "Transfer-Encoding" in head else b"{")
                assert status == expected, head
                answers.append((status, writer))
            for _, writer in answers:
                writer.close()
            text = await metrics_text(http, port)
            assert 'kratos_bot_requests_refused_total{reason="unsigned"} 60.0' in text
            assert 'kratos_bot_requests_refused_total{reason="bad_timestamp"} 1.0' in text
            assert 'kratos_bot_requests_refused_total{reason="too_large"} 1.0' in text
            # The bot still answers Slack.
            assert (
                await deliver(
                    http,
                    f"http://127.0.0.1:{port}/slack/events",
                    mention("Ev1", '{"error": {"id": "session_inactive"}}'),
                )
                == 200
            )
            await fake.wait_for(lambda: fake.posts, 10)

    run(scenario)


def test_slow_bodies_with_forged_signatures_stay_within_a_budget_and_a_deadline(kb, tmp_path):
    """Headers that look signed get their body read, but only within a shared byte budget (a 503 beyond it)
    and a read deadline (a 408); a real, small event is answered all the while."""
    fresh = str(int(time.time()))
    forged = {
        "Content-Type": "application/json",
        "Content-Length": str(MAX_BODY - 100),
        "X-Slack-Signature": FORGED,
        "X-Slack-Request-Timestamp": fresh,
    }

    async def scenario():
        async with (
            FakeSlack() as fake,
            edge_bot(fake, tmp_path, kb, body_timeout=2.0) as (port, _),
            aiohttp.ClientSession() as http,
        ):
            slow = [asyncio.create_task(raw(port, forged, b'{"type": ', wait=8)) for _ in range(12)]
            done, _ = await asyncio.wait(slow, timeout=1.0)
            assert sorted(task.result()[0] for task in done) == [503] * 4  # 8 bodies of ~2 MiB fill the lane
            assert (
                await deliver(
                    http,
                    f"http://127.0.0.1:{port}/slack/events",
                    mention("Ev1", '{"error": {"id": "session_inactive"}}'),
                )
                == 200
            )
            await fake.wait_for(lambda: fake.posts, 10)
            statuses = sorted(status for status, _ in await asyncio.gather(*slow))
            assert statuses == [408] * 8 + [503] * 4
            for task in slow:
                task.result()[1].close()
            text = await metrics_text(http, port)
            assert 'kratos_bot_requests_refused_total{reason="read_timeout"} 8.0' in text

    run(scenario)


def test_idle_and_slow_header_connections_are_closed(kb, tmp_path):
    async def closed(reader: asyncio.StreamReader) -> bool:
        try:
            while await asyncio.wait_for(reader.read(65536), 8):
                pass
        except TimeoutError:
            return False
        except ConnectionError:
            pass
        return True

    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(40):
                writer.write(b"X")  # one byte of a header that never ends
                await writer.drain()
                await asyncio.sleep(0.2)

    async def scenario():
        async with FakeSlack() as fake, edge_bot(fake, tmp_path, kb, idle_timeout=1.0) as (port, _):
            silent = await asyncio.open_connection("127.0.0.1", port)
            slow = await asyncio.open_connection("127.0.0.1", port)
            kept = await asyncio.open_connection("127.0.0.1", port)
            kept[1].write(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert (await kept[0].readline()).startswith(b"HTTP/1.1 200")
            sender = asyncio.create_task(trickle(slow[1]))
            assert await asyncio.gather(closed(silent[0]), closed(slow[0]), closed(kept[0])) == [True] * 3
            sender.cancel()
            for _, writer in (silent, slow, kept):
                writer.close()

    run(scenario)


# --- row 6: logs ------------------------------------------------------------------------------------------


def test_no_request_body_in_any_log_line_and_refusals_summarised(kb, tmp_path, capsys):
    """At DEBUG, the most Bolt, slack_sdk and aiohttp will ever print: a flood of bad signatures (a rotated
    signing secret looks the same), an interaction Bolt has no listener for, a request aiohttp cannot parse,
    and a real answered event."""
    configure("DEBUG")
    payload = json.dumps(mention("EvLeak", SEED_TURN)).encode()

    async def scenario():
        async with FakeSlack() as fake, edge_bot(fake, tmp_path, kb) as (port, _), aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/slack/events"
            rotated = {**FakeSlack.sign(payload, "the-previous-secret"), "Content-Type": "application/json"}
            for _ in range(200):
                async with http.post(url, data=payload, headers=rotated) as resp:
                    assert resp.status == 401
            click = {
                "type": "block_actions",
                "user": {"id": "U7"},
                "channel": {"id": "C7"},
                "team": {"id": "T1"},
                "api_app_id": "A1",
                "trigger_id": "t2",
                "container": {"type": "message"},
                "actions": [{"action_id": "nobody_listens", "value": "hunter2-button-value", "type": "button"}],
            }
            body = urlencode({"payload": json.dumps(click)}).encode()
            headers = {**FakeSlack.sign(body, SECRET), "Content-Type": "application/x-www-form-urlencoded"}
            async with http.post(url, data=body, headers=headers) as resp:
                assert resp.status == 404  # Bolt: no listener
            # aiohttp's own parser errors quote the bytes they choke on, in a traceback at ERROR.
            status, writer = await raw(port, {"Transfer-Encoding": "chunked"}, b"SupperPassword\r\n")
            writer.close()
            assert status == 400
            assert await deliver(http, url, mention("EvReal", SEED_TURN)) == 200
            await fake.wait_for(lambda: fake.posts, 10)
            text = await metrics_text(http, port)
            assert 'kratos_bot_requests_refused_total{reason="bad_signature"} 200.0' in text

    try:
        run(scenario)
    finally:
        logging.getLogger().handlers[:] = []
        logging.getLogger().setLevel(logging.WARNING)
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert any(line["message"] == "answered" for line in lines)  # logging was on
    leaked = [line for line in lines if any(secret in json.dumps(line) for secret in LEAKS)]
    assert leaked == []
    summaries = [line for line in lines if line["message"].startswith("refused ")]
    assert 1 <= len(summaries) <= 2  # one at the first refusal, one with the rest when the server stops
    assert sum(line["refused"]["bad_signature"] for line in summaries) == 200


def test_library_warnings_keep_where_but_not_what():
    from bot.logs import JsonFormatter, LibraryBodyFilter

    body = '{"password": "' + "hunter2" + '-button-value", '  # split: the traceback shows this source line
    try:
        json.loads(body)
    except ValueError:
        record = logging.getLogger("slack_bolt.AsyncApp").makeRecord(
            "slack_bolt.AsyncApp",
            logging.ERROR,
            __file__,
            1,
            "Failed to run listener function (error: %s)",
            (body,),
            exc_info=sys.exc_info(),
        )
    debug = logging.getLogger("slack_sdk.web").makeRecord(
        "slack_sdk.web", logging.DEBUG, __file__, 1, "Sending a request - body: %s", (body,), None
    )
    assert LibraryBodyFilter().filter(debug) is False
    assert LibraryBodyFilter().filter(record) is True
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "Failed to run listener function (details withheld)"
    assert "JSONDecodeError" in line["exception"] and "test_http_edge.py" in line["exception"]
    assert "hunter2" not in json.dumps(line)


# --- row 9: junk, admin, retry reasons, readiness ------------------------------------------------------------


JUNK = [b"[]", b"null", b"[" * 100_000 + b"]" * 100_000, b'"just a string"', b"\xff\xfe{}", b"payload=%5B%5D"]


def test_junk_bodies_get_4xx_signed_or_not(kb, tmp_path):
    async def scenario():
        async with FakeSlack() as fake, edge_bot(fake, tmp_path, kb) as (port, _), aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/slack/events"
            for body in JUNK:
                for content_type in (
                    "application/json",
                    "application/json; charset=x-no-such-charset",
                    "application/x-www-form-urlencoded",
                ):
                    async with http.post(url, data=body, headers={"Content-Type": content_type}) as resp:
                        assert resp.status == 401, (body[:20], content_type)
                    signed = {**FakeSlack.sign(body, SECRET), "Content-Type": content_type}
                    async with http.post(url, data=body, headers=signed) as resp:
                        assert 400 <= resp.status < 500, (body[:20], content_type, resp.status)
            bad_time = {**FakeSlack.sign(b"{}", SECRET), "X-Slack-Request-Timestamp": "abc"}
            async with http.post(url, data=b"{}", headers=bad_time) as resp:
                assert resp.status == 400
            non_ascii = {"X-Slack-Signature": "v0=ä", "X-Slack-Request-Timestamp": str(int(time.time()))}
            status, writer = await raw(port, {**non_ascii, "Content-Length": "2"}, b"{}")
            writer.close()
            assert status == 401
            assert await deliver(http, url, mention("Ev1", '{"error": {"id": "session_inactive"}}')) == 200
            await fake.wait_for(lambda: fake.posts, 10)

    run(scenario)


def test_admin_reload_wants_a_bearer_token_and_does_not_block_acks(kb, tmp_path):
    async def scenario():
        async with FakeSlack() as fake, edge_bot(fake, tmp_path, kb) as (port, _), aiohttp.ClientSession() as http:
            base = f"http://127.0.0.1:{port}"
            for header in (ADMIN, f"Basic {ADMIN}", f"Bearer{ADMIN}", "Bearer ", "Bearer äöü-token"):
                status, writer = await reload_raw(port, header)
                writer.close()
                assert status == 403, header
            order = []

            async def reload():
                async with http.post(f"{base}/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}) as resp:
                    assert resp.status == 200
                    order.append("reload")

            async def ack():
                await asyncio.sleep(0.05)  # the reload has begun
                assert await deliver(http, f"{base}/slack/events", mention("Ev1", "hello")) == 200
                order.append("ack")

            await asyncio.gather(reload(), ack())
            # Loading the knowledge takes ~0.4 s; the ack must not wait for it.
            assert order == ["ack", "reload"]

    run(scenario)


async def reload_raw(port: int, authorization: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /admin/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nAuthorization: "
        + authorization.encode("utf-8")
        + b"\r\n\r\n"
    )
    line = await asyncio.wait_for(reader.readline(), 5)
    return int(line.split()[1]), writer


def test_retry_reason_is_a_closed_label_set(kb, tmp_path):
    async def scenario():
        async with FakeSlack() as fake, edge_bot(fake, tmp_path, kb) as (port, _), aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{port}/slack/events"
            first = mention("EvR", '{"error": {"id": "session_inactive"}}')
            assert await deliver(http, url, first) == 200
            for n in range(50):
                assert (
                    await deliver(
                        http, url, first, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": f"made-up-{n}"}
                    )
                    == 200
                )
            assert (
                await deliver(http, url, first, **{"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"})
                == 200
            )
            text = await metrics_text(http, port)
            assert "made-up" not in text
            assert 'kratos_bot_events_retried_total{reason="other"} 50.0' in text
            assert 'kratos_bot_events_retried_total{reason="http_timeout"} 1.0' in text

    run(scenario)


def test_readyz_does_not_call_slack_on_every_request(kb, tmp_path):
    async def scenario():
        async with (
            FakeSlack(bot_token="xoxb-some-other-token") as fake,
            edge_bot(fake, tmp_path, kb) as (port, _),
            aiohttp.ClientSession() as http,
        ):
            for _ in range(20):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as resp:
                    assert resp.status == 503 and (await resp.json())["slack"] is False
            assert len(fake.calls_to("auth.test")) == 1

    run(scenario)


# --- OPS_PORT --------------------------------------------------------------------------------------------


def test_ops_port_takes_operations_off_the_events_port(kb, tmp_path):
    async def scenario():
        async with FakeSlack() as fake, aiohttp.ClientSession() as http:
            settings = bot_settings(fake, tmp_path, OPS_PORT="39990")
            app, rt = create(settings, Triage(kb))
            (events_app, events_port), (ops_app, ops_port) = sites(app, rt, settings)
            assert (events_port, ops_port) == (3000, 39990)
            runners = []
            try:
                (r1, events), (r2, ops) = (await start(events_app), await start(ops_app))
                runners = [r1, r2]
                for path in ("/metrics", "/readyz"):
                    async with http.get(f"http://127.0.0.1:{events}{path}") as resp:
                        assert resp.status == 404, path
                    async with http.get(f"http://127.0.0.1:{ops}{path}") as resp:
                        assert resp.status == 200, path
                async with http.post(
                    f"http://127.0.0.1:{events}/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"}
                ) as resp:
                    assert resp.status == 404
                for port in (events, ops):
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        assert resp.status == 200
                async with http.post(f"http://127.0.0.1:{ops}/slack/events", data=b"{}") as resp:
                    assert resp.status in (404, 405)
                assert (
                    await deliver(
                        http,
                        f"http://127.0.0.1:{events}/slack/events",
                        mention("Ev1", '{"error": {"id": "session_inactive"}}'),
                    )
                    == 200
                )
                await fake.wait_for(lambda: fake.posts, 10)
            finally:
                for runner in runners:
                    await runner.cleanup()
                await rt.state.close()

    run(scenario)


def test_ops_port_and_idle_timeout_settings():
    base = {"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_SIGNING_SECRET": "s"}
    assert load_settings(base).ops_port is None
    assert load_settings({**base, "OPS_PORT": "9090"}).ops_port == 9090
    for bad in ("3000", "x", "70000"):
        with pytest.raises(SettingsError, match="OPS_PORT"):
            load_settings({**base, "OPS_PORT": bad})
    assert load_settings(base).http_idle_timeout == 5
    assert load_settings({**base, "KRATOS_BOT_HTTP_IDLE_TIMEOUT": "75"}).http_idle_timeout == 75
    for bad in ("0", "soon"):
        with pytest.raises(SettingsError, match="KRATOS_BOT_HTTP_IDLE_TIMEOUT"):
            load_settings({**base, "KRATOS_BOT_HTTP_IDLE_TIMEOUT": bad})


def test_helm_chart_serves_operations_on_their_own_port(helm, k8s_validate, tmp_path):  # noqa: F811
    docs = render(helm, deep_merge(HTTP, {"opsPort": 9090}), tmp_path)
    for doc in docs:
        k8s_validate(doc)
    container = bot_container(docs)
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 3000, "ops": 9090}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert container[probe]["httpGet"]["port"] == "ops", probe
    assert only(docs, "ConfigMap")["data"]["OPS_PORT"] == "9090"
    service = only(docs, "Service")
    assert {p["name"]: p["targetPort"] for p in service["spec"]["ports"]} == {"http": "http", "ops": "ops"}
    values = yaml.safe_load((Path(__file__).parent.parent / "deploy/helm/kratos-support-bot/values.yaml").read_text())
    assert "opsPort" in values
