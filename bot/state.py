"""Shared state behind one small async interface: thread context, processed event ids (dedupe), answer /
feedback records and the outbox of replies not yet posted. Chosen by `STATE_URL`:

- `memory://` (default): one process; records go to the feedback file so `kratos-bot stats` sees them;
  the outbox lives as long as the process;
- `sqlite:///path/state.db`: one instance that keeps its threads and unposted replies across restarts;
- `redis://host:6379/0`: several replicas; dedupe is one atomic `SET NX EX`, an outbox item is claimed by
  one replica at a time (a lease, taken in one Lua script).

Entries expire: thread context after `thread_ttl` idle seconds (default 7 days: a thread's turns go together,
when its last turn is that old), event ids after an hour, the payload of an ephemeral `/kratos` answer (for its
"Post to channel" button, which Slack may deliver to another replica) after a day, the summary an answer keeps
for its "Still stuck" button with the thread, and answer / feedback / hand-off records after `retention`
seconds (default 90 days). Outbox items leave when posted or given up (bot/slack/outbox.py). Channel modes
(bot/engage.py) are kept until changed.
Only what thread context needs is stored (artifacts with secrets masked), never the raw message; the
outbox holds the composed reply, the same text Slack is about to show.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import json
import logging
import sqlite3
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from bot.context import MAX_TURNS, MemoryContextStore, Turn, turn_from_json, turn_to_json
from bot.dedupe import Deduper
from bot.feedback import FeedbackLog

THREAD_TTL = 7 * 24 * 3600
EVENT_TTL = 3600
ANSWER_TTL = 24 * 3600
RETENTION = 90 * 24 * 3600
FOREVER = 1e300  # SQLite `expires` of a value kept until deleted
PRUNE_INTERVAL = 24 * 3600.0  # memory://: seconds between rewrites of the feedback file without old records
MAX_MEMORY_ANSWERS = 1000
MAX_RECORDS = 200_000
MAX_RECENT_EVENTS = 500_000  # SQLite's in-memory dedupe front: an hour of events at well over 100/s
EVENT_FLUSH_DELAY = 0.05  # seconds SQLite gathers event ids before writing them in one transaction
SWEEP_INTERVAL = 60.0  # seconds between SQLite's deletions of expired rows (reads check expiry themselves)
REDIS_POOL = 50
REDIS_POOL_WAIT = 2.0  # seconds; dedupe runs before the ack and Slack gives up on it after 3

log = logging.getLogger("kratos_bot.state")


class StateError(RuntimeError):
    """The state store cannot be reached: the event must not be treated as handled."""


class State(Protocol):
    async def history(self, thread: str) -> tuple[Turn, ...]: ...

    async def append(self, thread: str, turn: Turn) -> None: ...

    async def first_delivery(self, event_id: str) -> bool: ...

    async def record(self, record: dict) -> None: ...

    async def put_answer(self, answer_id: str, answer: dict, ttl: float | None = ANSWER_TTL) -> None:
        """Keep a value for `ttl` seconds (None: until deleted; Slack installations)."""
        ...

    async def get_answer(self, answer_id: str) -> dict | None: ...

    async def delete_answer(self, answer_id: str) -> None: ...

    async def records(self) -> list[dict]:
        """The records of the last `retention` seconds, oldest first."""
        ...

    async def channel_modes(self) -> dict[str, str]: ...

    async def set_channel_mode(self, channel: str, mode: str | None) -> None:
        """Set a channel's mode; None puts it back to the default."""
        ...

    async def outbox_put(self, key: str, item: dict, owner: str, lease: float) -> bool:
        """Store a new item already claimed by `owner` for `lease` seconds; False if `key` is there already."""
        ...

    async def outbox_claim(self, owner: str, lease: float, limit: int) -> list[tuple[str, dict]]:
        """Claim up to `limit` items that are due and not leased to anyone, for `lease` seconds."""
        ...

    async def outbox_save(self, key: str, owner: str, item: dict, due: float | None) -> bool:
        """Write the item back if `owner` still holds it: keep the lease (`due` None) or release it until
        `due` (epoch seconds). False when the claim was lost (lease expired and taken by another)."""
        ...

    async def outbox_done(self, key: str, owner: str) -> None: ...

    async def ping(self) -> bool:
        """True when the store answers AND accepts a write (/readyz)."""
        ...

    async def close(self) -> None: ...


class MemoryState:
    def __init__(self, feedback_path: Path, thread_ttl: float = THREAD_TTL, retention: float = RETENTION):
        self.threads = MemoryContextStore(ttl=thread_ttl)
        self.deduper = Deduper(ttl=EVENT_TTL)
        self.log = FeedbackLog(feedback_path)
        self.retention = retention
        self._pruned = 0.0
        self.answers: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self.outbox: dict[str, tuple[float, str, dict]] = {}  # key -> (due, owner, item)
        self.modes: dict[str, str] = {}
        self.kept: dict[str, dict] = {}
        self._prune()

    def _prune(self) -> None:
        # The file outlives the process: old records leave it at start and then once a day.
        self._pruned = time.monotonic()
        self.log.prune(time.time() - self.retention)

    async def history(self, thread: str) -> tuple[Turn, ...]:
        return self.threads.history(thread)

    async def append(self, thread: str, turn: Turn) -> None:
        self.threads.append(thread, turn)

    async def first_delivery(self, event_id: str) -> bool:
        return self.deduper.first(event_id)

    async def record(self, record: dict) -> None:
        self.log.write(record)
        if time.monotonic() - self._pruned > PRUNE_INTERVAL:
            self._prune()

    async def records(self) -> list[dict]:
        return self.log.records(since=time.time() - self.retention)

    async def channel_modes(self) -> dict[str, str]:
        return dict(self.modes)

    async def set_channel_mode(self, channel: str, mode: str | None) -> None:
        if mode is None:
            self.modes.pop(channel, None)
        else:
            self.modes[channel] = mode

    async def put_answer(self, answer_id: str, answer: dict, ttl: float | None = ANSWER_TTL) -> None:
        if ttl is None:
            self.kept[answer_id] = answer  # outside the bounded cache: an installation must not be evicted
            return
        self.answers[answer_id] = (time.monotonic() + ttl, answer)
        while len(self.answers) > MAX_MEMORY_ANSWERS:
            self.answers.popitem(last=False)

    async def delete_answer(self, answer_id: str) -> None:
        self.answers.pop(answer_id, None)
        self.kept.pop(answer_id, None)

    async def get_answer(self, answer_id: str) -> dict | None:
        if answer_id in self.kept:
            return self.kept[answer_id]
        expires, answer = self.answers.get(answer_id, (0.0, None))
        return answer if expires > time.monotonic() else None

    async def outbox_put(self, key: str, item: dict, owner: str, lease: float) -> bool:
        if key in self.outbox:
            return False
        self.outbox[key] = (time.time() + lease, owner, json.loads(json.dumps(item)))
        return True

    async def outbox_claim(self, owner: str, lease: float, limit: int) -> list[tuple[str, dict]]:
        now = time.time()
        due = sorted((entry[0], key) for key, entry in self.outbox.items() if entry[0] <= now)[:limit]
        claimed = []
        for _, key in due:
            item = self.outbox[key][2]
            self.outbox[key] = (now + lease, owner, item)
            claimed.append((key, json.loads(json.dumps(item))))
        return claimed

    async def outbox_save(self, key: str, owner: str, item: dict, due: float | None) -> bool:
        entry = self.outbox.get(key)
        if entry is None or entry[1] != owner:
            return False
        self.outbox[key] = (entry[0] if due is None else due, owner, json.loads(json.dumps(item)))
        return True

    async def outbox_done(self, key: str, owner: str) -> None:
        entry = self.outbox.get(key)
        if entry is not None and entry[1] == owner:
            del self.outbox[key]

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        return None


_SQLITE_TABLES = (
    "CREATE TABLE IF NOT EXISTS turns (thread TEXT NOT NULL, at REAL NOT NULL, data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS turns_thread ON turns (thread, at)",
    "CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS records (at REAL NOT NULL, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, at REAL NOT NULL, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS outbox (key TEXT PRIMARY KEY, due REAL NOT NULL, owner TEXT NOT NULL,"
    " data TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS outbox_due ON outbox (due)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS records_at ON records (at)",
    "CREATE TABLE IF NOT EXISTS stored (id TEXT PRIMARY KEY, expires REAL NOT NULL, data TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS channel_modes (channel TEXT PRIMARY KEY, mode TEXT NOT NULL)",
)


class SqliteState:
    """SQLite in WAL mode, used by one thread of its own: the event loop never waits on disk, and state
    calls do not queue behind the triage jobs in asyncio's default thread pool.

    Dedupe must answer before the ack, so it is decided in memory (seeded from the table at start) and the
    event ids are written behind, a batch per transaction."""

    def __init__(self, path: str, thread_ttl: float = THREAD_TTL, retention: float = RETENTION):
        self.path = path
        self.thread_ttl = thread_ttl
        self.retention = retention
        # SQLite maps its WAL index (-shm) into memory; a fault there is a fatal signal, which should at
        # least leave a traceback on stderr rather than a silent exit.
        if not faulthandler.is_enabled():
            faulthandler.enable()
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = self._open(path)
        except (sqlite3.Error, OSError) as exc:
            # OSError: `kratos-bot serve` prints it as one line naming the cause.
            raise OSError(f"STATE_URL: the SQLite database {path} cannot be opened for writing: {exc}") from None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-state")
        self._seen = Deduper(ttl=EVENT_TTL, max_keys=MAX_RECENT_EVENTS)
        cutoff = time.time() - EVENT_TTL
        for (event_id,) in self._db.execute("SELECT id FROM events WHERE at >= ? ORDER BY at", (cutoff,)):
            self._seen.first(event_id)
        self._unwritten: list[tuple[str, float]] = []
        self._flush: asyncio.Task | None = None
        self._closed = False
        self._swept = 0.0

    @staticmethod
    def _open(path: str) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5)
        try:
            db.execute("PRAGMA mmap_size=0")  # read through the page cache: no mapping of the database file
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: a crash of the process loses nothing
            # A write at open: a read-only file, directory or mount fails here with one clear error instead of
            # at the first event (opening and creating existing tables only read).
            db.execute("BEGIN IMMEDIATE")
            for statement in _SQLITE_TABLES:
                db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('opened', ?)", (str(time.time()),))
            db.execute("COMMIT")
        except sqlite3.Error:
            db.close()
            raise
        return db

    async def _run(self, fn, *args):
        if self._closed:
            raise StateError("sqlite: the state store is closed")
        try:
            return await asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)
        except sqlite3.Error as exc:
            raise StateError(f"sqlite: {exc}") from exc

    def _tx(self, fn, *args):
        """`fn(*args)` in one write transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(*args)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def _history(self, thread: str) -> tuple[Turn, ...]:
        cutoff = time.time() - self.thread_ttl
        last = self._db.execute("SELECT max(at) FROM turns WHERE thread = ?", (thread,)).fetchone()[0]
        if last is None or last < cutoff:
            self._db.execute("DELETE FROM turns WHERE thread = ?", (thread,))
            return ()
        rows = self._db.execute("SELECT data FROM turns WHERE thread = ? ORDER BY at, rowid", (thread,)).fetchall()
        return tuple(turn_from_json(row[0]) for row in rows[-MAX_TURNS:])

    def _sweep(self) -> None:
        """Delete expired rows, at most once a SWEEP_INTERVAL: under load a scan per write would add up."""
        now = time.time()
        if now - self._swept < SWEEP_INTERVAL:
            return
        self._swept = now
        # A thread expires as a whole when idle, as in the other backends: not its early turns while it goes on.
        self._db.execute(
            "DELETE FROM turns WHERE thread IN (SELECT thread FROM turns GROUP BY thread HAVING max(at) < ?)",
            (now - self.thread_ttl,),
        )
        self._db.execute("DELETE FROM events WHERE at < ?", (now - EVENT_TTL,))
        self._db.execute("DELETE FROM stored WHERE expires < ?", (now,))
        self._db.execute("DELETE FROM records WHERE at < ?", (now - self.retention,))

    def _append(self, thread: str, turn: Turn) -> None:
        self._db.execute("INSERT INTO turns VALUES (?, ?, ?)", (thread, time.time(), turn_to_json(turn)))
        self._sweep()

    def _write_events(self, batch: list[tuple[str, float]]) -> None:
        self._db.executemany("INSERT OR IGNORE INTO events VALUES (?, ?)", batch)
        self._sweep()

    async def _flush_events(self) -> None:
        await asyncio.sleep(EVENT_FLUSH_DELAY)
        batch, self._unwritten = self._unwritten, []
        self._flush = None
        if batch:
            try:
                await self._run(self._tx, self._write_events, batch)
            except StateError as exc:
                # Dedupe itself goes on in memory; only a restart would forget these ids. /readyz reports it.
                log.error("event ids not written: %s", exc)

    async def history(self, thread: str) -> tuple[Turn, ...]:
        return await self._run(self._history, thread)

    async def append(self, thread: str, turn: Turn) -> None:
        await self._run(self._tx, self._append, thread, turn)

    async def first_delivery(self, event_id: str) -> bool:
        if not self._seen.first(event_id):
            return False
        self._unwritten.append((event_id, time.time()))
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_events())
        return True

    def _record(self, record: dict) -> None:
        self._db.execute("INSERT INTO records VALUES (?, ?)", (time.time(), json.dumps(record)))
        self._sweep()

    async def record(self, record: dict) -> None:
        await self._run(self._tx, self._record, record)

    async def records(self) -> list[dict]:
        def read():
            return self._db.execute(
                "SELECT data FROM records WHERE at >= ? ORDER BY at", (time.time() - self.retention,)
            ).fetchall()

        return [json.loads(row[0]) for row in await self._run(read)]

    async def channel_modes(self) -> dict[str, str]:
        rows = await self._run(lambda: self._db.execute("SELECT channel, mode FROM channel_modes").fetchall())
        return dict(rows)

    async def set_channel_mode(self, channel: str, mode: str | None) -> None:
        if mode is None:
            await self._run(self._db.execute, "DELETE FROM channel_modes WHERE channel = ?", (channel,))
        else:
            await self._run(self._db.execute, "INSERT OR REPLACE INTO channel_modes VALUES (?, ?)", (channel, mode))

    def _put_answer(self, answer_id: str, answer: dict, ttl: float | None) -> None:
        row = (answer_id, FOREVER if ttl is None else time.time() + ttl, json.dumps(answer))
        self._db.execute("INSERT OR REPLACE INTO stored VALUES (?, ?, ?)", row)
        self._sweep()

    def _get_answer(self, answer_id: str) -> dict | None:
        row = self._db.execute(
            "SELECT data FROM stored WHERE id = ? AND expires >= ?", (answer_id, time.time())
        ).fetchone()
        return json.loads(row[0]) if row else None

    async def put_answer(self, answer_id: str, answer: dict, ttl: float | None = ANSWER_TTL) -> None:
        await self._run(self._tx, self._put_answer, answer_id, answer, ttl)

    async def delete_answer(self, answer_id: str) -> None:
        await self._run(self._db.execute, "DELETE FROM stored WHERE id = ?", (answer_id,))

    async def get_answer(self, answer_id: str) -> dict | None:
        return await self._run(self._get_answer, answer_id)

    def _outbox_put(self, key: str, item: dict, owner: str, lease: float) -> bool:
        cursor = self._db.execute(
            "INSERT OR IGNORE INTO outbox VALUES (?, ?, ?, ?)", (key, time.time() + lease, owner, json.dumps(item))
        )
        return cursor.rowcount == 1

    def _outbox_claim(self, owner: str, lease: float, limit: int) -> list[tuple[str, dict]]:
        now = time.time()
        rows = self._db.execute(
            "SELECT key, data FROM outbox WHERE due <= ? ORDER BY due LIMIT ?", (now, limit)
        ).fetchall()
        self._db.executemany(
            "UPDATE outbox SET due = ?, owner = ? WHERE key = ?", [(now + lease, owner, key) for key, _ in rows]
        )
        return [(key, json.loads(data)) for key, data in rows]

    def _outbox_save(self, key: str, owner: str, item: dict, due: float | None) -> bool:
        if due is None:
            cursor = self._db.execute(
                "UPDATE outbox SET data = ? WHERE key = ? AND owner = ?", (json.dumps(item), key, owner)
            )
        else:
            cursor = self._db.execute(
                "UPDATE outbox SET data = ?, due = ? WHERE key = ? AND owner = ?", (json.dumps(item), due, key, owner)
            )
        return cursor.rowcount == 1

    async def outbox_put(self, key: str, item: dict, owner: str, lease: float) -> bool:
        return await self._run(self._outbox_put, key, item, owner, lease)

    async def outbox_claim(self, owner: str, lease: float, limit: int) -> list[tuple[str, dict]]:
        return await self._run(self._tx, self._outbox_claim, owner, lease, limit)

    async def outbox_save(self, key: str, owner: str, item: dict, due: float | None) -> bool:
        return await self._run(self._outbox_save, key, owner, item, due)

    async def outbox_done(self, key: str, owner: str) -> None:
        await self._run(self._db.execute, "DELETE FROM outbox WHERE key = ? AND owner = ?", (key, owner))

    def _ping(self) -> bool:
        # A readiness probe must answer within its own timeout: wait 1 s for a lock, not the usual 5.
        self._db.execute("PRAGMA busy_timeout = 1000")
        try:
            self._tx(self._db.execute, "INSERT OR REPLACE INTO meta VALUES ('ping', ?)", (str(time.time()),))
        finally:
            self._db.execute("PRAGMA busy_timeout = 5000")
        return True

    async def ping(self) -> bool:
        try:
            return await self._run(self._ping)
        except StateError:
            return False

    async def close(self) -> None:
        if self._closed:
            return
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        if self._unwritten:
            batch, self._unwritten = self._unwritten, []
            # An unwritable store was already reported; closing must not fail on it.
            with contextlib.suppress(StateError):
                await self._run(self._tx, self._write_events, batch)
        await self._run(self._db.close)
        self._closed = True
        self._thread.shutdown(wait=False)


# One Lua script per outbox step: a claim must not interleave with another replica's claim or save.
_OUTBOX_PUT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
return 1
"""
_OUTBOX_CLAIM = """
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, k in ipairs(keys) do
  local data = redis.call('HGET', KEYS[1], k)
  if data then
    redis.call('ZADD', KEYS[2], ARGV[2], k)
    redis.call('HSET', KEYS[3], k, ARGV[3])
    table.insert(out, k)
    table.insert(out, data)
  else
    redis.call('ZREM', KEYS[2], k)
    redis.call('HDEL', KEYS[3], k)
  end
end
return out
"""
_OUTBOX_SAVE = """
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1]) end
return 1
"""
_OUTBOX_DONE = """
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""


class RedisState:
    PREFIX = "kratos-bot:"

    def __init__(
        self, url: str, thread_ttl: float = THREAD_TTL, pool_size: int = REDIS_POOL, retention: float = RETENTION
    ):
        import redis.asyncio as redis  # only needed for this backend

        self._errors = (redis.RedisError, OSError)
        # A bounded pool that waits for a free connection: the default one refuses at once ("Too many
        # connections") when a burst needs more than its cap, and the event that needed it was lost.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=REDIS_POOL_WAIT, socket_timeout=2, socket_connect_timeout=2
        )
        self.redis = redis.Redis.from_pool(pool)
        self.thread_ttl = int(thread_ttl)
        self.retention = retention
        self._outbox_keys = [f"{self.PREFIX}outbox:{part}" for part in ("data", "due", "owner")]
        self._put = self.redis.register_script(_OUTBOX_PUT)
        self._claim = self.redis.register_script(_OUTBOX_CLAIM)
        self._save = self.redis.register_script(_OUTBOX_SAVE)
        self._done = self.redis.register_script(_OUTBOX_DONE)

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
        # A sorted set scored by time: records older than the retention leave with one range delete.
        key, now = f"{self.PREFIX}records:at", time.time()
        member = json.dumps({**record, "_at": now})  # the time keeps two equal records apart
        pipe = self.redis.pipeline(transaction=True)
        pipe.zadd(key, {member: now}).zremrangebyscore(key, "-inf", now - self.retention)
        pipe.zremrangebyrank(key, 0, -MAX_RECORDS - 1)  # bounded: the newest records count
        await self._do(pipe.execute())

    async def records(self) -> list[dict]:
        cutoff = time.time() - self.retention
        rows = await self._do(self.redis.zrangebyscore(f"{self.PREFIX}records:at", cutoff, "+inf"))
        return [{k: v for k, v in json.loads(row).items() if k != "_at"} for row in rows]

    async def channel_modes(self) -> dict[str, str]:
        rows = await self._do(self.redis.hgetall(f"{self.PREFIX}channel_modes"))
        return {k.decode(): v.decode() for k, v in rows.items()}

    async def set_channel_mode(self, channel: str, mode: str | None) -> None:
        key = f"{self.PREFIX}channel_modes"
        await self._do(self.redis.hdel(key, channel) if mode is None else self.redis.hset(key, channel, mode))

    async def put_answer(self, answer_id: str, answer: dict, ttl: float | None = ANSWER_TTL) -> None:
        ms = None if ttl is None else max(1, int(ttl * 1000))
        await self._do(self.redis.set(f"{self.PREFIX}answer:{answer_id}", json.dumps(answer), px=ms))

    async def delete_answer(self, answer_id: str) -> None:
        await self._do(self.redis.delete(f"{self.PREFIX}answer:{answer_id}"))

    async def get_answer(self, answer_id: str) -> dict | None:
        raw = await self._do(self.redis.get(f"{self.PREFIX}answer:{answer_id}"))
        return json.loads(raw) if raw else None

    async def outbox_put(self, key: str, item: dict, owner: str, lease: float) -> bool:
        args = [key, json.dumps(item), repr(time.time() + lease), owner]
        return bool(await self._do(self._put(keys=self._outbox_keys, args=args)))

    async def outbox_claim(self, owner: str, lease: float, limit: int) -> list[tuple[str, dict]]:
        now = time.time()
        flat = await self._do(self._claim(keys=self._outbox_keys, args=[repr(now), repr(now + lease), owner, limit]))
        return [(flat[i].decode(), json.loads(flat[i + 1])) for i in range(0, len(flat), 2)]

    async def outbox_save(self, key: str, owner: str, item: dict, due: float | None) -> bool:
        args = [key, owner, json.dumps(item), "" if due is None else repr(due)]
        return bool(await self._do(self._save(keys=self._outbox_keys, args=args)))

    async def outbox_done(self, key: str, owner: str) -> None:
        await self._do(self._done(keys=self._outbox_keys, args=[key, owner]))

    async def ping(self) -> bool:
        try:
            # A write, not PING: a read-only replica or a full instance (maxmemory, noeviction) answers PING.
            return bool(await self.redis.set(f"{self.PREFIX}ping", repr(time.time()), ex=60))
        except self._errors:
            return False

    async def close(self) -> None:
        await self.redis.aclose()


def open_state(
    url: str,
    feedback_path: Path,
    thread_ttl: float = THREAD_TTL,
    redis_pool: int = REDIS_POOL,
    retention: float = RETENTION,
) -> State:
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryState(feedback_path, thread_ttl, retention)
    if scheme == "sqlite":
        path = url[len("sqlite://") :]
        return SqliteState(path[1:] if path.startswith("//") else path, thread_ttl, retention)
    if scheme in ("redis", "rediss", "unix"):
        return RedisState(url, thread_ttl, redis_pool, retention)
    raise ValueError(f"STATE_URL scheme {scheme!r} is not one of memory, sqlite, redis")
