"""Generate the fact tables in knowledge/facts/ from the reference data in ../shared/kratos.

The tables hold facts only (ids, exact message texts, key paths, endpoint paths, doc URLs and
anchors), no prose, so that the bot can validate its knowledge and answer without ../shared.
Run: python -m kbgen facts --shared DIR

`python -m kbgen facts --kratos-src DIR [--ref TAG]` writes the same Kratos tables (all but docs.json)
straight from a Kratos checkout, for any release; tests/test_kb_facts.py checks that both agree.
"""

from __future__ import annotations

import json
from pathlib import Path


def _load(shared: Path, name: str) -> dict:
    return json.loads((shared / name).read_text(encoding="utf-8"))


def ui_messages(shared: Path) -> list[dict]:
    data = _load(shared, "ui-messages.json")
    return [
        {
            "id": m["id"],
            "name": m["name"],
            "type": m["type"],
            "text": m["text"],
            "text_kind": m["text_kind"],
            "has_constructor": m["has_constructor"],
        }
        for m in data["messages"]
    ]


def error_ids(shared: Path) -> list[dict]:
    data = _load(shared, "error-ids.json")
    out = []
    for e in data["error_ids"]:
        reasons = sorted({r["reason"] for r in e["raised_at"] if r.get("reason")})
        out.append({"id": e["id"], "name": e["name"], "statuses": e["statuses"], "reasons": reasons})
    return out


def reasons(shared: Path) -> list[dict]:
    data = _load(shared, "herodot-reasons.json")
    seen: dict[str, dict] = {}
    for r in data["reasons"]:
        entry = seen.setdefault(
            r["text"],
            {"text": r["text"], "field": r["field"], "is_format": r["is_format"], "statuses": [], "error_ids": []},
        )
        if r.get("status") is not None and r["status"] not in entry["statuses"]:
            entry["statuses"].append(r["status"])
        if r.get("error_id") and r["error_id"] not in entry["error_ids"]:
            entry["error_ids"].append(r["error_id"])
    return sorted(seen.values(), key=lambda e: e["text"])


def config_keys(shared: Path) -> list[dict]:
    data = _load(shared, "config-keys.json")
    out = []
    for k in data["keys"]:
        row = {"key": k["key"], "type": k.get("type")}
        for field in ("default", "enum", "allowed_values", "env_var"):
            if field in k:
                row[field] = k[field]
        out.append(row)
    return out


def endpoints(shared: Path) -> list[dict]:
    data = _load(shared, "api-endpoints.json")
    out = []
    for ep in data["endpoints"]:
        row = {
            "method": ep["method"],
            "path": ep["path"],
            "operation_id": ep["operationId"],
            "query": [{"name": q["name"], "required": q["required"]} for q in ep["query_params"]],
            "error_ids": [e["id"] for e in ep["error_ids_documented"]],
            "docs_url": ep["docs_reference_url"],
        }
        variants = (ep.get("method_variants") or {}).get("variants") or []
        if variants:
            row["variants"] = {v["method"]: {"required": v["required"], "optional": v["optional"]} for v in variants}
        out.append(row)
    return out


def docs(shared: Path) -> list[dict]:
    data = _load(shared, "docs-index.json")
    return [
        {
            "url": p["canonical_url"],
            "legacy_url": p["url"],
            "title": p["title"],
            "anchors": [h["anchor"] for h in p["headings"]],
            "headings": {h["anchor"]: h["text"] for h in p["headings"]},
        }
        for p in data["pages"]
    ]


TABLES = {
    "ui_messages": ui_messages,
    "error_ids": error_ids,
    "reasons": reasons,
    "config_keys": config_keys,
    "endpoints": endpoints,
    "docs": docs,
}


def pinned_commit(shared: Path) -> str:
    """The Kratos commit the reference data was read from, as its README states it."""
    readme = (shared / "README.md").read_text(encoding="utf-8")
    return readme.split("[ory/kratos](https://github.com/ory/kratos) | `", 1)[1].split("`", 1)[0]


def write(shared: Path, out: Path) -> dict[str, dict]:
    """Write every table into `out`; returns the documents written, by table name."""
    commit = pinned_commit(shared)
    out.mkdir(parents=True, exist_ok=True)
    docs = {}
    for name, build in TABLES.items():
        rows = build(shared)
        doc = {"source": "ory/kratos", "commit": commit, "count": len(rows), "rows": rows}
        if name != "docs":  # the same header a checkout's tables get; docs.json comes only from ../shared
            doc = {"source": doc["source"], "ref": "HEAD", **doc}
        (out / f"{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        docs[name] = doc
    return docs
