"""config-cors-headers: `serve.public.cors.allowed_headers` set without the CSRF header.

Why: setting `allowed_headers` replaces Kratos' default list (which has `X-CSRF-TOKEN`, `X-Session-Token`,
`Content-Type`, …) instead of adding to it. A browser app that sends the CSRF token in the `X-CSRF-Token`
header then fails the CORS preflight ("Request header field x-csrf-token is not allowed").
Example: `allowed_headers: [Content-Type, Authorization]`.
Fix: list every header the app sends, the defaults included.
"""

from __future__ import annotations

from bot.analyze.configkit import get
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Patch

KEY = "serve.public.cors.allowed_headers"


@rule("config-cors-headers")
def check(ev: Evidence, kb: KnowledgeBase):
    default = (kb.facts.config_keys.get(KEY) or {}).get("default") or []
    for config in ev.of(KratosConfig):
        headers = get(config.config, KEY)
        if not isinstance(headers, list):
            continue
        have = {str(h).lower() for h in headers}
        missing = [h for h in default if h.lower() not in have]
        if not any(h.lower() in ("x-csrf-token", "x-session-token") for h in missing):
            continue
        yield Finding(
            rule="config-cors-headers",
            title=f"`{KEY}` replaces the default list, and {', '.join(f'`{h}`' for h in missing[:4])} fell out",
            detail=(
                "Setting `allowed_headers` does not add to Kratos' default list, it replaces it (default: "
                + ", ".join(f"`{h}`" for h in default)
                + "). A preflight for a header that is not listed, such as "
                "`X-CSRF-TOKEN`, is refused by the browser."
            ),
            fixes=("List every header the app sends, the defaults included, e.g. add `X-CSRF-TOKEN`.",),
            entries=("topic.cors-public-api",),
            config_keys=(KEY,),
            score=91,
            patches=(
                Patch(
                    ev.index_of(config), "set", tuple(KEY.split(".")), list(headers) + missing, "defaults added back"
                ),
            ),
        )
