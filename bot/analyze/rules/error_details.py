"""error-details: explain the `error.details` Kratos attached, such as a CSRF `reject_reason`.

Why: the top-level `reason` is often generic ("Please retry the flow…"), while `details` says what
actually failed: for `security_csrf_violation` the `reject_reason` tells apart "no cookie at all",
"cookies but not the CSRF one" and "cookie and token do not match" (a JSON body without `csrf_token`
also lands there), and `hint` may say the token was not sent at all; each has a different fix. The
detail texts are literal strings in Kratos, so each maps to a knowledge entry.
Example: `"reject_reason": "The HTTP Cookie Header was set and a CSRF token was sent but they do not match."`.
Fix: the one of the detail's entry; the finding quotes which detail it was.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosError


@rule("error-details")
def check(ev: Evidence, kb: KnowledgeBase):
    for error in ev.of(KratosError):
        for key, value in error.details:
            entry = kb.find_reason(value)
            if entry is None or entry.kind != "reason":
                continue
            yield Finding(
                rule="error-details",
                title=f"`details.{key}`: {entry.title}",
                detail=entry.summary,
                fixes=entry.fixes[:2],
                entries=(entry.id,),
                score=92,
            )
