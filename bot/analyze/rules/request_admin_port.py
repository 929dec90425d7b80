"""request-admin-port: an admin API call sent to the public port.

Why: the admin API (`/admin/...`, e.g. identities, sessions, recovery codes) is served on the admin port
(`serve.admin.port`, 4434 by default). On the public port (4433) Kratos only answers with a 307 redirect to
`serve.admin.base_url` (x/redir/port_redirect.go), which a client outside the cluster usually cannot
reach, or which curl does not follow without `-L`.
Example: `curl http://127.0.0.1:4433/admin/identities`.
Fix: call the admin port directly, from inside your network; never expose it to the internet.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.requestkit import ADMIN_PREFIX, api_request
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

PUBLIC, ADMIN = 4433, 4434


@rule("request-admin-port")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        req = api_request(curl.method, curl.url)
        if req is None or req.port != PUBLIC or not (req.path + "/").startswith(ADMIN_PREFIX):
            continue
        yield Finding(
            rule="request-admin-port",
            title=f"`{req.path}` is an admin endpoint, but the request goes to the public port {PUBLIC}",
            detail=(
                f"Admin endpoints are served on the admin port (`serve.admin.port`, default {ADMIN}). On the "
                "public port Kratos answers 307 to `serve.admin.base_url`, which is usually not reachable "
                "from where the request came from."
            ),
            fixes=(
                f"Send admin calls to the admin port ({ADMIN}) from inside your network; do not expose it publicly.",
            ),
            config_keys=("serve.admin.port", "serve.admin.base_url"),
            entries=("topic.admin-vs-public-port",),
            score=86,
            patches=(
                Patch(
                    ev.index_of(curl),
                    "set",
                    ("url",),
                    curl.url.replace(f":{PUBLIC}", f":{ADMIN}", 1),
                    f"admin port {ADMIN}",
                ),
            ),
        )
