"""config-code-method: settings of the one-time-code and link methods that cannot work together.

Why: (1) with `selfservice.methods.code.passwordless_enabled: true` the code strategy only answers aal1
login flows, so `mfa_enabled: true` next to it never gives a working second factor
(selfservice/strategy/code/strategy_login.go). (2) `selfservice.flows.recovery.use` and
`selfservice.flows.verification.use` name a method that must also be enabled under
`selfservice.methods` (link is off by default); otherwise those flows fail with 400.
Example: `recovery: {use: link}` without `selfservice.methods.link.enabled: true`.
Fix: enable the method the flow uses, or switch `use` to `code`; pick passwordless or MFA for code.
"""

from __future__ import annotations

from bot.analyze.configkit import get, value_or_default
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, Patch

_REASONS = {
    "recovery": "reason.recovery-method-not-enabled",
    "verification": "reason.verification-strategy-not-enabled",
}


@rule("config-code-method")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        config = artifact.config
        target = ev.index_of(artifact)
        if (
            get(config, "selfservice.methods.code.passwordless_enabled") is True
            and get(config, "selfservice.methods.code.mfa_enabled") is True
        ):
            yield Finding(
                rule="config-code-method",
                title="`passwordless_enabled` and `mfa_enabled` are both on for the code method",
                detail=(
                    "With `passwordless_enabled` the code strategy only answers aal1 login flows, so the code "
                    "never works as a second factor; and `mfa_enabled` makes every identity with a code address "
                    "count as having one, so `highest_available` sends them to an aal2 step that refuses code."
                ),
                fixes=(
                    "Pick one: `passwordless_enabled: true` (code as first factor) or `mfa_enabled: true` "
                    "(code as second factor).",
                ),
                entries=("topic.passwordless-enabled",),
                config_keys=("selfservice.methods.code.passwordless_enabled", "selfservice.methods.code.mfa_enabled"),
                score=86,
            )
        for flow in ("recovery", "verification"):
            use = get(config, f"selfservice.flows.{flow}.use")
            enabled = get(config, f"selfservice.flows.{flow}.enabled")
            if use not in ("link", "code") or enabled is False:
                continue
            on = value_or_default(kb.facts, config, f"selfservice.methods.{use}.enabled")
            if on:
                continue
            key = f"selfservice.methods.{use}.enabled"
            yield Finding(
                rule="config-code-method",
                title=f"`selfservice.flows.{flow}.use: {use}` but `{key}` is off",
                detail=(
                    f"The {flow} flow runs with the `{use}` method, which must be enabled under "
                    f"`selfservice.methods`; otherwise {flow} fails with 400."
                ),
                fixes=(f"Set `{key}: true`, or use `code` for {flow}.",),
                entries=(_REASONS[flow],),
                config_keys=(key, f"selfservice.flows.{flow}.use"),
                score=88,
                patches=(Patch(target, "set", tuple(key.split(".")), True, f"{use} must be on for {flow}"),),
            )
