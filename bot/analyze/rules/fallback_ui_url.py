"""fallback-ui-url: Kratos redirects to its built-in fallback page, so that flow's `ui_url` is unset.

Why: every `selfservice.flows.<flow>.ui_url` defaults to a placeholder page on the Ory website
(`https://www.ory.sh/kratos/docs/fallback/<flow>`, newer releases `https://www.ory.com/...`). Seeing it in
`redirect_browser_to` or a `Location` header means the config Kratos runs with lacks that key.
Example: `"redirect_browser_to": "https://www.ory.sh/kratos/docs/fallback/settings?flow=415c…"`.
Fix: set `selfservice.flows.settings.ui_url` (or the env var) to your own page; meanwhile the flow
named in `?flow=` can be fetched with `GET /self-service/<flow>/flows?id=…`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosError, Snippet, Url

FALLBACK = re.compile(r"https?://(?:www\.)?ory\.(?:sh|com)/kratos/docs/fallback/([a-z_]+)")
# Kratos' fallback pages exist for these flows; each one's page is replaced by `selfservice.flows.<flow>.ui_url`.
FALLBACK_FLOWS = ("login", "registration", "settings", "recovery", "verification", "error")


def fallback_targets(ev: Evidence) -> list[tuple[str, str | None, str]]:
    """(flow, flow id, url) for every fallback URL in focus, errors first."""
    urls = [e.redirect_browser_to for e in ev.of(KratosError) if e.redirect_browser_to]
    urls += [e.reason for e in ev.of(KratosError) if e.reason]
    urls += [u.url for u in ev.of(Url)]
    out: dict[str, tuple[str, str | None, str]] = {}
    for url in urls:
        m = FALLBACK.search(url)
        if m is None or m.group(1) not in FALLBACK_FLOWS:
            continue
        rest = url[m.start() :].split()[0]
        flow_id = (parse_qs(urlsplit(rest).query).get("flow") or [None])[0]
        out.setdefault(m.group(1), (m.group(1), flow_id, rest))
    return list(out.values())


@rule("fallback-ui-url")
def check(ev: Evidence, kb: KnowledgeBase):
    for flow, flow_id, url in fallback_targets(ev):
        key = f"selfservice.flows.{flow}.ui_url"
        row = kb.facts.config_key(key) or {}
        env = row.get("env_var", "")
        fixes = [
            f"Set `{key}` to the URL of your own {flow} page in the config Kratos runs with "
            f"(kratos.yml, the Helm values under `kratos.config`, or the env var `{env}`), then restart Kratos.",
        ]
        if flow_id and flow != "error":  # the error page shows an error, it is no flow to continue
            fixes.append(
                f"To continue this {flow} flow now: `GET /self-service/{flow}/flows?id={flow_id}` with the same "
                "cookies (or session token), then submit the form to its `ui.action`."
            )
        yaml_path = key.split(".")
        config = "\n".join("  " * i + f"{part}:" for i, part in enumerate(yaml_path[:-1]))
        config += "\n" + "  " * (len(yaml_path) - 1) + f"{yaml_path[-1]}: https://<your-app>/{flow}"
        yield Finding(
            rule="fallback-ui-url",
            title=f"`{key}` is not configured: Kratos sends the browser to its fallback page",
            detail=(
                f"The redirect goes to `{url.split('?')[0]}`, the placeholder Kratos uses when `{key}` is not set. "
                f"Your {flow} page is never reached"
                + (f"; the {flow} flow to continue with is `{flow_id}`." if flow_id else ".")
            ),
            fixes=tuple(fixes),
            entries=("topic.fallback-ui-pages",),
            snippet=Snippet("yaml", config, "kratos.yml (Helm: under `kratos.config`)"),
            config_keys=(key,),
            score=95,
        )
