"""Advice is checked against the release the user runs: a config key it lacks is not suggested as is."""

from __future__ import annotations

from bot.analyze.versionkit import fit_finding
from bot.models import Finding, KratosConfig, Patch
from bot.render import to_text

HOOK = "selfservice.methods.password.config.migrate_hook"  # first released in v1.3.0
ERROR = "Password login fails: Password migration hook is not enabled but password migration is requested."


def _fix_lines(reply) -> list[str]:
    (fix,) = [s for s in reply.sections if s.title == "Fix"]
    return list(fix.lines)


def test_an_entry_fix_with_a_key_the_running_release_lacks_says_which_release_has_it(triage):
    lines = _fix_lines(triage.answer(f"We run kratos v1.1.0. {ERROR}"))
    hook = [line for line in lines if f"`{HOOK}.enabled`" in line]
    assert hook and all("needs Kratos v1.3.0 or newer" in line for line in hook)


def test_the_same_fix_is_left_alone_on_a_release_that_has_the_key(triage):
    reply = triage.answer(f"We run kratos v1.3.1. {ERROR}")
    assert "needs Kratos" not in to_text(reply)


def test_a_findings_patch_with_a_key_the_release_lacks_is_dropped_and_its_fix_says_so(kb):
    config = KratosConfig(config={"selfservice": {"methods": {"password": {"enabled": True}}}})
    finding = Finding(
        rule="made-up",
        title="Passwords of imported users are never checked",
        detail="",
        fixes=(f"Enable `{HOOK}.enabled`.", "Keep `selfservice.methods.password.enabled: true`."),
        patches=(
            Patch(0, "set", tuple(HOOK.split(".")), {"enabled": True, "config": {"url": "https://x"}}, "added"),
            Patch(0, "set", ("selfservice", "methods", "password", "enabled"), True, "kept"),
        ),
    )
    fitted = fit_finding(kb, "v1.1.0", finding, (config,))
    assert fitted.fixes == (
        f"Enable `{HOOK}.enabled`. (needs Kratos v1.3.0 or newer; you run v1.1.0)",
        "Keep `selfservice.methods.password.enabled: true`.",
    )
    assert [p.note for p in fitted.patches] == ["kept"]
    assert fit_finding(kb, "v1.3.0", finding, (config,)) == finding
