"""oidc-github-scope: a GitHub OIDC provider configured without the `user:email` scope.

Why: Kratos' GitHub provider never takes the email from GitHub's `/user` answer. It asks `/user/emails`
only when the granted scopes include `user:email`, so without that scope `claims.email` is always empty
and a mapper that fills a required email trait makes registration fail with "Property email is missing".
Example: `provider: github` with `scope: [read:user]`.
Fix: add `user:email` to the provider's `scope` list (and authorize again, so GitHub grants it).
"""

from __future__ import annotations

from bot.analyze.configkit import get
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Patch

PROVIDERS = "selfservice.methods.oidc.config.providers"


@rule("oidc-github-scope")
def check(ev: Evidence, kb: KnowledgeBase):
    for config in ev.of(KratosConfig):
        providers = get(config.config, PROVIDERS)
        if not isinstance(providers, list):
            continue
        for i, p in enumerate(providers):
            if not isinstance(p, dict) or p.get("provider") != "github":
                continue
            scope = p.get("scope") if isinstance(p.get("scope"), list) else []
            if "user:email" in scope:
                continue
            name = p.get("id") or "github"
            yield Finding(
                rule="oidc-github-scope",
                title=f"GitHub provider `{name}` does not request the `user:email` scope",
                detail=(
                    "Kratos reads a GitHub user's email only from `/user/emails`, and calls it only when "
                    "`user:email` was granted. Without it `claims.email` is empty in the mapper for every user, "
                    'so a required email trait fails validation ("Property email is missing", 4000002).'
                ),
                fixes=(f"Add `user:email` to `scope` of provider `{name}`, then sign in again so GitHub asks for it.",),
                entries=("topic.oidc-social-sign-in-setup",),
                config_keys=(PROVIDERS + "[].scope",),
                score=92,
                patches=(
                    Patch(
                        ev.index_of(config),
                        "set",
                        (*PROVIDERS.split("."), str(i), "scope"),
                        [*scope, "user:email"],
                        "user:email added",
                    ),
                ),
            )
