"""continue-with-transitions: a JSON submit of a browser recovery flow answered 422 instead of 200.

Why: when a recovery code or link succeeds, Kratos creates a settings flow. With
`feature_flags.use_continue_with_transitions: false` (the default) a JSON request to a browser flow
gets 422 `browser_location_change_required` pointing at the settings UI; with `true` the same request
gets 200 and a `continue_with` item (`show_settings_ui`) that names the settings flow
(selfservice/strategy/code/strategy_recovery.go). Kratos' quickstart config sets the flag to true,
which is why the same requests often work against a docker-compose setup and fail elsewhere.
Example: recovery POST `{"method": "code", "code": "…"}` → 422 with `redirect_browser_to` …/settings?flow=….
Fix: read `redirect_browser_to` (or turn the flag on and read `continue_with`).
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence, curl_endpoint
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, KratosError, Snippet

KEY = "feature_flags.use_continue_with_transitions"
_ENV_DIFF = re.compile(
    r"(?i)\b(local(ly)?|docker[- ]?compose|k8s|k9s|kubernetes|helm|cluster|staging|production|prod|deploy)"
)


@rule("continue-with-transitions")
def check(ev: Evidence, kb: KnowledgeBase):
    errors = [e for e in ev.of(KratosError) if e.id == "browser_location_change_required"]
    if not errors:
        return
    target = errors[0].redirect_browser_to or errors[0].reason or ""
    to_settings = "settings" in target
    recovery_submit = any(
        (ep := curl_endpoint(c)) is not None and ep.flow == "recovery" and ep.variant is None for c in ev.of(Curl)
    )
    if not (to_settings or recovery_submit):
        return
    env_diff = bool(_ENV_DIFF.search(ev.prose))
    detail = (
        "A successful recovery code makes Kratos create a settings flow. With `" + KEY + "` off (the default), "
        "a JSON request to a browser recovery flow gets this 422 with `redirect_browser_to`; with it on, the same "
        "request gets 200 and a `continue_with` item of type `show_settings_ui` holding the settings flow."
    )
    if env_diff:
        detail += (
            " Kratos' quickstart docker-compose config sets `" + KEY + ": true`, so if your local setup started from "
            "it, that explains why step 3 works locally but returns 422 in the cluster: the cluster config does not "
            "set the flag."
        )
    yield Finding(
        rule="continue-with-transitions",
        title="Same request, different answer: `" + KEY + "` decides between 422 and 200 + `continue_with`",
        detail=detail,
        fixes=(
            "Handle the 422: read the settings flow id from `redirect_browser_to` and continue in that flow. "
            "Or set `"
            + KEY
            + ": true` in the config"
            + (" of the cluster (as in the local one)" if env_diff else "")
            + " and read `continue_with` from the 200.",
        ),
        entries=("error.browser_location_change_required", "topic.recovery-to-settings"),
        snippet=Snippet(
            "yaml",
            "feature_flags:\n  use_continue_with_transitions: true",
            "makes JSON clients get 200 with continue_with instead of 422",
        ),
        config_keys=(KEY,),
        score=90 if env_diff else 80,
    )
