"""config-dsn-memory: `dsn: memory` (an in-memory SQLite database).

Why: with `dsn: memory` every identity, session and flow lives in the process: a restart or a second
replica loses or does not see them ("session not found", flows that vanish, users who must register
again). Fine for a demo, wrong for anything users rely on.
Example: `dsn: memory` in a Kubernetes deployment.
Fix: point `dsn` at PostgreSQL, MySQL or CockroachDB and run `kratos migrate sql up`.
"""

from __future__ import annotations

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig


@rule("config-dsn-memory")
def check(ev: Evidence, kb: KnowledgeBase):
    for artifact in ev.of(KratosConfig):
        dsn = artifact.config.get("dsn")
        if not isinstance(dsn, str) or not (dsn == "memory" or dsn.startswith("sqlite://file::memory:")):
            continue
        yield Finding(
            rule="config-dsn-memory",
            title="`dsn: memory` keeps all data in the process",
            detail=(
                "Identities, sessions and flows are lost on every restart, and two replicas do not share "
                "them. Use it only for a local demo."
            ),
            fixes=("Set `dsn` to a PostgreSQL, MySQL or CockroachDB URL and run `kratos migrate sql up -e --yes`.",),
            entries=("topic.dsn-and-migrations",),
            config_keys=("dsn",),
            severity="warning",
            score=75,
        )
