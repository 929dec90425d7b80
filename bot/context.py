"""Thread memory: what earlier turns of a thread showed, so a follow-up can build on it.

Behind a small interface (`ContextStore`) so it can later live in SQLite or Redis. Only artifacts
are kept, with secrets already masked, never the raw message.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from bot import models
from bot.extract.masking import mask_artifacts
from bot.extract.secrets import Scrubber, SecretHit, scrubber
from bot.models import Artifact

MAX_TURNS = 20


@dataclass(frozen=True)
class Turn:
    artifacts: tuple[Artifact, ...]
    entry_ids: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    prose: str = ""
    digest: str = ""  # fingerprint of the reply given, so the thread never gets the same reply twice


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


def _scrub_value(value, scrub: Scrubber):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, tuple):
        return tuple(_scrub_value(v, scrub) for v in value)
    if isinstance(value, list):
        return [_scrub_value(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, scrub) for k, v in value.items()}
    return value


def redact(artifact: Artifact, secrets: tuple[SecretHit, ...]) -> Artifact:
    """Mask every secret inside an artifact before it is remembered: by its structure (idempotent, so an
    artifact extraction already masked comes out the same), then every known value in any string field."""
    (artifact,), _ = mask_artifacts([artifact], secrets)
    if not secrets:
        return artifact
    scrub = scrubber(secrets)
    changes = {f.name: _scrub_value(getattr(artifact, f.name), scrub) for f in dataclasses.fields(artifact)}
    return dataclasses.replace(artifact, **changes)


# --- serialisation, for stores outside the process (SQLite, Redis) -----------------------------

_ARTIFACT_TYPES = {
    cls.kind: cls
    for cls in (
        models.KratosError,
        models.UiMessage,
        models.Flow,
        models.Curl,
        models.IdentitySchema,
        models.KratosConfig,
        models.Secret,
        models.Url,
        models.FlowId,
    )
}
# Fields holding the user's own JSON (lists must stay lists); every other list was a tuple.
_VERBATIM = {"body", "config", "schema"}


def _to_tuples(value):
    if isinstance(value, list):
        return tuple(_to_tuples(v) for v in value)
    return value


def turn_to_json(turn: Turn) -> str:
    artifacts = [{"kind": a.kind, **dataclasses.asdict(a)} for a in turn.artifacts]
    return json.dumps(
        {
            "artifacts": artifacts,
            "entry_ids": turn.entry_ids,
            "rules": turn.rules,
            "prose": turn.prose,
            "digest": turn.digest,
        },
        separators=(",", ":"),
    )


def turn_from_json(text: str) -> Turn:
    doc = json.loads(text)
    artifacts = []
    for raw in doc.get("artifacts", []):
        cls = _ARTIFACT_TYPES.get(raw.pop("kind", None))
        if cls is None:
            continue  # written by a newer version: skip rather than fail the thread
        names = {f.name for f in dataclasses.fields(cls)}
        fields = {k: (v if k in _VERBATIM else _to_tuples(v)) for k, v in raw.items() if k in names}
        artifacts.append(cls(**fields))
    return Turn(
        artifacts=tuple(artifacts),
        entry_ids=tuple(doc.get("entry_ids", ())),
        rules=tuple(doc.get("rules", ())),
        prose=doc.get("prose", ""),
        digest=doc.get("digest", ""),
    )
