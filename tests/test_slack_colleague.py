"""The bot as a colleague in a team channel, end to end against the fake Slack (tests/fakeslack.py): it stays
quiet when nobody asked, answers a help channel in `auto` mode only with evidence, reads a thread it is
mentioned in late, hands a thread to people, and keeps its App Home and /kratos help. Nothing of ours is
stubbed; Slack is faked at its network boundary."""

from __future__ import annotations

import asyncio
import contextlib
import json

import aiohttp
from aiohttp import web

from bot.feedback import stats
from bot.pipeline import Triage
from bot.slack.serve import create, ops_routes, socket_handler
from bot.slack.settings import load_settings
from tests.conftest import loopback
from tests.fakeslack import FakeSlack
from tests.test_slack_app import APP_TOKEN, BOT_TOKEN, event, mention, run

ERROR = '{"error": {"id": "session_inactive", "code": 401, "reason": "No active session was found in this request."}}'


@contextlib.asynccontextmanager
async def bot(kb, tmp_path, **env):
    """A fake Slack, the real bot connected to it over Socket Mode, and the bot's runtime."""
    async with FakeSlack() as fake:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": fake.api_url,
                "KRATOS_BOT_FEEDBACK_FILE": str(tmp_path / "f.jsonl"),
                **env,
            }
        )
        app, rt = create(settings, Triage(kb))
        handler = socket_handler(app, settings, rt)
        await handler.connect_async()
        await fake.wait_connected(5)
        try:
            yield fake, rt, app
        finally:
            await handler.close_async()


async def set_mode(fake: FakeSlack, channel: str, mode: str, user: str = "UADMIN") -> str:
    before = len(fake.responses)
    await fake.send_slash_command({"text": f"config mode {mode}", "channel_id": channel, "user_id": user})
    await fake.wait_for(lambda: len(fake.responses) > before, 10)
    return fake.responses[-1][1]["text"]


async def quiet(fake: FakeSlack, posts: int, seconds: float = 1.0) -> bool:
    await asyncio.sleep(seconds)
    return len(fake.posts) == posts


def test_help_channel_in_auto_mode_answers_a_paste_and_ignores_chit_chat(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, _, _):
            fake.admins.add("UADMIN")
            assert "not" not in (await set_mode(fake, "CHELP", "auto")).split("mode")[0]
            await fake.send_event(event("Ev1", channel="CHELP", text="morning all, coffee first"))
            await fake.send_event(event("Ev2", channel="CHELP", text="anyone going to the meetup on friday?"))
            assert await quiet(fake, 0)
            await fake.send_event(
                event("Ev3", channel="CHELP", text=f"whoami keeps failing with\n{ERROR}", ts="1700000010.000100")
            )
            await fake.wait_for(lambda: fake.posts, 10)
            post = fake.posts[0]
            assert post["channel"] == "CHELP" and post["thread_ts"] == "1700000010.000100"
            assert "session_inactive" in post["text"]
            assert post["unfurl_links"] in (False, "false", "0") and post["unfurl_media"] in (False, "false", "0")
            # A channel left in the default mode answers mentions only.
            await fake.send_event(event("Ev4", channel="COTHER", text=f"this fails:\n{ERROR}"))
            assert await quiet(fake, 1)

    run(scenario)


def test_only_admins_change_a_channels_mode(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, rt, _):
            said = await set_mode(fake, "CHELP", "all", user="UNOBODY")
            assert "Only workspace admins" in said and await rt.state.channel_modes() == {}
            fake.admins.add("UADMIN")
            assert "`all` mode" in await set_mode(fake, "CHELP", "all")
            assert await rt.state.channel_modes() == {"CHELP": "all"}
            assert "`mention` mode" in await set_mode(fake, "CHELP", "mention")
            assert await rt.state.channel_modes() == {}

    run(scenario)


def test_thanks_in_a_thread_gets_a_reaction_not_a_reply(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, _, _):
            root = "1700000000.000100"
            await fake.send_event(mention("Ev1", ERROR, ts=root, channel="C1"))
            await fake.wait_for(lambda: len(fake.posts) == 1, 10)
            thanks_ts = "1700000001.000100"
            await fake.send_event(event("Ev2", text="thanks, that fixed it!", ts=thanks_ts, thread_ts=root))
            await fake.wait_for(lambda: fake.reactions.get(("C1", thanks_ts)), 10)
            assert fake.reactions[("C1", thanks_ts)] == ["white_check_mark"]
            # A side remark to a colleague in the same thread: nothing at all.
            await fake.send_event(
                event("Ev3", text="<@U777> can you look at this after lunch", thread_ts=root, ts="1700000002.000100")
            )
            # The same question again: the thread already has the answer; it stays quiet.
            await fake.send_event(event("Ev4", text=ERROR, thread_ts=root, ts="1700000003.000100"))
            assert await quiet(fake, 1, 1.5)
            # A real follow-up question is still answered.
            await fake.send_event(
                event(
                    "Ev5",
                    text="and how long does a session last before it expires?",
                    thread_ts=root,
                    ts="1700000004.000100",
                )
            )
            await fake.wait_for(lambda: len(fake.posts) == 2, 10)

    run(scenario)


def test_late_mention_answers_the_question_asked_above(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, _, _):
            root = fake.add_message("C1", "our SPA login keeps failing after the redirect, here is the response")
            fake.add_message("C1", ERROR, user="U0001", thread_ts=root)
            fake.add_message("C1", "hmm no idea, maybe ask the bot", user="U0002", thread_ts=root)
            late = fake.add_message("C1", "<@UBOT> any idea?", user="U0002", thread_ts=root)
            await fake.send_event(mention("Ev1", "any idea?", ts=late, thread_ts=root, channel="C1"))
            await fake.wait_for(lambda: fake.posts, 10)
            assert fake.posts[0]["thread_ts"] == root and "session_inactive" in fake.posts[0]["text"]
            assert fake.calls_to("conversations.replies")

    run(scenario)


def test_mention_with_a_file_is_answered_once_and_other_bots_are_ignored(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, _, _):
            file = fake.add_file("F1", "error.json", ERROR.encode(), filetype="json", mimetype="application/json")
            ts = "1700000000.000300"
            await fake.send_event(mention("Ev1", "what does this mean?", ts=ts, files=[file]))
            await fake.send_event(
                event("Ev2", subtype="file_share", text="<@UBOT> what does this mean?", ts=ts, files=[file])
            )
            await fake.wait_for(lambda: fake.posts, 10)
            assert await quiet(fake, 1) and "session_inactive" in fake.posts[0]["text"]
            # The working indicator came and went.
            assert "hourglass_flowing_sand" not in fake.reactions.get(("C1", ts), [])
            assert any(c.params.get("name") == "hourglass_flowing_sand" for c in fake.calls_to("reactions.add"))
            await fake.send_event(mention("Ev3", ERROR, ts="1700000001.000300", bot_id="BOTHER"))
            assert await quiet(fake, 1)

    run(scenario)


def test_a_files_info_error_does_not_lose_the_reply(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, _, _):
            fake.fail_next("files.info", status=200, error="file_not_found")
            await fake.send_event(mention("Ev1", ERROR, files=[{"id": "FGONE"}]))
            await fake.wait_for(lambda: fake.posts, 10)
            assert "session_inactive" in fake.posts[0]["text"]

    run(scenario)


def test_still_stuck_hands_the_thread_to_the_group_and_resolved_is_counted(kb, tmp_path):
    async def scenario():
        env = {"KRATOS_BOT_HANDOFF_CHANNEL": "CTEAM", "KRATOS_BOT_HANDOFF_GROUP": "SKRATOS"}
        async with bot(kb, tmp_path, **env) as (fake, rt, _):
            root = "1700000000.000100"
            paste = (
                ERROR + "\ncurl -H 'Cookie: ory_kratos_session=MTc0OTAyODM3N3xncTJXMGdUQjIy' "
                "https://auth.example.com/sessions/whoami  (we run kratos v1.1.0)"
            )
            await fake.send_event(mention("Ev1", paste, ts=root))
            await fake.wait_for(lambda: fake.posts, 10)
            actions = next(b for b in fake.posts[0]["blocks"] if b["type"] == "actions")
            buttons = {e["action_id"]: e for e in actions["elements"]}
            stuck = buttons["still_stuck"]
            bot_ts = next(ts for (_, ts), m in fake.messages.items() if m.get("bot_id") and m.get("thread_ts") == root)
            click = {
                "type": "block_actions",
                "user": {"id": "U1"},
                "channel": {"id": "C1"},
                "message": {"ts": bot_ts, "thread_ts": root},
                "container": {"type": "message"},
            }
            await fake.send_interactive(
                {**click, "actions": [{"action_id": "still_stuck", "value": stuck["value"], "type": "button"}]}
            )
            await fake.wait_for(lambda: any(p["channel"] == "CTEAM" for p in fake.posts), 10)
            handoff = next(p for p in fake.posts if p["channel"] == "CTEAM")["text"]
            assert "<!subteam^SKRATOS>" in handoff and "session_inactive" in handoff and "v1.1.0" in handoff
            assert "MTc0OTAyODM3N3xncTJX" not in handoff and "live secret" in handoff
            await fake.wait_for(lambda: any(p["channel"] == "C1" and "Handed over" in p["text"] for p in fake.posts))
            # A second click does not hand it over twice; follow-ups in the thread are now for people.
            await fake.send_interactive(
                {**click, "actions": [{"action_id": "still_stuck", "value": stuck["value"], "type": "button"}]}
            )
            await fake.send_event(
                event("Ev2", text="why is this still failing?", thread_ts=root, ts="1700000002.000100")
            )
            await asyncio.sleep(1.0)
            assert sum(p["channel"] == "CTEAM" for p in fake.posts) == 1
            assert not any(
                p.get("thread_ts") == root and "session" in p["text"].lower()
                for p in fake.posts[1:]
                if p["channel"] == "C1" and "Handed over" not in p["text"]
            )
            resolved = buttons["resolved"]
            await fake.send_interactive(
                {**click, "actions": [{"action_id": "resolved", "value": resolved["value"], "type": "button"}]}
            )
            await fake.wait_for(lambda: any("resolved" in e["text"] for e in fake.ephemerals), 10)
            assert fake.reactions[("C1", bot_ts)] == ["sos", "white_check_mark"]  # the thread is marked
            table = stats(await rt.state.records())
            assert table["error.session_inactive"]["handoffs"] == 1
            assert table["error.session_inactive"]["resolved"] == 1
            metrics = rt.metrics.render().decode()
            assert 'kratos_bot_handoffs_total{entry="error.session_inactive"} 1.0' in metrics
            assert 'kratos_bot_resolutions_total{entry="error.session_inactive"} 1.0' in metrics

    run(scenario)


def test_app_home_and_help(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, rt, _):
            fake.admins.add("UADMIN")
            await set_mode(fake, "CHELP", "auto")
            await fake.send_event(mention("Ev1", "how do I frobnicate the quantum widget?"))  # no answer: a gap
            await fake.wait_for(lambda: fake.posts, 10)
            await fake.send_event(event("Ev2", type="app_home_opened", user="U5", tab="home", channel="D5"))
            await fake.wait_for(lambda: "U5" in fake.views, 10)
            home = json.dumps(fake.views["U5"])
            assert "<#CHELP>" in home and "auto" in home and "without a match: 1" in home
            await fake.send_slash_command({"text": "help", "channel_id": "C1", "user_id": "U5"})
            await fake.wait_for(lambda: any("Channel modes" in r[1].get("text", "") for r in fake.responses), 10)

    run(scenario)


def test_readyz_reports_the_socket(kb, tmp_path):
    async def scenario():
        async with bot(kb, tmp_path) as (fake, rt, app):
            web_app = web.Application()
            web_app.add_routes(ops_routes(app, rt))
            runner, base = await loopback(web_app)
            try:
                async with aiohttp.ClientSession() as http:
                    async with http.get(f"{base}/readyz") as resp:
                        assert (await resp.json())["socket"] is True
                    # Slack drops the socket and refuses new ones for a while: not ready until it is back.
                    fake.fail_next("apps.connections.open", status=503, times=1000)
                    await fake.close_sockets()
                    await asyncio.sleep(0.5)
                    async with http.get(f"{base}/readyz") as resp:
                        body = await resp.json()
                    assert resp.status == 503 and body["socket"] is False
            finally:
                await runner.cleanup()

    run(scenario)
