"""config-code-method: settings of the one-time-code and link methods that cannot work together.

Why: (1) no `anyOf` branch of the config schema accepts `selfservice.methods.code.passwordless_enabled`
and `mfa_enabled` both true (embedx/config.schema.json), so Kratos does not start. (2) `selfservice.flows.recovery.use`
and `selfservice.flows.verification.use` name a method that must also be enabled under
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
                    "Kratos refuses to start with this config: the config schema accepts at most one of the two "
                    "being true (an `anyOf` on `selfservice.methods.code`). Code is either the first factor "
                    "(passwordless) or the second factor (MFA), never both."
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
                title=f"`selfservice.flows.{flow}.use: {use}` but the `{use}` method is not enabled",
                detail=(
                    f"The {flow} flow runs with the `{use}` method, which must be enabled under `selfservice.methods` "
                    f"(`{key}` is " + ("off by default" if use == "link" else "off here") + f"); otherwise {flow} "
                    "fails with 400."
                ),
                fixes=(f"Set `{key}: true`, or use `code` for {flow}.",),
                entries=(_REASONS[flow],),
                config_keys=(key, f"selfservice.flows.{flow}.use"),
                score=88,
                patches=(Patch(target, "set", tuple(key.split(".")), True, f"{use} must be on for {flow}"),),
            )
