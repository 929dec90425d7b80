"""config-return-urls: a `return_to` URL seen in the thread that `selfservice.allowed_return_urls` refuses.

Without a pasted config, Kratos' own refusal (`Requested return_to URL "…" is not allowed.`, in an error, a log
line or a sentence) still names the URL: the finding says which origin to add.

Why: Kratos only redirects to a `return_to` whose scheme matches, whose host equals an allowed entry's
host (or matches a `*.example.com` wildcard) and whose path starts with the entry's path
(x/redir/secure_redirect.go); anything else gets 400 `self_service_flow_return_to_forbidden`.
Example: `return_to=https://app.example.com/dashboard` with `allowed_return_urls: [https://example.com]`.
Fix: add the URL (or its origin) to `selfservice.allowed_return_urls`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.analyze.configkit import get
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, KratosConfig, KratosError, Patch, Url

_FORBIDDEN = re.compile(r'Requested return_to URL \\?"([^"\\]+)\\?" is not allowed', re.IGNORECASE)


def allowed(url: str, entries: list[str]) -> bool:
    """Kratos' check: same scheme, same host (or `*.` wildcard), path prefix."""
    target = urlsplit(url)
    for entry in entries:
        allow = urlsplit(str(entry))
        if allow.scheme.lower() != target.scheme.lower():
            continue
        host_ok = (
            target.netloc.lower().endswith(allow.netloc.lower()[1:])
            if allow.netloc.startswith("*")
            else allow.netloc.lower() == target.netloc.lower()
        )
        if host_ok and (target.path or "/").startswith(allow.path or "/"):
            return True
    return False


def _return_tos(ev: Evidence) -> list[str]:
    urls: list[str] = []
    for error in ev.of(KratosError) + ev.earlier(KratosError):
        m = _FORBIDDEN.search(error.reason or "")
        if m:
            urls.append(m.group(1))
    urls += [m.group(1) for m in _FORBIDDEN.finditer(ev.text[:100_000])]
    for item in ev.of(Curl) + ev.earlier(Curl) + ev.of(Url) + ev.earlier(Url):
        query = urlsplit(item.url).query
        urls += parse_qs(query).get("return_to", [])
    return [u for u in dict.fromkeys(urls) if u.startswith(("http://", "https://"))]


@rule("config-return-urls")
def check(ev: Evidence, kb: KnowledgeBase):
    configs = ev.of(KratosConfig) + ev.earlier(KratosConfig)
    if not configs:
        yield from _refused_without_config(ev)
        return
    config = configs[0]
    entries = get(config.config, "selfservice.allowed_return_urls")
    if not isinstance(entries, list):
        return
    for url in _return_tos(ev):
        if allowed(url, entries):
            continue
        origin = "{0.scheme}://{0.netloc}/".format(urlsplit(url))
        in_focus = config in ev.focus
        yield Finding(
            rule="config-return-urls",
            title=f"`{url}` is not covered by `selfservice.allowed_return_urls`",
            detail=(
                "Kratos allows a `return_to` only when an entry has the same scheme and host (or a `*.` "
                "wildcard host) and the URL's path starts with the entry's path. None of "
                + ", ".join(f"`{e}`" for e in entries[:6])
                + " does."
            ),
            fixes=(f"Add `{origin}` (or the exact URL) to `selfservice.allowed_return_urls`.",),
            entries=("topic.allowed-return-urls", "error.self_service_flow_return_to_forbidden"),
            config_keys=("selfservice.allowed_return_urls",),
            score=90,
            patches=(
                Patch(
                    ev.index_of(config),
                    "set",
                    ("selfservice", "allowed_return_urls"),
                    list(entries) + [origin],
                    f"added {origin}",
                ),
            )
            if in_focus
            else (),
        )


def _refused_without_config(ev: Evidence):
    """Kratos named the refused URL; without the config we can still say what to allow."""
    for url in _return_tos(ev)[:2]:
        if not _FORBIDDEN.search(ev.text) and not any(
            _FORBIDDEN.search(e.reason or "") for e in ev.of(KratosError) + ev.earlier(KratosError)
        ):
            return  # a return_to in a URL is not a refusal by itself
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}/"
        yield Finding(
            rule="config-return-urls",
            title=f"Kratos refused `return_to` `{url}`",
            detail=(
                "An entry of `selfservice.allowed_return_urls` must have the same scheme and host (a `*.` wildcard "
                "only as the first label of the host) and a path that this URL's path starts with."
            ),
            fixes=(
                f"Add `{origin}` (or `{parts.scheme}://{parts.netloc}{parts.path}`) to "
                "`selfservice.allowed_return_urls`.",
            ),
            entries=(
                "reason.return-to-not-allowed",
                "topic.allowed-return-urls",
                "error.self_service_flow_return_to_forbidden",
            ),
            config_keys=("selfservice.allowed_return_urls",),
            severity="warning",
            score=88,
        )
