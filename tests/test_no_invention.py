"""No reply names a config key, endpoint, body field or schema option that Kratos does not have.

Every reply to the seed thread, the evaluation cases and the rule fixtures is checked: config keys
and `METHOD /path` mentions in the text against the fact tables, and the code the bot suggests is fed
back through the bot's own doctors (a suggested curl must pass the request rules, a suggested schema
the schema rules, a suggested config the config rules).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from bot.analyze import analyze
from bot.analyze.evidence import Evidence
from bot.extract import extract
from bot.normalize import normalize
from bot.pipeline import Triage
from tests.conftest import SHARED

ROOT = Path(__file__).parent
CONFIG_ROOTS = (
    "selfservice.",
    "serve.",
    "courier.",
    "identity.",
    "session.",
    "cookies.",
    "secrets.",
    "hashers.",
    "feature_flags.",
    "ciphers.",
    "oauth2_provider.",
    "security.",
    "database.",
)
_TICKED = re.compile(r"`([^`\n]{3,200})`")
_ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/[A-Za-z0-9_./{}<>?=&:-]+)")
DOCTOR_RULES = {
    "bash": {"request-body", "request-endpoint"},
    "json": {"schema-extension"},
    "yaml": {"config-keys", "config-values"},
}


def _threads() -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    seed = SHARED / "seed" / "expectations.yaml"
    if seed.is_file():
        out.append(("seed", [t["text"] for t in yaml.safe_load(seed.read_text())["thread"]]))
    for path in sorted((ROOT / "cases").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text())
        turns = doc.get("thread") or doc.get("turns") or []
        out.append((path.stem, [t["text"] if isinstance(t, dict) else str(t) for t in turns]))
    for path in sorted((ROOT / "fixtures" / "rules").glob("*/*/*.txt")):
        out.append((f"{path.parent.parent.name}/{path.name}", path.read_text().split("\n=== next turn ===\n")))
    return out


THREADS = _threads()


def _key_token(raw: str) -> str:
    """The config key a ticked token names: `key: value`, `key=value`, `url_key?flow=<id>` and `list[]` all
    name the key before the punctuation."""
    token = raw.split(":")[0].strip() if ": " in raw else raw.strip()
    return token.split("=")[0].split("?")[0].strip().removesuffix("[]")


def _key_ok(kb, key: str) -> bool:
    key = key.rstrip(".:,")
    if "<" in key or "*" in key:
        pattern = re.escape(key).replace(r"\*", "[^.]+")
        pattern = re.sub(r"<[^>]*>", "[^.]+", pattern.replace(r"\<", "<").replace(r"\>", ">"))
        return any(re.fullmatch(pattern, k) for k in kb.facts.config_keys)
    return kb.facts.config_key(key) is not None


def _user_paths(text: str, env_keys) -> set[str]:
    """Dotted key paths of the configs the user pasted (their own keys may be quoted back)."""
    out: set[str] = set()
    for artifact in extract(normalize(text), env_keys).artifacts:
        stack = [((), getattr(artifact, "config", None))]
        while stack:
            path, node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    out.add(".".join(path + (str(key),)))
                    stack.append((path + (str(key),), value))
    return out


def _segments(path: str) -> list[str]:
    return ["*" if re.fullmatch(r"<[^>]*>|\{[^}]*\}", s) else s for s in path.strip("/").split("/")]


def _endpoint_ok(kb, method: str, path: str) -> bool:
    """Placeholders (`{id}`, `<flow>`) on either side match any one path segment."""
    mention = _segments(path.split("?")[0].rstrip(".,:)"))
    for known in kb.facts.endpoints:
        m, p = known.split(" ", 1)
        segments = _segments(p)
        if (
            m == method
            and len(segments) == len(mention)
            and all(a == b or "*" in (a, b) for a, b in zip(segments, mention, strict=True))
        ):
            return True
    return False


@pytest.mark.parametrize(("name", "turns"), THREADS, ids=[t[0] for t in THREADS])
def test_replies_name_only_real_things(kb, name, turns):
    triage = Triage(kb)
    problems: list[str] = []
    said = ""  # what the user wrote so far: quoting their own wrong key back is fine
    for turn in turns:
        said += "\n" + normalize(turn).text
        reply = triage.answer(turn, thread=name)
        texts = [reply.headline, reply.warning] + [line for s in reply.sections for line in s.lines]
        for text in texts:
            for token in map(_key_token, _TICKED.findall(text)):
                if token.startswith(CONFIG_ROOTS) and " " not in token and not _key_ok(kb, token):
                    historical = any(token == old or token.startswith(old + ".") for old in kb.config_renames)
                    if token not in said and not historical and token not in _user_paths(said, triage.env_keys):
                        problems.append(f"config key {token!r}")
            for method, path in _ENDPOINT.findall(text):
                if not _endpoint_ok(kb, method, path) and path.split("?")[0] not in said:
                    problems.append(f"endpoint {method} {path}")
        for section in reply.sections:
            snippet = section.code
            rules = DOCTOR_RULES.get(snippet.lang) if snippet else None
            if not rules:
                continue
            code = "\n".join(
                line.split("  // <-")[0].split("  # <-")[0]
                for line in snippet.code.split("\n")
                if not line.strip().startswith(("// <-", "# <-"))
            )
            ex = extract(normalize(code), triage.env_keys)
            for finding in analyze(Evidence(focus=ex.artifacts, prose=""), kb):
                if finding.rule in rules:
                    problems.append(f"suggested {snippet.lang} fails {finding.rule}: {finding.title}")
    assert problems == []


# Fields of the identity and session objects (identity/identity.go, session/session.go json tags) and of the
# Jsonnet mapper's output: payload paths in webhook and mapper entries, not config keys.
OBJECT_FIELDS = re.compile(
    r"^(session\.)?identity\.(id|schema_id|schema_url|state|traits|verifiable_addresses|recovery_addresses|"
    r"metadata_public|metadata_admin|external_id|organization_id|credentials|verified_addresses|created_at)\b|"
    r"^session\.(id|active|expires_at|authenticated_at|authenticator_assurance_level|authentication_methods|"
    r"issued_at|devices|tokenized)\b"
)
# Served outside the API spec (cmd/daemon/serve.go:177, driver/config/handler.go:17), on both ports.
OPERATIONAL = re.compile(r"^(/admin)?/(health/(alive|ready|config)|metrics/prometheus)$")


def _entry_problems(kb, entry, env_keys) -> list[str]:
    problems: list[str] = []
    texts = [entry.title, entry.summary, *entry.causes, *entry.fixes, *(c.change for c in entry.history)]
    for text in texts:
        for m in _TICKED.finditer(text):
            token = _key_token(m.group(1))
            if "chart" in text[max(0, m.start() - 40) : m.start()].lower() or OBJECT_FIELDS.match(token):
                continue  # a Helm chart value, or a field of an identity or session
            historical = any(token == old or token.startswith(old + ".") for old in kb.config_renames)
            if token.startswith(CONFIG_ROOTS) and " " not in token and not _key_ok(kb, token) and not historical:
                problems.append(f"config key {token!r}")
        for method, path in _ENDPOINT.findall(text):
            if not _endpoint_ok(kb, method, path) and not OPERATIONAL.match(path):
                problems.append(f"endpoint {method} {path}")
    snippet = entry.snippet
    rules = DOCTOR_RULES.get(snippet.lang) if snippet else None
    if rules:
        ex = extract(normalize(snippet.code), env_keys)
        for finding in analyze(Evidence(focus=ex.artifacts, prose=""), kb):
            if finding.rule in rules:
                problems.append(f"snippet fails {finding.rule}: {finding.title}")
    return problems


def test_every_entry_names_only_real_things(kb):
    """Not only the replies the cases happen to produce: every entry's own text and example."""
    env_keys = Triage(kb).env_keys
    problems = {e.id: p for e in kb.entries.values() if (p := _entry_problems(kb, e, env_keys))}
    assert not problems, dict(list(problems.items())[:15])
    # and the check itself sees an invented key and an invented endpoint
    made_up = dataclasses.replace(
        next(iter(kb.entries.values())),
        summary="Set `selfservice.flows.login.auto_magic` and call `GET /sessions/magic`.",
    )
    assert len(_entry_problems(kb, made_up, env_keys)) == 2
