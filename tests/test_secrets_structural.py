"""Secrets by construction: what a pasted config or request holds under a credential key is masked in
the artifact itself, so no reply format, Block Kit payload, stored turn (SQLite, Redis) or log line can
carry it, whatever its spelling and however short it is."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sqlite3

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.context import turn_to_json
from bot.extract import extract
from bot.models import Curl, KratosConfig
from bot.normalize import normalize
from bot.render import to_json, to_mrkdwn, to_text
from bot.slack.messages import messages
from bot.state import open_state
from tests.redis_server import redis_server

FLOW = "530f4a51-19eb-4570-8ebc-068dfbc6f402"


def _everything(reply, turn, logs: str = "") -> str:
    """Every place a value could reach: each reply format, the Slack payloads, the stored turn, the logs."""
    return "\n".join(
        (
            to_text(reply),
            to_mrkdwn(reply),
            to_json(reply),
            json.dumps(messages(reply), ensure_ascii=False),
            turn_to_json(turn) if turn is not None else "",
            logs,
        )
    )


def _answer(triage, text: str, caplog) -> str:
    with caplog.at_level(logging.DEBUG):
        reply, turn = triage.triage(text)
    logs = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    return _everything(reply, turn, logs)


# --- row 2: config secrets, in every format and in the corrected config ------------------------------

# Mistakes that yield a corrected config (which used to echo the whole paste); the rest of a case goes under
# `selfservice:`.
_FIXABLE = "log:\n  level: warn\nselfservice:\n  flows:\n    login:\n      ui_url: 42\n"

CONFIGS = [
    pytest.param(
        "secrets:\n  cookie:\n    - Kq9vLm2XcT7pWz4R\n  cipher:\n    - Zp3xVb8NmQ1sTy6HaBcDeF0123456789\n"
        "  default:\n    - Dh7fGk2LpQ9rSx4W\n  pagination:\n    - Pg8hJk3MnB5vCx1Z\n" + _FIXABLE,
        ["Kq9vLm2XcT7pWz4R", "Zp3xVb8NmQ1sTy6HaBcDeF0123456789", "Dh7fGk2LpQ9rSx4W", "Pg8hJk3MnB5vCx1Z"],
        id="secrets-lists",
    ),
    pytest.param("secrets:\n  cookie: Cookie7hX2mQ9\n" + _FIXABLE, ["Cookie7hX2mQ9"], id="secrets-cookie-type-error"),
    pytest.param(
        "SECRETS_COOKIE=Kq9vLm2XcT7pWz4R\nSECRETS_CIPHER=Zp3xVb8NmQ1sTy6HaBcDeF0123456789\n"
        "SMTP_PASSWORD=Mail4Pw9x\nLOG_LEVEL=warn\nSELFSERVICE_FLOWS_LOGIN_UI_URL=42\n",
        ["Kq9vLm2XcT7pWz4R", "Zp3xVb8NmQ1sTy6HaBcDeF0123456789", "Mail4Pw9x"],
        id="env-lines",
    ),
    pytest.param(
        _FIXABLE + "  methods:\n    oidc:\n      enabled: true\n      config:\n        providers:\n"
        "          - id: google\n            provider: google\n            client_id: abc\n"
        "            client_secret: GhS3cr9x\n            mapper_url: file:///m.jsonnet\n"
        "          - id: apple\n            provider: apple\n            client_id: com.example\n"
        "            apple_private_key: |\n              -----BEGIN PRIVATE KEY-----\n"
        "              MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg\n"
        "              -----END PRIVATE KEY-----\n            apple_private_key_id: KEYID1\n",
        ["GhS3cr9x", "MIGTAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBHkwdwIBAQQg"],
        id="oidc-client-secret-and-apple-key",
    ),
    pytest.param(
        _FIXABLE + "    registration:\n      after:\n        password:\n          hooks:\n"
        "            - hook: web_hook\n              config:\n                url: https://hooks.example.com/x\n"
        "                method: POST\n                body: file:///b.jsonnet\n                auth:\n"
        "                  type: api_key\n                  config:\n                    name: X-Api-Key\n"
        "                    value: Wh7kQ2zR\n                    in: header\n",
        ["Wh7kQ2zR"],
        id="webhook-auth-value",
    ),
    pytest.param(
        "courier:\n  smtp:\n    connection_uri: smtps://mailer:pa{ss}w/rd9@smtp.example.com:465/\n"
        "    headers:\n      X-SES-Token: SesHdr7x9Q\n" + _FIXABLE,
        ["pa{ss}w/rd9", "SesHdr7x9Q"],
        id="smtp-headers-and-uri-password",
    ),
    pytest.param(
        "session:\n  whoami:\n    tokenizer:\n      templates:\n        jwt:\n          ttl: 1m\n"
        "          jwks_url: base64://eyJrZXlzIjpbeyJrIjoiU2VjcmV0S2V5VmFsdWUifV19\n" + _FIXABLE,
        ["eyJrZXlzIjpbeyJrIjoiU2VjcmV0S2V5VmFsdWUifV19"],
        id="tokenizer-jwks-base64",
    ),
    pytest.param(
        "kratos:\n  config:\n    dsn: postgres://kratos:Pg/9{x}w@db:5432/kratos?sslmode=disable\n"
        "    secrets:\n      cookie:\n        - HelmCook9x\n"
        "    log:\n      level: warn\n",
        ["Pg/9{x}w", "HelmCook9x"],
        id="helm-values",
    ),
    pytest.param(
        json.dumps(
            {
                "dsn": "mysql://kratos:My5ql{pw}@tcp(db:3306)/kratos",
                "secrets": {"cookie": ["JsonCook7x"]},
                "selfservice": {"flows": {"login": {"ui_url": 42}}},
                "log": {"level": "warn"},
            }
        ),
        ["My5ql{pw}", "JsonCook7x"],
        id="json-config",
    ),
]


@pytest.mark.parametrize(("text", "secrets"), CONFIGS)
def test_config_secrets_are_never_echoed(triage, caplog, text, secrets):
    out = _answer(triage, "my kratos config, why does it fail?\n" + text, caplog)
    assert "orrected config" in out or "CORRECTED CONFIG" in out  # the rewrite path is exercised
    assert [s for s in secrets if s in out] == []


def test_config_secrets_never_come_back_in_a_follow_up(triage):
    triage.answer("my config:\n" + CONFIGS[0].values[0], thread="follow")
    reply = triage.answer("why is that wrong?", thread="follow")
    out = _everything(reply, None) + repr(triage.store.history("follow"))
    assert [s for s in CONFIGS[0].values[1] if s in out] == []


def test_type_error_about_a_secret_does_not_quote_it(triage):
    reply = triage.answer("secrets:\n  cookie: Cookie7hX2mQ9\n" + _FIXABLE)
    lines = [line for s in reply.sections for line in s.lines if "secrets.cookie" in line]
    assert lines and not any("Cook" in line for line in lines)


def test_config_secret_gets_a_rotate_warning(triage):
    reply = triage.answer("my config:\n" + CONFIGS[0].values[0])
    assert "secrets.cookie" in reply.warning and "Rotate" in reply.warning


def test_masking_keeps_what_rules_read():
    text = (
        "dsn: postgres://kratos:Pg/9{x}w@db.internal:5432/kratos\nsecrets:\n  cookie:\n    - Kq9vLm2XcT7pWz4R\n"
        "  cipher: Zp3xVb8N\nselfservice:\n  methods:\n    lookup_secret:\n      enabled: true\n"
    )
    (config,) = extract(normalize(text)).of(KratosConfig)
    assert config.config["dsn"] == "postgres://kratos:****@db.internal:5432/kratos"
    assert config.config["secrets"] == {"cookie": ["****"], "cipher": "****"}  # a list stays a list
    assert config.config["selfservice"]["methods"]["lookup_secret"] == {"enabled": True}


def test_imported_hash_keeps_its_algorithm_for_the_rule(triage):
    text = (
        "curl -X POST http://127.0.0.1:4434/admin/identities -H 'Content-Type: application/json' -d "
        '\'{"schema_id": "default", "traits": {"email": "a@b.c"}, "credentials": {"password": {"config": '
        '{"password": "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"}}}}\''
    )
    reply, turn = triage.triage(text)
    assert "request-import-hash" in [f.rule for f in reply.findings]
    assert "R9h/cIPz0gi.URNNX3kh2OPST9" not in _everything(reply, turn)


# --- row 3: a short password in the corrected request ---------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        '{"method":"password","identifier":"a@b.c","password":"Summer24"}',  # re-serialised with spaces
        "identifier=a@b.c&password=Summer24",  # a form body comes back as JSON
    ],
)
def test_short_password_not_in_corrected_request(triage, body):
    text = f"why 400?\ncurl -X POST 'http://127.0.0.1:4433/self-service/login?flow={FLOW[:-1]}' -d '{body}'"
    reply = triage.answer(text)
    out = _everything(reply, None)
    assert "CORRECTED REQUEST" in to_text(reply) and "masked it" in out
    assert "Summer24" not in out


# --- row 4: what is stored, in real SQLite and real Redis ----------------------------------------

STORED = [
    pytest.param(
        f"curl -X POST 'http://127.0.0.1:4433/self-service/login?flow={FLOW}' "
        '-d \'{"method": "password", "identifier": "a@b.c", "password": "Summer24"}\'',
        "Summer24",
        id="short-json-password",
    ),
    pytest.param(
        f"curl -X POST 'http://127.0.0.1:4433/self-service/login?flow={FLOW}' "
        "-d 'method=password&identifier=a@b.c&password=Fall2023x&csrf_token=abc'",
        "Fall2023x",
        id="form-body-password",
    ),
    pytest.param(
        'my body is "{\\"method\\":\\"password\\",\\"password\\":\\"Esc4pedPw\\"}" and login says 400',
        "Esc4pedPw",
        id="escaped-quote-password",
    ),
    pytest.param(
        "curl -H 'Authorization: Basic " + base64.b64encode(b"admin:Adm1nPw").decode() + "' "
        "http://127.0.0.1:4434/admin/identities",
        base64.b64encode(b"admin:Adm1nPw").decode(),
        id="authorization-basic",
    ),
    pytest.param(
        "kratos says the key is invalid:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAv5Jm3hX8kQ\n"
        "-----END RSA PRIVATE KEY-----\n",
        "MIIEowIBAAKCAQEAv5Jm3hX8kQ",
        id="pem-body",
    ),
    pytest.param("dsn: redis://:R3dPw9@redis:6379/0 for kratos?", "R3dPw9", id="redis-url-password"),
    pytest.param(CONFIGS[4].values[0], "Wh7kQ2zR", id="webhook-key"),
    pytest.param(
        "curl http://127.0.0.1:4433/sessions/whoami -H 'X-Session-Token: st9Kx2'", "st9Kx2", id="short-session-token"
    ),
]


def _stored_raw(url: str, tmp_path, turns) -> str:
    async def scenario() -> str:
        state = open_state(url, tmp_path / "feedback.jsonl")
        try:
            for turn in turns:
                await state.append("C1:1", turn)
            if url.startswith("redis"):
                rows = await state.redis.lrange("kratos-bot:thread:C1:1", 0, -1)
                return "\n".join(row.decode() for row in rows)
        finally:
            await state.close()
        with sqlite3.connect(url.removeprefix("sqlite://")) as db:
            return "\n".join(row[0] for row in db.execute("SELECT data FROM turns"))

    return asyncio.run(scenario())


@pytest.mark.parametrize(("text", "secret"), STORED)
def test_secret_not_in_sqlite_turns(triage, tmp_path, text, secret):
    reply, turn = triage.triage(text)
    assert turn is not None
    raw = _stored_raw(f"sqlite://{tmp_path}/state.db", tmp_path, [turn])
    assert raw and secret not in raw
    assert secret not in _everything(reply, turn)


def test_secrets_not_in_redis(triage, tmp_path):
    turns = [triage.triage(text)[1] for text, _ in (p.values for p in STORED)]
    with redis_server(tmp_path) as (url, _):
        raw = _stored_raw(url, tmp_path, turns)
    assert raw.count("\n") == len(STORED) - 1
    assert [secret for _, secret in (p.values for p in STORED) if secret in raw] == []


# --- the property: any value under a secret-looking key, in any config or request shape ------------

_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Words people paste in place of a value (`"password": "string"` from an API explorer) are not secrets.
_PLACEHOLDERS = {"string", "secret", "password", "example", "changeme", "redacted", "true", "false", "null", "none"}


def _realistic(value: str) -> bool:
    # Letters and digits, like a generated secret: a plain word ("settings", "Cookie") is a word of the paste
    # or of the answer as well, and the reader may pick a topic by it.
    mixed = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    return mixed and value.lower() not in _PLACEHOLDERS and not value.lower().startswith("your")


_TOKEN = st.text(alphabet=_ALNUM, min_size=8, max_size=24).filter(_realistic)
_SHORT = st.text(alphabet=_ALNUM, min_size=6, max_size=24).filter(_realistic)


def _set(doc: dict, dotted: str, value) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        doc = doc.setdefault(part, {})
    doc[parts[-1]] = value


def _hook(auth: dict) -> list:
    return [{"hook": "web_hook", "config": {"url": "https://h.example.com/", "method": "POST", "auth": auth}}]


# (config path, how the secret is written there); each slot holds one generated value
_CONFIG_SLOTS = {
    "secrets.cookie": lambda v: [v],
    "secrets.cipher": lambda v: [v],
    "secrets.default": lambda v: [v],
    "secrets.pagination": lambda v: v,
    "dsn": lambda v: f"postgres://kratos:{v}@db:5432/kratos?sslmode=disable",
    "courier.smtp.connection_uri": lambda v: f"smtps://mailer:{v}@smtp.example.com:465/",
    "courier.smtp.headers": lambda v: {"Authorization": v},
    "courier.http.request_config": lambda v: {
        "url": "https://mail.example.com/send",
        "auth": {"type": "api_key", "config": {"name": "X-Key", "value": v, "in": "header"}},
    },
    "selfservice.methods.oidc.config.providers": lambda v: [
        {"id": "g", "provider": "google", "client_id": "cid", "client_secret": v, "mapper_url": "file:///m"}
    ],
    "selfservice.flows.registration.after.password.hooks": lambda v: _hook(
        {"type": "basic_auth", "config": {"user": "hook", "password": v}}
    ),
    "selfservice.flows.settings.after.hooks": lambda v: _hook(
        {"type": "api_key", "config": {"name": "X-Key", "value": v, "in": "header"}}
    ),
    "session.whoami.tokenizer.templates.jwt.jwks_url": lambda v: f"base64://{v}",
    "tracing.providers.otlp.authorization_header": lambda v: f"Bearer {v}",
    "serve.public.tls.key.base64": lambda v: v,
    "oauth2_provider.headers": lambda v: {"Authorization": f"Basic {v}"},
    "courier.channels": lambda v: [
        {
            "id": "sms",
            "type": "http",
            "request_config": {
                "url": "https://sms.example.com/",
                "method": "POST",
                "auth": {"type": "basic_auth", "config": {"user": "u", "password": v}},
            },
        }
    ],
    # keys Kratos does not know, named like a credential: the config-keys rule renames or removes them
    "selfservice.flows.login.api_key": lambda v: v,
    "courier.smtp.smtp_password": lambda v: v,
    "selfservice.webhook_secret": lambda v: v,
}
_ENV_SLOTS = {
    "secrets.cookie": "SECRETS_COOKIE",
    "secrets.cipher": "SECRETS_CIPHER",
    "secrets.default": "SECRETS_DEFAULT",
    "dsn": "DSN",
    "courier.smtp.connection_uri": "COURIER_SMTP_CONNECTION_URI",
}
_MISTAKES = [
    ("selfservice.flows.login.ui_url", 42),
    ("selfservice.flows.recovery.use", "otp"),
    ("log.level", "warn"),
    ("selfservice.flows.logn.ui_url", "http://x/login"),
    ("dsn", "memory"),
]


def _config_text(fmt: str, slots: dict, mistakes: list) -> str:
    if fmt == "env":
        lines = []
        for path, value in slots.items():
            raw = _CONFIG_SLOTS[path](value)
            raw = raw[0] if isinstance(raw, list) else raw
            lines.append(f"{_ENV_SLOTS[path]}={raw}")
        lines += ["SELFSERVICE_FLOWS_LOGIN_UI_URL=42", "MY_SMTP_PASSWORD=" + next(iter(slots.values()))]
        return "my env:\n" + "\n".join(lines) + "\n"
    doc: dict = {"serve": {"public": {"base_url": "https://auth.example.com/"}}}
    for path, value in mistakes:
        _set(doc, path, value)
    for path, value in slots.items():
        _set(doc, path, _CONFIG_SLOTS[path](value))
    if fmt == "json":
        return "my config:\n" + json.dumps(doc, indent=2) + "\nwhat is wrong?"
    if fmt == "helm":
        doc = {"kratos": {"config": doc}}
    return "my kratos.yml:\n" + yaml.safe_dump(doc, sort_keys=False) + "what is wrong?"


@st.composite
def _configs(draw):
    fmt = draw(st.sampled_from(["yaml", "json", "helm", "env"]))
    names = sorted(_ENV_SLOTS) if fmt == "env" else sorted(_CONFIG_SLOTS)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    slots = {path: draw(_TOKEN) for path in chosen}
    mistakes = draw(st.lists(st.sampled_from(_MISTAKES), max_size=2, unique_by=lambda m: m[0]))
    mistakes = [m for m in mistakes if m[0] not in slots]
    control = _config_text(fmt, {path: "Q" * len(v) for path, v in slots.items()}, mistakes)
    return _config_text(fmt, slots, mistakes), control, list(slots.values())


def _request_text(shape: str, header: tuple[str, str] | None, body: dict, form: bool, flow: str) -> str:
    url = f"http://127.0.0.1:4433/self-service/login?flow={flow}"
    if shape == "http":
        lines = [f"POST /self-service/login?flow={flow} HTTP/1.1", "Host: 127.0.0.1:4433"]
        if header:
            lines.append(f"{header[0]}: {header[1]}")
        return "\n".join(lines + ["Content-Type: application/json", "", json.dumps(body)]) + "\nwhy 400?"
    if shape == "mention":
        return f"I POST {url} with {json.dumps(body)} and get 400"
    if shape == "fetch":
        head = f"headers: {{'{header[0]}': '{header[1]}'}}, " if header else ""
        return f"fetch('{url}', {{method: 'POST', {head}body: JSON.stringify({json.dumps(body)})}})\ngives 400"
    data = "&".join(f"{k}={v}" for k, v in body.items() if isinstance(v, str)) if form else json.dumps(body)
    head = f" -H '{header[0]}: {header[1]}'" if header else ""
    return f"why 400?\ncurl -X POST '{url}'{head} -d '{data}'"


@st.composite
def _requests(draw):
    secrets: list[str] = []

    def slot(strategy) -> str:
        # The paste is written with markers, then filled twice: with the secrets, and with other values.
        secrets.append(draw(strategy))
        return f"@@{len(secrets) - 1}@@"

    header_kind = draw(
        st.sampled_from(["none", "bearer", "basic", "session", "cookie", "csrf_cookie", "apikey", "cookies"])
    )
    header = None
    if header_kind != "none":
        value = slot(_TOKEN)
        header = {
            "bearer": ("Authorization", f"Bearer {value}"),
            "basic": ("Authorization", "Basic " + value),
            "session": ("X-Session-Token", value),
            "cookie": ("Cookie", f"ory_kratos_session={value}; Path=/"),
            "csrf_cookie": ("Cookie", f"csrf_token_8f1e2d3c={value}"),
            "apikey": ("X-Api-Key", value),
            "cookies": ("Cookie", f"csrf_token_8f1e2d3c=abc{value}; ory_kratos_session={value}"),
        }[header_kind]
    body: dict = {"identifier": "jane@example.com"}
    if draw(st.booleans()):
        body["method"] = draw(st.sampled_from(["password", "passwrd", "code"]))
    fields = ["password", "csrf_token", "lookup_secret", "new_password", "session_token", "password_confirm"]
    for field in draw(st.lists(st.sampled_from(fields), unique=True, max_size=3)):
        body[field] = slot(_SHORT)
    if draw(st.booleans()):
        body["traits"] = {"email": "jane@example.com", "password": slot(_SHORT)}
    assume(secrets)
    shape = draw(st.sampled_from(["curl", "http", "mention", "fetch"]))
    form = shape == "curl" and "traits" not in body and draw(st.booleans())
    flow = draw(st.sampled_from([FLOW, FLOW[:-1], "{{flowId}}"]))
    template = _request_text(shape, header, body, form, flow)

    def fill(values: list[str]) -> str:
        out = template
        for i, value in enumerate(values):
            out = out.replace(f"@@{i}@@", value)
        return out

    return fill(secrets), fill(["Q" * len(v) for v in secrets]), secrets


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _leaked(triage, caplog, text: str, control: str, secrets: list[str]) -> list[str]:
    """Secrets found anywhere; `control` is the same paste with other values, to tell a secret that came back
    from a random token that happens to be a word of the paste or the answer ("settings", "selfserv")."""
    assume(not any(secret in control for secret in secrets))
    caplog.clear()
    out = _answer(triage, text, caplog)
    leaked = [secret for secret in secrets if secret in out]
    if leaked:
        caplog.clear()
        shown_anyway = _answer(triage, control, caplog)
        leaked = [secret for secret in leaked if secret not in shown_anyway]
    return leaked


@_SETTINGS
@given(_configs())
def test_property_config_doctor_never_shows_a_secret(triage, caplog, case):
    assert _leaked(triage, caplog, *case) == []


@_SETTINGS
@given(_requests())
def test_property_request_doctor_never_shows_a_secret(triage, caplog, case):
    assert _leaked(triage, caplog, *case) == []


def test_request_artifact_is_masked_before_analysis():
    text = (
        f"curl -X POST 'http://127.0.0.1:4433/self-service/login?flow={FLOW}' -u admin:Adm1nPw "
        "-H 'Cookie: ory_kratos_session=MTc0OTAyODM3N3xncTJX; lang=en' "
        '-d \'{"method": "password", "password": "Summer24", "csrf_token": "{{csrf}}"}\''
    )
    (curl,) = extract(normalize(text)).of(Curl)
    assert curl.body == {"method": "password", "password": "****", "csrf_token": "{{csrf}}"}
    assert curl.cookies == ("ory_kratos_session=MTc0…****; lang=en",)
    assert "Summer24" not in curl.raw and "Adm1nPw" not in curl.raw and "MTc0OTAyODM3N3xncTJX" not in curl.raw


def test_a_secret_does_not_pick_the_answer(triage):
    """The reader and the decision see the message with its secrets masked: a secret that happens to be a
    Kratos word ("verification") chooses no topic, so nobody learns it from which answer came back."""
    paste = (
        "my kratos.yml:\nserve:\n  public:\n    base_url: https://auth.example.com/\ntracing:\n  providers:\n"
        "    otlp:\n      authorization_header: Bearer {}\nwhat is wrong?"
    )
    answers = [triage.triage(paste.format(secret))[0] for secret in ("verification", "x7Qp2LmZ9wRt")]
    assert [[m.entry_id for m in a.matches] for a in answers] == [[m.entry_id for m in answers[1].matches]] * 2
    assert to_text(answers[0]) == to_text(answers[1])
