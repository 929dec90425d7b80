"""Shared state behind one small async interface: thread context, processed event ids (dedupe) and
answer / feedback records. Chosen by `STATE_URL`:

- `memory://` (default): one process; records go to the feedback file so `kratos-bot stats` sees them;
- `sqlite:///path/state.db`: one instance that keeps its threads across restarts;
- `redis://host:6379/0`: several replicas; dedupe is one atomic `SET NX EX`.

Entries expire: thread context after `thread_ttl` idle seconds (default 7 days), event ids after an hour,
the payload of an ephemeral `/kratos` answer (for its "Post to channel" button, which Slack may deliver
to another replica) after a day.
Only what thread context needs is stored (artifacts with secrets masked), never the raw message.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections import OrderedDict
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from bot.context import MAX_TURNS, MemoryContextStore, Turn, turn_from_json, turn_to_json
from bot.dedupe import Deduper
from bot.feedback import FeedbackLog

THREAD_TTL = 7 * 24 * 3600
EVENT_TTL = 3600
ANSWER_TTL = 24 * 3600
MAX_MEMORY_ANSWERS = 1000
MAX_RECORDS = 200_000


class StateError(RuntimeError):
    """The state store cannot be reached: the event must not be treated as handled."""


class State(Protocol):
    async def history(self, thread: str) -> tuple[Turn, ...]: ...

    async def append(self, thread: str, turn: Turn) -> None: ...

    async def first_delivery(self, event_id: str) -> bool: ...

    async def record(self, record: dict) -> None: ...

    async def put_answer(self, answer_id: str, answer: dict) -> None: ...

    async def get_answer(self, answer_id: str) -> dict | None: ...

    async def records(self) -> list[dict]: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryState:
    def __init__(self, feedback_path: Path, thread_ttl: float = THREAD_TTL):
        self.threads = MemoryContextStore(ttl=thread_ttl)
        self.deduper = Deduper(ttl=EVENT_TTL)
        self.log = FeedbackLog(feedback_path)
        self.answers: OrderedDict[str, tuple[float, dict]] = OrderedDict()

    async def history(self, thread: str) -> tuple[Turn, ...]:
        return self.threads.history(thread)

    async def append(self, thread: str, turn: Turn) -> None:
        self.threads.append(thread, turn)

    async def first_delivery(self, event_id: str) -> bool:
        return self.deduper.first(event_id)

    async def record(self, record: dict) -> None:
        self.log.write(record)

    async def records(self) -> list[dict]:
        return self.log.records()

    async def put_answer(self, answer_id: str, answer: dict) -> None:
        self.answers[answer_id] = (time.monotonic() + ANSWER_TTL, answer)
        while len(self.answers) > MAX_MEMORY_ANSWERS:
            self.answers.popitem(last=False)

    async def get_answer(self, answer_id: str) -> dict | None:
        expires, answer = self.answers.get(answer_id, (0.0, None))
        return answer if expires > time.monotonic() else None

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


class SqliteState:
    """SQLite in WAL mode; calls run in a worker thread so the event loop never waits on disk."""

    def __init__(self, path: str, thread_ttl: float = THREAD_TTL):
        self.path = path
        self.thread_ttl = thread_ttl
        self._lock = asyncio.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS turns (thread TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS turns_thread ON turns (thread, at);
            CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, at REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS records (at REAL NOT NULL, data TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, at REAL NOT NULL, data TEXT NOT NULL);
            """
        )

    async def _run(self, fn, *args):
        async with self._lock:
            return await asyncio.to_thread(fn, *args)

    def _history(self, thread: str) -> tuple[Turn, ...]:
        cutoff = time.time() - self.thread_ttl
        last = self._db.execute("SELECT max(at) FROM turns WHERE thread = ?", (thread,)).fetchone()[0]
        if last is None or last < cutoff:
            self._db.execute("DELETE FROM turns WHERE thread = ?", (thread,))
            return ()
        rows = self._db.execute("SELECT data FROM turns WHERE thread = ? ORDER BY at, rowid", (thread,)).fetchall()
        return tuple(turn_from_json(row[0]) for row in rows[-MAX_TURNS:])

    def _append(self, thread: str, turn: Turn) -> None:
        self._db.execute("INSERT INTO turns VALUES (?, ?, ?)", (thread, time.time(), turn_to_json(turn)))
        self._db.execute("DELETE FROM turns WHERE at < ?", (time.time() - self.thread_ttl,))

    def _first(self, event_id: str) -> bool:
        now = time.time()
        self._db.execute("DELETE FROM events WHERE at < ?", (now - EVENT_TTL,))
        cursor = self._db.execute("INSERT OR IGNORE INTO events VALUES (?, ?)", (event_id, now))
        return cursor.rowcount == 1

    async def history(self, thread: str) -> tuple[Turn, ...]:
        return await self._run(self._history, thread)

    async def append(self, thread: str, turn: Turn) -> None:
        await self._run(self._append, thread, turn)

    async def first_delivery(self, event_id: str) -> bool:
        return await self._run(self._first, event_id)

    async def record(self, record: dict) -> None:
        await self._run(self._db.execute, "INSERT INTO records VALUES (?, ?)", (time.time(), json.dumps(record)))

    async def records(self) -> list[dict]:
        rows = await self._run(lambda: self._db.execute("SELECT data FROM records ORDER BY at").fetchall())
        return [json.loads(row[0]) for row in rows]

    def _put_answer(self, answer_id: str, answer: dict) -> None:
        now = time.time()
        self._db.execute("DELETE FROM answers WHERE at < ?", (now - ANSWER_TTL,))
        self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (answer_id, now, json.dumps(answer)))

    def _get_answer(self, answer_id: str) -> dict | None:
        row = self._db.execute(
            "SELECT data FROM answers WHERE id = ? AND at >= ?", (answer_id, time.time() - ANSWER_TTL)
        ).fetchone()
        return json.loads(row[0]) if row else None

    async def put_answer(self, answer_id: str, answer: dict) -> None:
        await self._run(self._put_answer, answer_id, answer)

    async def get_answer(self, answer_id: str) -> dict | None:
        return await self._run(self._get_answer, answer_id)

    async def ping(self) -> bool:
        return await self._run(lambda: self._db.execute("SELECT 1").fetchone()[0] == 1)

    async def close(self) -> None:
        await self._run(self._db.close)


class RedisState:
    PREFIX = "kratos-bot:"

    def __init__(self, url: str, thread_ttl: float = THREAD_TTL):
        import redis.asyncio as redis  # only needed for this backend

        self._errors = (redis.RedisError, OSError)
        self.redis = redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.thread_ttl = int(thread_ttl)

    async def _do(self, coro):
        try:
            return await coro
        except self._errors as exc:
            raise StateError(f"redis: {exc}") from exc

    async def history(self, thread: str) -> tuple[Turn, ...]:
        rows = await self._do(self.redis.lrange(f"{self.PREFIX}thread:{thread}", -MAX_TURNS, -1))
        return tuple(turn_from_json(row.decode()) for row in rows)

    async def append(self, thread: str, turn: Turn) -> None:
        key = f"{self.PREFIX}thread:{thread}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(key, turn_to_json(turn)).ltrim(key, -MAX_TURNS, -1).expire(key, self.thread_ttl)
        await self._do(pipe.execute())

    async def first_delivery(self, event_id: str) -> bool:
        # SET NX is atomic across replicas: exactly one of them sees True for a retried event.
        return bool(await self._do(self.redis.set(f"{self.PREFIX}event:{event_id}", 1, nx=True, ex=EVENT_TTL)))

    async def record(self, record: dict) -> None:
        key = f"{self.PREFIX}records"
        pipe = self.redis.pipeline(transaction=True)
        pipe.rpush(key, json.dumps(record)).ltrim(key, -MAX_RECORDS, -1)  # bounded: the newest records count
        await self._do(pipe.execute())

    async def records(self) -> list[dict]:
        rows = await self._do(self.redis.lrange(f"{self.PREFIX}records", 0, -1))
        return [json.loads(row) for row in rows]

    async def put_answer(self, answer_id: str, answer: dict) -> None:
        await self._do(self.redis.set(f"{self.PREFIX}answer:{answer_id}", json.dumps(answer), ex=ANSWER_TTL))

    async def get_answer(self, answer_id: str) -> dict | None:
        raw = await self._do(self.redis.get(f"{self.PREFIX}answer:{answer_id}"))
        return json.loads(raw) if raw else None

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except self._errors:
            return False

    async def close(self) -> None:
        await self.redis.aclose()


def open_state(url: str, feedback_path: Path, thread_ttl: float = THREAD_TTL) -> State:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryState(feedback_path, thread_ttl)
    if scheme == "sqlite":
        path = url[len("sqlite://") :]
        return SqliteState(path[1:] if path.startswith("//") else path, thread_ttl)
    if scheme in ("redis", "rediss", "unix"):
        return RedisState(url, thread_ttl)
    raise ValueError(f"STATE_URL scheme {scheme!r} is not one of memory, sqlite, redis")
