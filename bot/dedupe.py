"""Event de-duplication: Slack retries an event it thinks was not acknowledged, with the same event id."""

from __future__ import annotations

import time
from collections import OrderedDict


class Deduper:
    """`first(key)` is True exactly once per key within `ttl` seconds (bounded memory, one process)."""

    def __init__(self, ttl: float = 3600, max_keys: int = 100_000):
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._ttl = ttl
        self._max = max_keys

    def first(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen:
            oldest, stamp = next(iter(self._seen.items()))
            if now - stamp <= self._ttl and len(self._seen) < self._max:
                break
            self._seen.pop(oldest)
        if key in self._seen:
            return False
        self._seen[key] = now
        return True
