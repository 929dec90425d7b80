"""knowledge/facts/versions.json and `python -m kbgen versions`: release facts and the Go const evaluator."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from kbgen import versions as gen

ROOT = Path(__file__).resolve().parent.parent
FACTS = ROOT / "knowledge" / "facts"
KRATOS_SRC = Path(os.environ.get("KRATOS_SRC", "/work/.mirror/ory+kratos/repo"))


def _versions() -> dict:
    return json.loads((FACTS / "versions.json").read_text(encoding="utf-8"))


def _kratos_show(rev: str, path: str) -> str:
    if not (KRATOS_SRC / "HEAD").is_file() and not (KRATOS_SRC / ".git").exists():
        pytest.skip(f"no Kratos git repository at {KRATOS_SRC} (set KRATOS_SRC to a clone of ory/kratos)")
    res = subprocess.run(["git", "-C", str(KRATOS_SRC), "show", f"{rev}:{path}"], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"{rev}:{path} is not readable in {KRATOS_SRC}: {res.stderr.strip()}")
    return res.stdout


def test_iota_evaluation_matches_ui_message_facts():
    facts = json.loads((FACTS / "ui_messages.json").read_text(encoding="utf-8"))
    evaluated = gen.go_int_consts(_kratos_show(facts["commit"], "text/id.go"))
    by_id = {r["id"]: r["name"] for r in facts["rows"]}
    assert sorted(evaluated.values()) == sorted(by_id)
    assert {v: k for k, v in evaluated.items()} == by_id


def test_go_const_evaluator_follows_go_rules():
    src = """
    package text
    type ID int
    const (
        A ID = 100 + iota // 100
        B                 // 101
        _                 // 102, blank still counts
        /* block comment */ C // 103
        D ID = 7          // explicit value
        E                 // repeats 7
        F ID = (iota << 1) + D // 6<<1 + 7
    )
    const G ID = 5
    const H = 9
    """
    assert gen.go_int_consts(src) == {"A": 100, "B": 101, "C": 103, "D": 7, "E": 7, "F": 19, "G": 5}


def test_tags_sort_by_semver_with_prereleases_first():
    tags = [
        "v1.0.0",
        "v0.11.0",
        "v0.11.0-alpha.0.pre.1",
        "v0.10.1",
        "v0.8.0-alpha.4.pre.0",
        "v0.8.0-alpha.3",
        "v0.0.1-alpha.10+oryOS.15",
        "v0.0.1-alpha.9",
        "v25.4.0",
    ]
    assert sorted(tags, key=gen.semver_key) == [
        "v0.0.1-alpha.9",
        "v0.0.1-alpha.10+oryOS.15",
        "v0.8.0-alpha.3",
        "v0.8.0-alpha.4.pre.0",
        "v0.10.1",
        "v0.11.0-alpha.0.pre.1",
        "v0.11.0",
        "v1.0.0",
        "v25.4.0",
    ]


# Checked by hand against the repository with `git log -S` and `git tag --contains`.
SPOT_CHECKS = [
    ("config_key", "selfservice.methods.code.passwordless_enabled", "v1.1.0"),
    ("config_key", "feature_flags.use_continue_with_transitions", "v1.1.0"),
    ("error_id", "session_aal1_required", "v0.8.0-alpha.1"),
    ("ui_message", "4000035", "v1.1.0"),
    ("endpoint", "GET /self-service/settings/flows", "v0.5.0-alpha.1"),
]


@pytest.mark.parametrize(("kind", "item", "tag"), SPOT_CHECKS)
def test_versions_json_spot_checks(kind, item, tag):
    doc = _versions()
    assert doc["first_release"][kind].get(item) == tag
    assert item not in doc["removed_after"][kind]
    assert tag in doc["tags"]


def test_versions_json_shape():
    doc = _versions()
    assert doc["source"] == "ory/kratos"
    assert doc["tags"] == sorted(doc["tags"], key=gen.semver_key)
    for section in ("first_release", "removed_after"):
        assert set(doc[section]) == set(gen.KINDS)
        for items in doc[section].values():
            assert set(items.values()) <= set(doc["tags"])
    for kind, items in doc["removed_after"].items():
        for item, last in items.items():
            first = doc["first_release"][kind][item]
            assert gen.semver_key(first) <= gen.semver_key(last)


# The same facts, proven live: the commit that first added the literal (`git log -S`), and the oldest
# release tag that contains it (`git tag --contains`). 4000035 is an iota value, so -S cannot find it.
LIVE_CHECKS = [
    (
        "config_key",
        "selfservice.methods.code.passwordless_enabled",
        "passwordless_enabled",
        "embedx/config.schema.json",
    ),
    (
        "config_key",
        "feature_flags.use_continue_with_transitions",
        "use_continue_with_transitions",
        "embedx/config.schema.json",
    ),
    ("error_id", "session_aal1_required", "session_aal1_required", "text/message_error.go"),
]


@pytest.mark.parametrize(("kind", "item", "needle", "path"), LIVE_CHECKS)
def test_versions_json_matches_git_history(kind, item, needle, path):
    _kratos_show("HEAD", path)  # skips without a Kratos repository

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(KRATOS_SRC), *args], capture_output=True, text=True, check=True).stdout

    first = git("log", f"-S{needle}", "--reverse", "--format=%H", "HEAD", "--", path).split()[0]
    tags = [t for t in git("tag", "--contains", first).split() if gen.TAG_RE.match(t)]
    assert min(tags, key=gen.semver_key) == _versions()["first_release"][kind][item]
