"""The running Kratos release is read from evidence only (bot/extract/version.py)."""

from __future__ import annotations

import pytest

from bot.extract.version import running_version

CASES = [
    # (message, the release the user runs, or None when nothing says so)
    ("stack: github.com/ory/x@v0.0.392/sqlxx/expand.go:12 panic", None),
    ("we went 0.6.3 → 0.7.3 last week and login broke", "v0.7.3"),
    ("after upgrading kratos from v1.0.0 to v1.1.0 the hook fails", "v1.1.0"),
    ("back in v0.5.x this setting was possible. Now we run the current version (v0.6.0-alpha.2)", "v0.6.0-alpha.2"),
    ("image: oryd/kratos:v1.3.1-distroless", "v1.3.1"),
    ("We're using kratos v0.11.0. Webhooks don't fire.", "v0.11.0"),
    ("### Version\n\nv1.2.0\n", "v1.2.0"),
    ("node v18.2.0 and postgres 14.1", None),
    ("helm upgrade --install --version 0.41.0 kratos ory/kratos", None),
    ("Version:    v1.0.0\nBuild Commit: abc\nBuild Timestamp: 2024", "v1.0.0"),
    ("is this missing from the latest released version v0.10.1?", "v0.10.1"),
    ("docker run oryd/kratos:v0.8.0 serve, and I also tried the v0.8 and v0.11 branches", "v0.8.0"),
    ("I'm on v1.1.0 here", "v1.1.0"),
    ("Kratos version: 1.1", "v1.1.0"),
    ("this worked in kratos v1.0.0 but not anymore", None),
    ("kratos-client-go v0.6.3-alpha.1 whoami returns 401", None),
    ("version: '3.8'\nservices:\n  kratos:", None),
    ("appVersion: v0.13.0", "v0.13.0"),
    ("since kratos v1.0 the flag is gone", None),
]


@pytest.mark.parametrize("text,want", CASES, ids=[c[0][:40] for c in CASES])
def test_running_version(text, want):
    claim = running_version(text)
    assert (claim.version if claim else None) == want, claim


def test_stronger_evidence_wins_over_a_statement():
    text = "kratos v1.0.0 docs say X.\n  image: oryd/kratos:v0.13.0\n"
    claim = running_version(text)
    assert claim is not None and (claim.version, claim.source) == ("v0.13.0", "image tag")
