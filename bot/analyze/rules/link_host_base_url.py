"""link-host-base-url: a link from a Kratos email points at an internal host (127.0.0.1, localhost, a
container name) instead of the public domain.

Why: the links in recovery and verification emails are built from `serve.public.base_url`
(selfservice/strategy/link/sender.go:195, strategy/code/code_sender.go:411). Unset, it defaults to
`https://<host name>:4433/` (http in dev mode), so in Docker the mails carry the container's name, and a
base URL copied from a local setup carries `http://127.0.0.1:4433/...`.
Example: `http://127.0.0.1:4433/self-service/recovery?flow=…&token=…` in a recovery email.
Fix: set `serve.public.base_url` to the public URL users reach Kratos at (with the proxy's path prefix).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, Url

_EMAIL_LINK = re.compile(r"/self-service/(recovery|verification)(?:/link)?\?[^#]*\b(token|code)=")
_INTERNAL = re.compile(r"^(?:127\.\d+\.\d+\.\d+|localhost|0\.0\.0\.0|\[::1\]|[a-z0-9-]+)(?::\d+)?$")


@rule("link-host-base-url")
def check(ev: Evidence, kb: KnowledgeBase):
    for url in ev.of(Url):
        m = _EMAIL_LINK.search(url.url)
        host = urlsplit(url.url).netloc.lower()
        if m is None or not _INTERNAL.match(host):
            continue
        yield Finding(
            rule="link-host-base-url",
            title=f"The {m.group(1)} link points at `{host}`: `serve.public.base_url` is not the public URL",
            detail=(
                f"Kratos builds the links in its emails from `serve.public.base_url`. `{host}` is an internal "
                "address, so the base URL is unset (Kratos then uses its own host name and port 4433) or set to "
                "an internal one."
            ),
            fixes=(
                "Set `serve.public.base_url` to the URL users reach Kratos at, e.g. "
                "`https://auth.example.com/` (include the proxy's path prefix if there is one).",
            ),
            entries=("topic.public-base-url-proxy",),
            config_keys=("serve.public.base_url",),
            score=92,
        )
        return
