"""Match a request's URL against the Kratos API: which endpoint it is, and which it might have meant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from rapidfuzz import fuzz, process

from bot.kb.loader import Facts

_ROOTS = re.compile(r"/(?:self-service|admin|sessions|schemas|health|version|\.well-known)(?=[/?#]|$)")
ADMIN_PREFIX = "/admin/"


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # from the API root on, e.g. /self-service/login
    query: str
    port: int | None
    prefix: str  # what stands before the API root, e.g. {{host}}/kratos


def api_request(method: str, url: str) -> ApiRequest | None:
    m = _ROOTS.search(url)
    if m is None:
        return None
    prefix = url[: m.start()]
    rest = url[m.start() :]
    parts = urlsplit("http://x" + rest)
    port = None
    pm = re.search(r":(\d{2,5})(?:/|$)", prefix)
    if pm:
        port = int(pm.group(1))
    return ApiRequest(
        method=method.upper(), path=parts.path.rstrip("/") or "/", query=parts.query, port=port, prefix=prefix
    )


@lru_cache(maxsize=8)
def _templates(facts_id: int, keys: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    out = []
    for key in keys:
        method, path = key.split(" ", 1)
        pattern = re.sub(r"\\\{[^}]+\\\}", r"[^/]+", re.escape(path))
        out.append((re.compile(f"^{pattern}$"), key))
    return out


def endpoint_key(facts: Facts, req: ApiRequest) -> str | None:
    """`METHOD /path/{template}` of the endpoint the request hits, or None."""
    for pattern, key in _templates(id(facts), tuple(facts.endpoints)):
        if key.startswith(req.method + " ") and pattern.match(req.path):
            return key
    return None


def paths_for(facts: Facts, path: str) -> list[str]:
    """Methods the API accepts on `path` (to tell "wrong method" from "wrong path")."""
    out = []
    for pattern, key in _templates(id(facts), tuple(facts.endpoints)):
        if pattern.match(path):
            out.append(key.split(" ", 1)[0])
    return out


def nearest(facts: Facts, req: ApiRequest) -> str | None:
    choices = [k for k in facts.endpoints if k.startswith(req.method + " ")] or list(facts.endpoints)
    best = process.extractOne(f"{req.method} {req.path}", choices, scorer=fuzz.ratio, score_cutoff=75)
    return best[0] if best else None
