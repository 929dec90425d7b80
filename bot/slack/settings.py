"""Settings for `kratos-bot serve`, read once from the environment. A missing or malformed value stops
start-up with one line that names the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.engage import MODES
from bot.feedback import default_feedback_path


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    bot_token: str | None  # None: installed into workspaces with OAuth (client_id, client_secret)
    app_token: str | None  # set: Socket Mode; unset: HTTP mode on PORT
    signing_secret: str | None
    api_url: str | None  # Web API base URL (default Slack's); tests and proxies point it elsewhere
    port: int
    allowed_channels: frozenset[str]  # empty: all channels
    followup_optout: frozenset[str]  # channels where thread follow-ups need a mention
    ignore_other_bots: bool
    feedback_path: Path
    state_url: str = "memory://"
    thread_ttl: float = 7 * 24 * 3600
    retention: float = 90 * 24 * 3600  # answer, feedback and hand-off records (KRATOS_BOT_RETENTION_DAYS)
    health_port: int = 8080  # Socket Mode only: /healthz, /readyz, /metrics (HTTP mode serves them on PORT)
    # HTTP mode: when set, /readyz, /metrics and /admin/* move here and PORT serves only /slack/events and
    # /healthz, so the port exposed to Slack does not also expose operations.
    ops_port: int | None = None
    admin_token: str | None = None  # enables POST /admin/reload (kratos-bot kb reload)
    slack_timeout: int = 10  # seconds per Web API call before it counts as failed (then retried, bounded)
    # HTTP mode: seconds a connection may take to deliver a request's headers, and stay idle between requests.
    # Behind a proxy that pools connections, set it above the proxy's upstream keep-alive timeout.
    http_idle_timeout: int = 5
    redis_pool: int = 50  # Redis connections per process; a burst waits for a free one (2 s at most)
    # "Still stuck" hand-offs: posted to this channel, mentioning this user group (either may be unset).
    handoff_channel: str | None = None
    handoff_group: str | None = None
    channel_modes: dict | None = None  # channel id -> mode, from KRATOS_BOT_CHANNEL_MODES_FILE (applied at start)
    admins: frozenset[str] = frozenset()  # user ids allowed to change channel modes besides workspace admins
    # OAuth install into several workspaces (HTTP mode): /slack/install and /slack/oauth_redirect
    client_id: str | None = None
    client_secret: str | None = None
    token_rotation_minutes: int = 120  # refresh a rotating bot token this long before it expires

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def oauth(self) -> bool:
        return self.client_id is not None

    @property
    def handoff(self) -> bool:
        return bool(self.handoff_channel or self.handoff_group)


def _channels(value: str) -> frozenset[str]:
    return frozenset(c.strip() for c in value.split(",") if c.strip())


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _port(env: Mapping[str, str], name: str, default: str) -> int:
    raw = env.get(name, default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SettingsError(f"{name} must be a port number, not {raw!r}")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: str) -> int:
    raw = env.get(name, default)
    if not raw.isdigit() or int(raw) == 0:
        raise SettingsError(f"{name} must be a whole number of seconds, not {raw!r}")
    return int(raw)


def _count(env: Mapping[str, str], name: str, default: str) -> int:
    raw = env.get(name, default)
    if not raw.isdigit() or int(raw) == 0:
        raise SettingsError(f"{name} must be a whole number above 0, not {raw!r}")
    return int(raw)


def _channel_modes(env: Mapping[str, str]) -> dict | None:
    name = "KRATOS_BOT_CHANNEL_MODES_FILE"
    path = env.get(name)
    if not path:
        return None
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"{name}: {path} cannot be read as YAML ({type(exc).__name__})") from None
    channels = doc.get("channels") if isinstance(doc, dict) else None
    if not isinstance(channels, dict) or any(mode not in MODES for mode in channels.values()):
        raise SettingsError(f"{name}: {path} must hold `channels: {{<channel id>: {'|'.join(MODES)}}}`")
    return {str(channel): str(mode) for channel, mode in channels.items()}


def _id(env: Mapping[str, str], name: str, prefixes: str) -> str | None:
    raw = env.get(name) or None
    if raw is not None and (raw[0] not in prefixes or not raw.isalnum()):
        raise SettingsError(f"{name} must be a Slack id starting with {' or '.join(prefixes)}, not {raw!r}")
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    client_id, client_secret = env.get("SLACK_CLIENT_ID") or None, env.get("SLACK_CLIENT_SECRET") or None
    if (client_id is None) != (client_secret is None):
        raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (OAuth install); set both or neither")
    bot_token = env.get("SLACK_BOT_TOKEN") or None
    if bot_token is None and client_id is None:
        raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-…; or SLACK_CLIENT_ID for OAuth install)")
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
    app_token = env.get("SLACK_APP_TOKEN") or None
    if client_id is not None and app_token is not None:
        raise SettingsError("SLACK_CLIENT_ID (OAuth install) needs HTTP mode: unset SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp- (or unset for HTTP mode)")
    signing_secret = env.get("SLACK_SIGNING_SECRET") or None
    if app_token is None and signing_secret is None:
        raise SettingsError("SLACK_SIGNING_SECRET is not set (needed in HTTP mode, i.e. without SLACK_APP_TOKEN)")
    api_url = env.get("SLACK_API_URL") or None
    if api_url is not None:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"SLACK_API_URL must be an http(s) URL, not {api_url!r}")
        api_url = api_url if api_url.endswith("/") else api_url + "/"
    port = _port(env, "PORT", "3000")
    health_port = _port(env, "HEALTH_PORT", "8080")
    ops_port = _port(env, "OPS_PORT", "") if env.get("OPS_PORT") else None
    if ops_port is not None and app_token is None and ops_port == port:
        raise SettingsError(f"OPS_PORT must differ from PORT ({port}); unset it to serve everything on PORT")
    state_url = env.get("STATE_URL") or "memory://"
    if urlsplit(state_url).scheme not in ("memory", "sqlite", "redis", "rediss", "unix"):
        raise SettingsError(f"STATE_URL must start with memory://, sqlite:/// or redis://, not {state_url!r}")
    raw_ttl = env.get("KRATOS_BOT_THREAD_TTL", str(7 * 24 * 3600))
    if not raw_ttl.isdigit() or int(raw_ttl) == 0:
        raise SettingsError(f"KRATOS_BOT_THREAD_TTL must be a number of seconds, not {raw_ttl!r}")
    return Settings(
        bot_token=bot_token,
        app_token=app_token,
        signing_secret=signing_secret,
        api_url=api_url,
        port=port,
        allowed_channels=_channels(env.get("KRATOS_BOT_CHANNELS", "")),
        followup_optout=_channels(env.get("KRATOS_BOT_FOLLOWUP_OPTOUT", "")),
        ignore_other_bots=_bool(env, "KRATOS_BOT_IGNORE_BOTS", True),
        feedback_path=default_feedback_path(env),
        state_url=state_url,
        thread_ttl=float(raw_ttl),
        retention=_count(env, "KRATOS_BOT_RETENTION_DAYS", "90") * 24 * 3600.0,
        health_port=health_port,
        ops_port=ops_port,
        admin_token=env.get("KRATOS_BOT_ADMIN_TOKEN") or None,
        slack_timeout=_seconds(env, "KRATOS_BOT_SLACK_TIMEOUT", "10"),
        redis_pool=_count(env, "KRATOS_BOT_REDIS_POOL", "50"),
        http_idle_timeout=_seconds(env, "KRATOS_BOT_HTTP_IDLE_TIMEOUT", "5"),
        handoff_channel=_id(env, "KRATOS_BOT_HANDOFF_CHANNEL", "CG"),
        handoff_group=_id(env, "KRATOS_BOT_HANDOFF_GROUP", "S"),
        channel_modes=_channel_modes(env),
        admins=_channels(env.get("KRATOS_BOT_ADMINS", "")),
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_minutes=_count(env, "KRATOS_BOT_TOKEN_ROTATION_MINUTES", "120"),
    )
