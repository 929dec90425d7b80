"""JSON-lines logging: one object per line, with the structured fields a log call passes in
`extra={"fields": {...}}`. Message text from users never goes into these fields."""

from __future__ import annotations

import json
import logging
import time
import traceback

from aiohttp.http_exceptions import HttpProcessingError


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        doc.update(getattr(record, "fields", {}) or {})
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            doc["exception"] = record.exc_text
        return json.dumps(doc, default=str)


OWN_LOGGERS = ("kratos_bot", "bot")
BOLT_LOGGER = "kratos_bot.bolt"


def bolt_logger() -> logging.Logger:
    """The logger to hand slack_bolt's AsyncApp. Bolt gives each of its middlewares and listener runners a
    logger whose level is copied from this one at start-up (from the root logger's without it), so pinning
    the `slack_bolt` parent has no effect; this one stays at WARNING whatever LOG_LEVEL says."""
    logger = logging.getLogger(BOLT_LOGGER)
    logger.setLevel(logging.WARNING)
    return logger


def _own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN_LOGGERS) and name != BOLT_LOGGER


class LibraryBodyFilter(logging.Filter):
    """The last line behind bolt_logger(): libraries (slack_bolt, slack_sdk, aiohttp, redis) print request
    and response bodies in their DEBUG and INFO lines and inside the parentheses of some warnings
    ("Unhandled request ({body})"). Below WARNING their records are dropped; from WARNING up only the text
    before the first bracket is kept, and a traceback keeps its frames but not its exception's message.
    Our own loggers never put message text in a record, so they pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _own(record.name):
            return True
        if record.levelno < logging.WARNING:
            return False
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            # aiohttp already answered 400 to a request it could not parse; its traceback quotes the bytes,
            # and anyone can send such requests as fast as they like.
            return False
        message = record.getMessage()
        cut = min((i for i in (message.find(c) for c in "({[\n") if i >= 0), default=len(message))
        if cut < len(message):
            record.msg, record.args = f"{message[:cut].rstrip(' :,')} (details withheld)", None
        if error is not None:
            # Where it failed, not what it was given: exception messages quote the data being parsed.
            frames = "".join(traceback.format_tb(error.__traceback__))
            record.exc_info = None
            record.exc_text = f"Traceback (most recent call last):\n{frames}{type(error).__name__}"
        return True


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LibraryBodyFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    bolt_logger()
    for noisy in ("slack_bolt", "slack_sdk", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
