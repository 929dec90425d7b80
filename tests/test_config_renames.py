"""knowledge/config_renames.yaml: renamed/removed config keys point at current keys, in release order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.kb.loader import load_facts
from tests.conftest import ROOT

RENAMES = ROOT / "knowledge" / "config_renames.yaml"
FIELDS = {"old", "new", "last_release_with_old", "first_release_with_new", "note", "evidence", "drop_in"}
REQUIRED = FIELDS - {"note", "drop_in"}
TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(?:-([a-z]+)\.(\d+)(?:\.pre\.(\d+))?)?(?:\+[\w.]+)?$")
EVIDENCE = re.compile(r"^[0-9a-f]{7,40} \S+$")


def _tag_key(tag: str) -> tuple:
    m = TAG.match(tag)
    assert m, f"not a Kratos release tag: {tag}"
    major, minor, patch, pre, pre_n, pin = m.groups()
    # v1.2.3-alpha.0.pre.1 < v1.2.3-alpha.1 < v1.2.3
    rank = (1,) if pre is None else (0, int(pre_n), 1 if pin is None else 0, int(pin or 0))
    return (int(major), int(minor), int(patch), rank)


def _entries() -> list[dict]:
    doc = yaml.safe_load(RENAMES.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and set(doc) == {"renames"}
    assert isinstance(doc["renames"], list) and doc["renames"]
    return doc["renames"]


ENTRIES = _entries()


@pytest.fixture(scope="module")
def facts():
    return load_facts(Path(ROOT / "knowledge" / "facts"))


def test_tag_order_helper():
    order = [
        "v0.9.0-alpha.3",
        "v0.10.0",
        "v0.11.0-alpha.0.pre.0",
        "v0.11.0-alpha.0.pre.2",
        "v0.11.0",
        "v1.3.1",
        "v25.4.0",
    ]
    assert sorted(order, key=_tag_key) == order
    assert _tag_key("v0.8.3-alpha.1.pre.0") < _tag_key("v0.8.3-alpha.1") < _tag_key("v0.9.0-alpha.1")


def test_old_keys_are_unique():
    olds = [e["old"] for e in ENTRIES]
    assert len(olds) == len(set(olds))


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.get("old", "?"))
def test_entry(entry, facts):
    assert set(entry) <= FIELDS, f"unknown fields {set(entry) - FIELDS}"
    assert set(entry) >= REQUIRED, f"missing fields {REQUIRED - set(entry)}"
    old, new = entry["old"], entry["new"]
    assert isinstance(old, str) and old
    assert facts.config_key(old) is None, f"{old} is still a current config key"
    if new is not None:
        assert isinstance(new, str) and new != old
        assert facts.config_key(new) is not None, f"{new} is not a current config key"
    assert _tag_key(entry["last_release_with_old"]) < _tag_key(entry["first_release_with_new"])
    assert EVIDENCE.match(entry["evidence"]), entry["evidence"]
    if "note" in entry:
        assert isinstance(entry["note"], str) and entry["note"].strip()
