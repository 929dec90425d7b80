"""config-courier-templates: custom email templates put in the folder of the other method.

Why: with `template_override_path` Kratos reads each template from a folder named after its type.
The code method's mails are `verification_code/…` and `recovery_code/…`
(courier/template/email/verification_code_valid.go); `verification/…` and `recovery/…` belong to the
link method. Templates in the wrong folder are silently ignored and users get the built-in mail.
Example: `use: code` with files in `verification/valid/email.body.gotmpl`.
Fix: move them to `verification_code/valid/` (and `recovery_code/valid/`).
"""

from __future__ import annotations

import re

from bot.analyze.configkit import get
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig

_LINK_FOLDER = re.compile(r"\b(verification|recovery)/(valid|invalid)\b")


@rule("config-courier-templates")
def check(ev: Evidence, kb: KnowledgeBase):
    configs = ev.of(KratosConfig) + ev.earlier(KratosConfig)
    texts = [ev.prose] + [t.prose for t in reversed(ev.history)]
    for config in configs:
        for m in (_LINK_FOLDER.search(t) for t in texts):
            if m is None:
                continue
            flow = m.group(1)
            use = get(config.config, f"selfservice.flows.{flow}.use") or "code"
            if use != "code":
                continue
            yield Finding(
                rule="config-courier-templates",
                title=(
                    f"`{flow}/{m.group(2)}/` is the link method's folder; `use: code` reads `{flow}_code/{m.group(2)}/`"
                ),
                detail=(
                    f"With `selfservice.flows.{flow}.use: code` Kratos sends the `{flow}_code` templates, so it looks "
                    f"for `{flow}_code/{m.group(2)}/email.body.gotmpl` under `courier.template_override_path`. "
                    f"Files in `{flow}/{m.group(2)}/` are the `link` method's and are ignored here."
                ),
                fixes=(f"Move the files to `{flow}_code/{m.group(2)}/` (body, plaintext body and subject).",),
                entries=("topic.email-templates",),
                config_keys=("courier.template_override_path", f"selfservice.flows.{flow}.use"),
                score=93,
            )
            return
