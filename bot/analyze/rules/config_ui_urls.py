"""config-ui-urls: a complete config that leaves flows on Kratos' fallback pages.

Why: each `selfservice.flows.<flow>.ui_url` defaults to a placeholder page on the Ory website. A config
that sets up flows but not their `ui_url` sends users there (the `redirect_browser_to` …/fallback/… that
users then paste). Checked for login, settings and error (always on), registration (on by default) and
recovery / verification when enabled.
Example: `selfservice.flows.recovery.enabled: true` with no `selfservice.flows.recovery.ui_url`.
Fix: set the missing `ui_url` keys to your own pages.
"""

from __future__ import annotations

from bot.analyze.configkit import get, looks_complete, value_or_default
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Patch

ALWAYS = ("login", "settings", "error")
SWITCHED = ("registration", "recovery", "verification")


@rule("config-ui-urls")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        config = artifact.config
        if not looks_complete(artifact) or not isinstance(get(config, "selfservice.flows"), dict):
            continue
        missing = [f for f in ALWAYS if not get(config, f"selfservice.flows.{f}.ui_url")]
        missing += [
            f
            for f in SWITCHED
            if value_or_default(kb.facts, config, f"selfservice.flows.{f}.enabled")
            and not get(config, f"selfservice.flows.{f}.ui_url")
        ]
        if not missing:
            continue
        keys = tuple(f"selfservice.flows.{f}.ui_url" for f in missing)
        target = ev.index_of(artifact)
        yield Finding(
            rule="config-ui-urls",
            title="No `ui_url` for " + ", ".join(missing) + ": those flows go to Kratos' fallback pages",
            detail=(
                "Without `ui_url` Kratos redirects to its placeholder pages on the Ory website "
                "(`…/kratos/docs/fallback/<flow>`), so users never reach your pages."
            ),
            fixes=tuple(f"Set `{k}` to your own page." for k in keys),
            entries=("topic.fallback-ui-pages",),
            config_keys=keys,
            severity="warning",
            score=80,
            patches=tuple(
                Patch(target, "set", tuple(k.split(".")), f"https://<your-app>/{f}", "added")
                for k, f in zip(keys, missing, strict=True)
            ),
        )
