"""helm-identity-schemas: Helm values point `identity.schemas` at a file the Ory chart does not create.

Why: with the Ory Kratos Helm chart (ory/k8s), identity schemas are given as values under
`kratos.identitySchemas`, keyed by file name; the chart writes them into the config map mounted at
`/etc/config/`. A `file://` URL anywhere else (a path from a local docker-compose setup) does not exist
in the pod, and Kratos fails to load the schema.
Example: `kratos.config.identity.schemas[0].url: file:///home/me/identity.schema.json`.
Fix: `kratos.identitySchemas: {"identity.default.schema.json": <the JSON>}` and
`url: file:///etc/config/identity.default.schema.json`.
"""

from __future__ import annotations

from bot.analyze.configkit import get
from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.kb.loader import KnowledgeBase
from bot.models import Finding, KratosConfig, KratosError, Snippet

MOUNT = "file:///etc/config/"
# What Kratos (or the shell) says when the schema file is missing; schema/handler.go and os errors.
MISSING = ("not found", "could not be found", "no such file", "found/fetched")


@rule("helm-identity-schemas")
def check(ev: Evidence, kb: KnowledgeBase):
    for config in ev.of(KratosConfig):
        schemas = get(config.config, "identity.schemas")
        if config.source != "helm" or not isinstance(schemas, list):
            continue
        bad = [
            s
            for s in schemas
            if isinstance(s, dict)
            and str(s.get("url", "")).startswith("file://")
            and not str(s.get("url")).startswith(MOUNT)
        ]
        prose = " ".join([ev.prose, *(e.reason or "" for e in ev.of(KratosError))]).lower()
        if not bad and not any(p in prose for p in MISSING):
            continue
        name = "identity.default.schema.json"
        for s in schemas:
            url = str(s.get("url", "")) if isinstance(s, dict) else ""
            if url.startswith(MOUNT) and url.endswith(".json"):
                name = url[len(MOUNT) :]
                break
        values = (
            'kratos:\n  identitySchemas:\n    "identity.default.schema.json": |\n      { …your schema… }\n'
            "  config:\n    identity:\n      default_schema_id: default\n      schemas:\n        - id: default\n"
            f"          url: {MOUNT}{name}"
        )
        yield Finding(
            rule="helm-identity-schemas",
            title="With the Ory Helm chart, identity schemas go under `kratos.identitySchemas`",
            detail=(
                "The chart writes every `kratos.identitySchemas` entry (keyed by file name) into the config map "
                "mounted at `/etc/config/`; other `file://` paths do not exist in the pod"
                + (f" (here: `{bad[0].get('url')}`)" if bad else "")
                + "."
            ),
            fixes=(
                f'Put the schema JSON under `kratos.identitySchemas` as `"{name}"` and point the schema\'s `url` '
                f"at `{MOUNT}{name}`.",
            ),
            entries=("topic.identity-schema-basics",),
            snippet=Snippet("yaml", values, "Helm values"),
            score=90,
        )
