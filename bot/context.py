"""Thread memory: what earlier turns of a thread showed, so a follow-up can build on it.

Behind a small interface (`ContextStore`) so it can later live in SQLite or Redis. Only artifacts
are kept, with secrets already masked, never the raw message.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from bot.extract.secrets import SecretHit, scrub
from bot.models import Artifact, Curl

MAX_TURNS = 20


@dataclass(frozen=True)
class Turn:
    artifacts: tuple[Artifact, ...]
    entry_ids: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    prose: str = ""


class ContextStore(Protocol):
    def history(self, thread: str) -> tuple[Turn, ...]: ...

    def append(self, thread: str, turn: Turn) -> None: ...


class MemoryContextStore:
    """In-process store: LRU over threads, idle threads expire after `ttl` seconds."""

    def __init__(self, max_threads: int = 10_000, ttl: float = 7 * 24 * 3600):
        self._threads: OrderedDict[str, tuple[float, list[Turn]]] = OrderedDict()
        self._max = max_threads
        self._ttl = ttl

    def history(self, thread: str) -> tuple[Turn, ...]:
        item = self._threads.get(thread)
        if item is None:
            return ()
        stamp, turns = item
        if time.monotonic() - stamp > self._ttl:
            del self._threads[thread]
            return ()
        return tuple(turns)

    def append(self, thread: str, turn: Turn) -> None:
        _, turns = self._threads.pop(thread, (0.0, []))
        turns = (turns + [turn])[-MAX_TURNS:]
        self._threads[thread] = (time.monotonic(), turns)
        while len(self._threads) > self._max:
            self._threads.popitem(last=False)


def redact(artifact: Artifact, secrets: tuple[SecretHit, ...]) -> Artifact:
    """Mask secrets inside an artifact before it is remembered."""
    if not secrets or not isinstance(artifact, Curl):
        return artifact
    body = artifact.body
    if isinstance(body, dict):
        body = {k: scrub(v, secrets) if isinstance(v, str) else v for k, v in body.items()}
    elif isinstance(body, str):
        body = scrub(body, secrets)
    return dataclasses.replace(
        artifact,
        raw=scrub(artifact.raw, secrets),
        cookies=tuple(scrub(c, secrets) for c in artifact.cookies),
        headers=tuple((k, scrub(v, secrets)) for k, v in artifact.headers),
        body=body,
    )
