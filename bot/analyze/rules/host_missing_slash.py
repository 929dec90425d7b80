"""host-missing-slash: `{{host}}kratos/...` joins the host variable and the path without a `/`.

Why: unless the variable itself ends with a slash, the request goes to `http://hostkratos/...` or a
wrong path, and a proxy may route it elsewhere or return its own error.
Example: `--url '{{host}}kratos/self-service/recovery?flow=…'`.
Fix: write `{{host}}/kratos/self-service/...` (or make sure the variable ends with `/`).
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

_JOINED = re.compile(r"^(\{\{\s*\w+\s*\}\})([A-Za-z][\w.-]*/)")


@rule("host-missing-slash")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        m = _JOINED.match(curl.url)
        if m is None:
            continue
        var, segment = m.group(1), m.group(2)
        yield Finding(
            rule="host-missing-slash",
            title=f"`{var}{segment}` is missing a slash",
            detail=(
                f"The URL joins `{var}` and `{segment}` with no `/` between them. Unless `{var}` ends with a "
                f"slash, the request goes to the wrong host or path."
            ),
            fixes=(f"Use `{var}/{segment}...` in the URL.",),
            severity="warning",
            score=70,
            patches=(
                Patch(ev.index_of(curl), "replace", ("url",), (var + segment, f"{var}/{segment}"), "slash added"),
            ),
        )
