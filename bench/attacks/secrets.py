"""Issue 10, rows 2, 3 and 4, measured again: secrets in config pastes (every reply format, the Slack post and
a follow-up in its thread), a short password in the corrected request, and what the state store keeps
(SQLite, and Redis when `redis-server` is installed). Loopback only, bounded (well under a minute).

    .venv/bin/python bench/attacks/secrets.py

The bot runs as `kratos-bot serve` builds it in HTTP mode, against the fake Slack of tests/fakeslack.py; the
reply formats come from `kratos-bot chat` (one process per format, each paste followed by a follow-up). The
script measures the tree it lives in, so a copy of it measures an older checkout too.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file's name shadows the standard library's `secrets` (redis-py imports it): drop its directory.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import yaml  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
for _name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
    os.environ.pop(_name, None)

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bot.kb.loader import load_knowledge  # noqa: E402
from bot.pipeline import Triage  # noqa: E402
from bot.render import to_json, to_mrkdwn, to_text  # noqa: E402
from bot.slack.serve import create, http_app  # noqa: E402
from bot.slack.settings import load_settings  # noqa: E402
from tests.fakeslack import FakeSlack  # noqa: E402

SIGNING = "bench-secret"
FLOW = "530f4a51-19eb-4570-8ebc-068dfbc6f402"
FOLLOW_UP = "why is that wrong?"
PEM = "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n-----END PRIVATE KEY-----\n"


def _hook(auth: dict) -> list:
    return [{"hook": "web_hook", "config": {"url": "https://hooks.example.com/", "method": "POST", "auth": auth}}]


# Each leak class of row 2: the config fragment and the secret values in it. Every paste also carries
# `log.level: warn`, so the reply has a corrected config (which used to echo the whole paste).
CLASSES: dict[str, tuple[dict, list[str]]] = {
    "secrets.cookie": ({"secrets": {"cookie": ["Kq9vLm2XcT7pWz4R"]}}, ["Kq9vLm2XcT7pWz4R"]),
    "secrets.cipher": ({"secrets": {"cipher": ["Zp3xVb8NmQ1sTy6HaBcDeF0123456"]}}, ["Zp3xVb8NmQ1sTy6HaBcDeF0123456"]),
    "secrets.default": ({"secrets": {"default": ["Dh7fGk2LpQ9rSx4W"]}}, ["Dh7fGk2LpQ9rSx4W"]),
    "secrets.pagination": ({"secrets": {"pagination": ["Pg8hJk3MnB5vCx1Z"]}}, ["Pg8hJk3MnB5vCx1Z"]),
    "secrets.cookie as a string": ({"secrets": {"cookie": "Cookie7hX2mQ9wL"}}, ["Cookie7hX2mQ9wL"]),
    "oidc client_secret": (
        {
            "selfservice": {
                "methods": {
                    "oidc": {
                        "enabled": True,
                        "config": {
                            "providers": [
                                {
                                    "id": "google",
                                    "provider": "google",
                                    "client_id": "cid",
                                    "client_secret": "GhS3cr9xVt",
                                    "mapper_url": "file:///m.jsonnet",
                                }
                            ]
                        },
                    }
                }
            }
        },
        ["GhS3cr9xVt"],
    ),
    "oidc apple_private_key": (
        {
            "selfservice": {
                "methods": {
                    "oidc": {
                        "enabled": True,
                        "config": {
                            "providers": [
                                {
                                    "id": "apple",
                                    "provider": "apple",
                                    "client_id": "com.example",
                                    "apple_private_key": PEM,
                                    "apple_private_key_id": "KEYID1",
                                    "apple_team_id": "TEAM1",
                                    "mapper_url": "file:///m.jsonnet",
                                }
                            ]
                        },
                    }
                }
            }
        },
        ["MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg"],
    ),
    "webhook auth.config.value": (
        {
            "selfservice": {
                "flows": {
                    "registration": {
                        "after": {
                            "password": {
                                "hooks": _hook(
                                    {
                                        "type": "api_key",
                                        "config": {"name": "X-Api-Key", "value": "Wh7kQ2zRp", "in": "header"},
                                    }
                                )
                            }
                        }
                    }
                }
            }
        },
        ["Wh7kQ2zRp"],
    ),
    "webhook basic_auth password": (
        {
            "selfservice": {
                "flows": {
                    "settings": {
                        "after": {
                            "hooks": _hook({"type": "basic_auth", "config": {"user": "hook", "password": "Hk8pw2Q"}})
                        }
                    }
                }
            }
        },
        ["Hk8pw2Q"],
    ),
    "courier.smtp.headers": (
        {"courier": {"smtp": {"connection_uri": "smtp://mail:1025/", "headers": {"X-SES-Token": "SesHdr7x9Q"}}}},
        ["SesHdr7x9Q"],
    ),
    "tokenizer jwks_url base64://": (
        {
            "session": {
                "whoami": {
                    "tokenizer": {
                        "templates": {"jwt": {"jwks_url": "base64://eyJrZXlzIjpbeyJrIjoiU2VjcmV0S2V5VmFsdWUifV19"}}
                    }
                }
            }
        },
        ["eyJrZXlzIjpbeyJrIjoiU2VjcmV0S2V5VmFsdWUifV19"],
    ),
    "dsn password with /": ({"dsn": "postgres://kratos:Pg/9x8w@db:5432/kratos"}, ["Pg/9x8w"]),
    "dsn password with {}": ({"dsn": "mysql://kratos:My5ql{pw}@tcp(db:3306)/kratos"}, ["My5ql{pw}"]),
    "smtp connection_uri password with / and {}": (
        {"courier": {"smtp": {"connection_uri": "smtps://mailer:pa{ss}w/rd9@smtp.example.com:465/"}}},
        ["pa{ss}w/rd9"],
    ),
    "serve tls key base64": (
        {"serve": {"public": {"tls": {"key": {"base64": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tTUlHVEFnRUE"}}}}},
        ["LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tTUlHVEFnRUE"],
    ),
}
ENV_CLASSES = {
    "SECRETS_* env lines": (
        "SECRETS_COOKIE=Kq9vLm2XcT7pWz4R\nSECRETS_CIPHER=Zp3xVb8NmQ1sTy6HaBcDeF0123456789\n",
        ["Kq9vLm2XcT7pWz4R", "Zp3xVb8NmQ1sTy6HaBcDeF0123456789"],
    ),
    "DSN env with / in the password": ("DSN=postgres://kratos:Pg/9x8w@db:5432/kratos\n", ["Pg/9x8w"]),
    "SMTP URI env with {} in the password": (
        "COURIER_SMTP_CONNECTION_URI=smtps://mailer:pa{ss}w/rd9@smtp.example.com:465/\n",
        ["pa{ss}w/rd9"],
    ),
    "Kubernetes env list": ("env:\n  - name: SECRETS_DEFAULT\n    value: Dh7fGk2LpQ9rSx4W\n", ["Dh7fGk2LpQ9rSx4W"]),
}


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def config_pastes() -> list[tuple[str, str, list[str]]]:
    out = []
    for name, (fragment, secrets) in CLASSES.items():
        doc = _merge({"log": {"level": "warn"}}, fragment)
        out.append((f"{name} (yaml)", "my kratos.yml:\n" + yaml.safe_dump(doc, sort_keys=False), secrets))
        out.append((f"{name} (json)", "my config:\n" + json.dumps(doc, indent=2), secrets))
        helm = {"kratos": {"config": doc}}
        out.append((f"{name} (helm)", "values.yaml:\n" + yaml.safe_dump(helm, sort_keys=False), secrets))
    for name, (text, secrets) in ENV_CLASSES.items():
        out.append((name, "my env:\n" + text + "LOG_LEVEL=warn\n", secrets))
    return out


# Row 3: a password under 10 characters, in the spellings a corrected request re-serialises.
def request_pastes() -> list[tuple[str, str, list[str]]]:
    url = f"http://127.0.0.1:4433/self-service/login?flow={FLOW[:-1]}"  # malformed: the reply corrects it
    bodies = {
        "compact JSON": '{"method":"password","identifier":"a@b.c","password":"Summer24"}',
        "spaced JSON": '{"method": "password", "identifier": "a@b.c", "password": "Summer24"}',
        "form body": "method=password&identifier=a@b.c&password=Summer24",
        "JSON, no method": '{"identifier":"a@b.c","password":"Summer24"}',
    }
    out = [
        (f"curl, {name}", f"why 400?\ncurl -X POST '{url}' -d '{body}'", ["Summer24"]) for name, body in bodies.items()
    ]
    out.append(
        (
            "raw HTTP",
            f"POST /self-service/login?flow={FLOW[:-1]} HTTP/1.1\nHost: 127.0.0.1:4433\n"
            "Content-Type: application/json\n\n" + bodies["compact JSON"] + "\nwhy 400?",
            ["Summer24"],
        )
    )
    return out


# Row 4: what the issue found kept in the state store.
STORED = {
    "short password": (
        f"curl -X POST 'http://127.0.0.1:4433/self-service/login?flow={FLOW}' "
        '-d \'{"method":"password","identifier":"a@b.c","password":"Summer24"}\'',
        "Summer24",
    ),
    "form-body password": (
        f"curl -X POST 'http://127.0.0.1:4433/self-service/login?flow={FLOW}' "
        "-d 'method=password&identifier=a@b.c&password=Fall2023x&csrf_token=abc'",
        "Fall2023x",
    ),
    "escaped-quote password": (
        'my body is "{\\"method\\":\\"password\\",\\"password\\":\\"Esc4pedPw\\"}" and login says 400',
        "Esc4pedPw",
    ),
    "Authorization: Basic": (
        "curl -H 'Authorization: Basic YWRtaW46QWRtMW5QdzEy' http://127.0.0.1:4434/admin/identities",
        "YWRtaW46QWRtMW5QdzEy",
    ),
    "PEM body": (
        "kratos says the key is invalid:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAv5Jm3hX8kQ\n"
        "-----END RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAv5Jm3hX8kQ",
    ),
    "redis://:password@": ("dsn: redis://:R3dPw9@redis:6379/0 for kratos?", "R3dPw9"),
    "webhook key": (
        "my config:\n" + yaml.safe_dump(_merge({"log": {"level": "warn"}}, CLASSES["webhook auth.config.value"][0])),
        "Wh7kQ2zRp",
    ),
}


def chat_outputs(pastes: list[tuple[str, str, list[str]]]) -> dict[str, str]:
    """One `kratos-bot chat --format json` process over every paste, each followed by a follow-up turn; the
    two answers of each paste (one JSON object per line)."""
    lines = "".join(json.dumps({"text": t}) + "\n" + json.dumps({"text": FOLLOW_UP}) + "\n" for _, t, _ in pastes)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--format", "json"],
        input=lines,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    answers = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    return {name: "\n".join(answers[2 * i : 2 * i + 2]) for i, (name, _, _) in enumerate(pastes)}


async def slack_run(pastes: list[tuple[str, str, list[str]]], state_url: str, workdir: Path) -> dict[str, str]:
    """Every paste as a mention in its own thread, then a follow-up in that thread; what Slack received."""
    async with FakeSlack() as fake:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": SIGNING,
                "SLACK_API_URL": fake.api_url,
                "STATE_URL": state_url,
                "KRATOS_BOT_FEEDBACK_FILE": str(workdir / "feedback.jsonl"),
            }
        )
        app, rt = create(settings, Triage(load_knowledge()))
        runner = web.AppRunner(http_app(app, rt), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        outbox = getattr(rt, "outbox", None)
        if outbox is not None and hasattr(outbox, "start"):
            outbox.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/slack/events"
        roots = {name: f"17000{i:05d}.000100" for i, (name, _, _) in enumerate(pastes)}
        try:
            async with aiohttp.ClientSession() as http:

                async def send(event_id: str, event: dict) -> None:
                    payload = {
                        "type": "event_callback",
                        "event_id": event_id,
                        "team_id": "T1",
                        "api_app_id": "A1",
                        "event_time": int(time.time()),
                        "event": event,
                    }
                    body = json.dumps(payload).encode()
                    headers = {**FakeSlack.sign(body, SIGNING), "Content-Type": "application/json"}
                    async with http.post(url, data=body, headers=headers) as resp:
                        await resp.read()

                def threads_with(count: int) -> int:
                    per: dict[str, int] = {}
                    for p in fake.posts:
                        per[p.get("thread_ts")] = per.get(p.get("thread_ts"), 0) + 1
                    return sum(1 for r in roots.values() if per.get(r, 0) >= count)

                async def settle(count: int) -> None:
                    deadline = time.monotonic() + 30
                    while threads_with(count) < len(roots) and time.monotonic() < deadline:
                        await asyncio.sleep(0.1)

                for i, (name, text, _) in enumerate(pastes):
                    await send(
                        f"EvP{i}",
                        {
                            "type": "app_mention",
                            "user": "U1",
                            "channel": "C1",
                            "text": f"<@UBOT> {text}",
                            "ts": roots[name],
                        },
                    )
                await settle(1)
                for i, (name, _, _) in enumerate(pastes):
                    await send(
                        f"EvF{i}",
                        {
                            "type": "message",
                            "user": "U1",
                            "channel": "C1",
                            "channel_type": "channel",
                            "text": FOLLOW_UP,
                            "ts": f"18000{i:05d}.000100",
                            "thread_ts": roots[name],
                        },
                    )
                await settle(2)
                await asyncio.sleep(0.5)
        finally:
            await runner.cleanup()
            if outbox is not None and hasattr(outbox, "stop"):
                await outbox.stop()
            await rt.state.close()
        return {
            name: json.dumps([p for p in fake.posts if p.get("thread_ts") == root], ensure_ascii=False)
            for name, root in roots.items()
        }


def sqlite_dump(path: Path) -> str:
    """Every table (turns, answers, outbox, records …), as SQL."""
    with sqlite3.connect(path) as db:
        return "\n".join(db.iterdump())


def redis_dump(url: str) -> str:
    """Every key the bot wrote, whatever its type."""
    import redis

    client = redis.from_url(url)
    out: list[bytes] = []
    try:
        for key in client.scan_iter("*"):
            kind = client.type(key)
            if kind == b"string":
                out.append(client.get(key) or b"")
            elif kind == b"list":
                out.extend(client.lrange(key, 0, -1))
            elif kind == b"hash":
                out.extend(v for pair in client.hgetall(key).items() for v in pair)
            elif kind == b"zset":
                out.extend(client.zrange(key, 0, -1))
            elif kind == b"set":
                out.extend(client.smembers(key))
            elif kind == b"stream":
                out.extend(str(client.xrange(key)).encode())
    finally:
        client.close()
    return b"\n".join(out).decode(errors="replace")


def row(*cells: str) -> None:
    print("| " + " | ".join(cells) + " |", flush=True)


def leaking(pastes, outputs: dict[str, str]) -> list[str]:
    return [name for name, _, secrets in pastes if any(s in outputs[name] for s in secrets)]


def main() -> None:
    started = time.monotonic()
    configs = config_pastes()
    requests = request_pastes()
    stored = [(name, text, [secret]) for name, (text, secret) in STORED.items()]

    triage = Triage(load_knowledge())

    def formats(pastes):
        result = {}
        for name, text, _ in pastes:
            reply = triage.answer(text, thread=name)
            follow = triage.answer(FOLLOW_UP, thread=name)
            result[name] = "\n".join(f(r) for r in (reply, follow) for f in (to_text, to_mrkdwn, to_json))
        return result

    config_formats = formats(configs)
    chat_leaks = len(leaking(configs, chat_outputs(configs)))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        db = work / "state.db"
        slack = asyncio.run(slack_run(configs + requests + stored, f"sqlite://{db}", work))
        sqlite_raw = sqlite_dump(db)
        redis_raw = None
        if shutil.which("redis-server"):
            from tests.redis_server import redis_server

            with redis_server(work) as (url, _):
                asyncio.run(slack_run(stored, url, work))
                redis_raw = redis_dump(url)

    n = len(configs)
    row_formats = leaking(configs, config_formats)
    row_slack = leaking(configs, slack)
    print("| row | what | before (issue 10) | now |")
    print("|---|---|---|---|")
    row(
        "2",
        f"config pastes ({len(CLASSES)} classes x yaml/json/helm + {len(ENV_CLASSES)} env) leaking in "
        "text/mrkdwn/json incl. follow-up",
        "15 of 47 leak in every format",
        f"{len(row_formats)} of {n}",
    )
    row(
        "2",
        "... through `kratos-bot chat --format json` (mrkdwn + Block Kit), with follow-up",
        "15 of 47",
        f"{chat_leaks} of {n}",
    )
    row(
        "2",
        "... in the Slack posts (HTTP mode, fake Slack), mention + follow-up",
        "15 of 47 (posts, follow-ups)",
        f"{len(row_slack)} of {n}",
    )
    req_formats = formats(requests)
    row(
        "3",
        "short password (`Summer24`) in the reply with the corrected request",
        "echoed in the corrected request",
        f"{len(leaking(requests, req_formats))} of {len(requests)} spellings "
        f"(Slack: {len(leaking(requests, slack))} of {len(requests)})",
    )
    kept = [name for name, (_, secret) in STORED.items() if secret in sqlite_raw]
    row(
        "4",
        f"SQLite (every table): of {len(STORED)} secret classes, kept",
        f"{len(STORED)} of {len(STORED)} kept",
        f"{len(kept)} of {len(STORED)}" + (f" ({', '.join(kept)})" if kept else ""),
    )
    config_kept = sum(1 for _, _, secrets in configs if any(s in sqlite_raw for s in secrets))
    row("4", "SQLite (every table): config pastes whose secret is kept", "(part of row 2)", f"{config_kept} of {n}")
    if redis_raw is None:
        row("4", "Redis (every key)", "kept as in SQLite", "skipped: redis-server is not installed")
    else:
        kept_r = [name for name, (_, secret) in STORED.items() if secret in redis_raw]
        row(
            "4",
            f"Redis (every key): of {len(STORED)} secret classes, kept",
            "kept as in SQLite",
            f"{len(kept_r)} of {len(STORED)}" + (f" ({', '.join(kept_r)})" if kept_r else ""),
        )
    if row_formats or row_slack:
        print("leaking:", sorted(set(row_formats + row_slack)))
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
