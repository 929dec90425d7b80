"""config-courier: recovery or verification is on, but the courier has nothing to send mail with.

Why: recovery and verification codes and links go out through the courier. Without
`courier.smtp.connection_uri` (or `courier.delivery_strategy: http` with `courier.http.request_config`),
the messages stay queued or fail, and users wait for a mail that never comes. Only checked for a
complete config (a fragment may just not show the courier part).
Example: `selfservice.flows.verification.enabled: true` and no `courier` section.
Fix: set `courier.smtp.connection_uri` (e.g. `smtps://user:pass@smtp.example.com:465/`).
"""

from __future__ import annotations

from bot.analyze.configkit import get, looks_complete, value_or_default
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig


@rule("config-courier")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        config = artifact.config
        if not looks_complete(artifact):
            continue
        flows = [
            f
            for f in ("recovery", "verification")
            if value_or_default(kb.facts, config, f"selfservice.flows.{f}.enabled")
        ]
        code_login = value_or_default(kb.facts, config, "selfservice.methods.code.passwordless_enabled")
        if not flows and not code_login:
            continue
        strategy = value_or_default(kb.facts, config, "courier.delivery_strategy")
        if strategy == "http" and get(config, "courier.http.request_config"):
            continue
        if strategy != "http" and get(config, "courier.smtp.connection_uri"):
            continue
        users = flows + (["code login"] if code_login else [])
        yield Finding(
            rule="config-courier",
            title="Nothing configured to send mail, but "
            + " and ".join(users)
            + (" need" if len(users) > 1 else " needs")
            + " it",
            detail=(
                "Codes and links are sent by the courier. With no `courier.smtp.connection_uri` (or an HTTP "
                "delivery with `courier.http.request_config`) they never reach the user."
            ),
            fixes=(
                "Set `courier.smtp.connection_uri`, e.g. `smtps://user:password@smtp.example.com:465/`, and run "
                "the courier (`kratos serve --watch-courier` or `kratos courier watch`).",
            ),
            entries=("topic.courier-smtp-setup",),
            config_keys=("courier.smtp.connection_uri", "courier.delivery_strategy"),
            severity="warning",
            score=80,
        )
