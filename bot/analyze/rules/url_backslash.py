"""url-backslash: a backslash typed for the shell ended up in a Kratos URL (`/self-service/login%5C`, `flow\\=`).

Why: `\\?`, `\\=` or `\\&` escape characters for zsh or bash only outside quotes; inside quotes, or from a line
continuation placed in the middle of a URL, the backslash is sent. Kratos then sees another path
(`/self-service/login%5C`) or a query key `flow\\`: not the flow's submit route, so the request meets the
general anti-CSRF check (`security_csrf_violation`, although API flows need no CSRF token: their submit route
is exempt, selfservice/flow/login/handler.go IgnorePath, and selfservice/flow/request.go EnsureCSRF returns
early for API flows), a 404, or "the flow query parameter is missing".
Example: a request log with `path:/self-service/login%5C query:flow\\=c48a…`.
Fix: quote the whole URL once, without backslashes, or POST to the flow's `ui.action` exactly as returned.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding

# A Kratos route followed by an encoded or literal backslash, or a query key that kept one.
_STRAY = re.compile(
    r"(/(?:self-service/[a-z/-]+|sessions/whoami|admin/[a-z/-]+))(%5[cC]|\\(?=[?&=\s'\"]|$))"
    r"|[?&\s](flow|return_to)(?:%5[cC]|\\)="
)


@rule("url-backslash")
def check(ev: Evidence, kb: KnowledgeBase):
    m = _STRAY.search(ev.text or ev.prose)
    if m is None:
        return
    seen = m.group(0).strip()
    yield Finding(
        rule="url-backslash",
        title=f"A backslash got into the URL (`{seen}`)",
        detail=(
            "A `\\` written to escape `?`, `=` or `&` for the shell is sent as part of the URL when it sits inside "
            "quotes (or a line continuation falls in the middle of the URL). Kratos then gets another path or a "
            "query key with a backslash, not the flow's submit route: a CSRF error, a 404, or a missing `flow` "
            "parameter. API flows do not use CSRF tokens at all: their submit route is exempt from the check."
        ),
        fixes=(
            "Quote the whole URL once, without backslashes: `curl -X POST '<kratos>/self-service/login?flow=<id>'`.",
            "Better: POST to the flow's `ui.action` exactly as Kratos returned it.",
        ),
        entries=("error.security_csrf_violation", "reason.csrf-token-mismatch", "reason.csrf-token-not-sent"),
        score=92,
        overrides_advice=True,  # the CSRF error is a side effect of the wrong path: its usual fixes mislead
    )
