"""Decide what a parsed JSON value or YAML block is: a Kratos error, UI messages, a flow, an
identity schema or Kratos config. One value may yield several artifacts (a flow carries UI messages)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Any

import yaml

from bot.extract.jsonblobs import MAX_DEPTH, MAX_NODES, TooBig, Unchecked, measure
from bot.models import Artifact, Flow, IdentitySchema, KratosConfig, KratosError, UiMessage

FLOW_TYPES = ("login", "registration", "settings", "recovery", "verification")
# Top-level keys of the Kratos config schema: a YAML block starting with one of them is config.
CONFIG_ROOTS = (
    "kratos",  # Helm values: the config lives under kratos.config
    "selfservice",
    "serve",
    "courier",
    "identity",
    "session",
    "dsn",
    "secrets",
    "cookies",
    "hashers",
    "feature_flags",
    "log",
    "ciphers",
    "oauth2_provider",
    "organizations",
    "database",
    "preview",
    "security",
    "clients",
    "tracing",
    "dev",
    "expose-metrics-port",
    "oidc",
    "sms",
    "version",
)
_CONFIG_LINE = re.compile(r"^(" + "|".join(re.escape(k) for k in CONFIG_ROOTS) + r")\s*:(?:\s|$)", re.MULTILINE)
MAX_YAML = 200_000
MAX_WALK = 5_000
# The `source` of a KratosConfig that stands for a paste over the budget: an empty config nothing checks.
UNCHECKED = "unchecked"
UNCHECKED_NOTE = (
    f"Part of your paste is too large or too deeply nested for me to check (over {MAX_NODES:,} values once YAML "
    f"aliases are expanded, or over {MAX_DEPTH} levels), so I skipped it. Paste only the section that matters."
)


def _node_children(node: yaml.Node) -> tuple[list, int]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair], 0
    if isinstance(node, yaml.SequenceNode):
        return list(node.value), 0
    return [], len(node.value)


def bounded_loader(base: type) -> type:
    """`base` (a safe loader) measuring the document between compose and construct.

    Anchors and aliases stay allowed (Helm values use them), but the composed node graph is measured with
    aliases expanded before any Python value is built, so a "billion laughs" paste is refused in a few
    thousand steps. Everything after the parse (rules, the corrected config, masking, the stored turn)
    then walks a tree of bounded size and depth.
    """

    class Bounded(base):  # type: ignore[misc,valid-type]
        def get_single_data(self) -> Any:
            node = self.get_single_node()
            if node is None:
                return None
            measure(node, _node_children)
            return self.construct_document(node)

    return Bounded


# libyaml's safe loader when PyYAML was built with it: same results, about ten times faster.
YAML_LOADER = bounded_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_yaml(text: str, loader: type | None = None) -> Any:
    """Parse one pasted YAML document. TooBig over the budget, yaml.YAMLError when it is not YAML."""
    try:
        return yaml.load(text, Loader=loader or YAML_LOADER)
    except RecursionError as e:
        # PyYAML's pure-Python composer recurses per level (libyaml refuses past 1000 levels itself).
        raise TooBig(f"more than {MAX_DEPTH} levels deep") from e


def unchecked() -> KratosConfig:
    return KratosConfig(config={}, source=UNCHECKED)


def unchecked_notes(artifacts) -> list[str]:
    """The reply's note when a paste was over the budget (once, however many blocks were)."""
    return [UNCHECKED_NOTE] if any(isinstance(a, KratosConfig) and a.source == UNCHECKED for a in artifacts) else []


def _walk(value: Any, budget: list[int]):
    """Yield every dict inside value, breadth first, bounded so a huge paste stays cheap."""
    queue = deque([value])
    while queue and budget[0] > 0:
        item = queue.popleft()
        budget[0] -= 1
        if isinstance(item, dict):
            yield item
            queue.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            queue.extend(v for v in item[:500] if isinstance(v, dict | list))


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _ui_messages(messages: Any, node: str = "") -> list[UiMessage]:
    out = []
    if isinstance(messages, list):
        for m in messages[:200]:
            if isinstance(m, dict) and ("id" in m or "text" in m):
                context = m.get("context") if isinstance(m.get("context"), dict) else {}
                pairs = tuple((str(k), str(v)[:300]) for k, v in list(context.items())[:10])
                out.append(
                    UiMessage(
                        id=_int(m.get("id")),
                        text=str(m.get("text") or ""),
                        type=m.get("type"),
                        context=pairs,
                        node=node,
                    )
                )
    return out


def _flow_type(d: dict) -> str | None:
    action = str((d.get("ui") or {}).get("action") or "") if isinstance(d.get("ui"), dict) else ""
    for source in (action, str(d.get("request_url") or "")):
        for name in FLOW_TYPES:
            if f"/self-service/{name}" in source:
                return name
    return None


def _is_schema(d: dict) -> bool:
    props = d.get("properties")
    return isinstance(props, dict) and isinstance(props.get("traits"), dict)


def _has_extension(value: Any) -> bool:
    budget = [MAX_WALK]
    return any("ory.sh/kratos" in d for d in _walk(value, budget))


def classify_json(value: Any, mangled_ory_key: bool = False) -> list[Artifact]:
    if isinstance(value, Unchecked):
        return [unchecked()]
    out: list[Artifact] = []
    if isinstance(value, dict) and isinstance(value.get("error"), dict):
        e = value["error"]
        details = e.get("details") if isinstance(e.get("details"), dict) else {}
        out.append(
            KratosError(
                id=e.get("id") if isinstance(e.get("id"), str) else None,
                code=_int(e.get("code")),
                status=e.get("status"),
                reason=e.get("reason"),
                message=e.get("message"),
                redirect_browser_to=value.get("redirect_browser_to")
                or details.get("redirect_browser_to")
                or e.get("redirect_browser_to"),
                details=tuple((str(k), str(v)[:500]) for k, v in list(details.items())[:20]),
            )
        )
        return out
    if isinstance(value, dict) and (_is_schema(value) or _has_extension(value)):
        out.append(IdentitySchema(schema=value, mangled_key=mangled_ory_key))
        return out
    is_config = isinstance(value, dict) and any(k in value for k in ("selfservice", "serve", "courier", "identity"))
    if is_config and not isinstance(value.get("ui"), dict):
        out.append(KratosConfig(config=value, source="json"))
        return out
    budget = [MAX_WALK]
    inside_flow: set[int] = set()  # dicts whose messages a flow already reported
    for d in _walk(value, budget):
        if id(d) in inside_flow:
            continue
        ui = d.get("ui")
        if isinstance(ui, dict) and (
            "action" in ui or "nodes" in ui or "requested_aal" in d or d.get("type") in ("browser", "api")
        ):
            continue_with = tuple(str(c.get("action")) for c in d.get("continue_with") or [] if isinstance(c, dict))
            out.append(
                Flow(
                    id=d.get("id"),
                    flow_type=_flow_type(d),
                    client=d.get("type"),
                    requested_aal=d.get("requested_aal"),
                    action=ui.get("action"),
                    state=d.get("state"),
                    identity_id=(d.get("identity") or {}).get("id") if isinstance(d.get("identity"), dict) else None,
                    continue_with=continue_with,
                )
            )
            out.extend(_ui_messages(ui.get("messages")))
            inside_flow.add(id(ui))
            for node in ui.get("nodes") or []:
                if isinstance(node, dict):
                    inside_flow.add(id(node))
                    attrs = node.get("attributes") if isinstance(node.get("attributes"), dict) else {}
                    out.extend(_ui_messages(node.get("messages"), str(attrs.get("name") or "")))
        elif "messages" in d and "ui" not in d:
            out.extend(_ui_messages(d.get("messages")))
    if not out and isinstance(value, list):
        out.extend(_ui_messages(value))
    return out


# How people mark a cut paste: `[…]`, `...`, `# ...`, `<snip>`, `(truncated)` on a line of their own.
_CUT = re.compile(r"(?im)^\s*(?:\[(?:…|\.{3})\]|…|\.{3}|#\s*(?:…|\.{3}).*|<snip>|\[snip\]|\(truncated\)|\(cut\))\s*$")
_COMPOSE_SERVICE_KEYS = {"image", "build", "command", "environment", "ports", "volumes", "depends_on"}


def is_kratos_config(value: dict) -> bool:
    """Most top-level keys are Kratos config roots, and it is not a compose file or a Kubernetes manifest
    (`version:` is a root both of kratos.yml and of docker-compose files)."""
    if "apiVersion" in value and "kind" in value:
        return False
    services = value.get("services")
    if isinstance(services, dict) and any(
        isinstance(v, dict) and _COMPOSE_SERVICE_KEYS & set(v) for v in services.values()
    ):
        return False
    roots = [k for k in value if k in CONFIG_ROOTS]
    if all(value[k] is None for k in roots):
        return False  # "cookies:" on a line of its own is a heading in prose, not config
    return bool(set(roots) - {"version"}) and len(roots) * 2 >= len(value)


def _next_line(text: str, pos: int) -> str:
    """The first non-blank line at or after `pos` (where a cut marker ends a block)."""
    for line in text[pos : pos + 400].split("\n"):
        if line.strip():
            return line
    return ""


def cut_notes(artifacts) -> list[str]:
    if any(isinstance(a, KratosConfig) and a.cut for a in artifacts):
        return [
            "Your config paste is cut off, so I checked only what is there and wrote no corrected copy; "
            "paste the whole section if the problem is in the missing part."
        ]
    return []


def find_yaml_configs(text: str) -> tuple[list[Artifact], list[tuple[int, int]]]:
    """Kratos config blocks in YAML: from a line `selfservice:` (etc.) to the end of the block."""
    artifacts: list[Artifact] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = _CONFIG_LINE.search(text, pos)
        if m is None:
            break
        start = m.start()
        end = _block_end(text, start)
        block = text[start:end]
        pos = max(end, m.end())
        try:
            if len(block) > MAX_YAML:
                raise TooBig(f"more than {MAX_YAML // 1000} KB")
            value = load_yaml(block)
        except TooBig:
            artifacts.append(unchecked())
            spans.append((start, end))
            continue
        except yaml.YAMLError:
            continue
        if isinstance(value, dict):
            cut = bool(_CUT.search(block) or _CUT.match(_next_line(text, end)))
            helm = value.get("kratos") if isinstance(value.get("kratos"), dict) else None
            if helm is not None:
                if isinstance(helm.get("config"), dict):
                    artifacts.append(KratosConfig(config=helm["config"], source="helm", cut=cut, pasted=block))
                    spans.append((start, end))
                continue
            if not is_kratos_config(value):
                continue  # a docker-compose file, a Kubernetes manifest, some other tool's YAML
            artifacts.append(KratosConfig(config=value, cut=cut, pasted=block))
            spans.append((start, end))
    _provider_lists(text, artifacts, spans)
    return artifacts, spans


# `- id: github` / `provider: github` … pasted on its own: the list under selfservice.methods.oidc.config.providers.
_PROVIDER_ITEM = re.compile(r"^[ \t]*-[ \t]+(?:id|provider)[ \t]*:", re.MULTILINE)
PROVIDERS_PATH = ("selfservice", "methods", "oidc", "config", "providers")


def _provider_lists(text: str, artifacts: list[Artifact], spans: list[tuple[int, int]]) -> None:
    pos = 0
    while (m := _PROVIDER_ITEM.search(text, pos)) is not None:
        start = m.start()
        end = _block_end(text, start)
        pos = max(end, m.end())
        if any(a <= start < b for a, b in spans):
            continue
        try:
            if end - start > MAX_YAML:
                raise TooBig(f"more than {MAX_YAML // 1000} KB")
            value = load_yaml(text[start:end])
        except TooBig:
            artifacts.append(unchecked())
            spans.append((start, end))
            continue
        except yaml.YAMLError:
            continue
        if not (isinstance(value, list) and value and all(isinstance(v, dict) and "provider" in v for v in value)):
            continue
        config: dict = {"providers": value}
        for part in reversed(PROVIDERS_PATH[:-1]):
            config = {part: config}
        artifacts.append(KratosConfig(config=config, source="fragment"))
        spans.append((start, end))


_YAMLISH = re.compile(r"^(?:\s+\S|[\w.-]+\s*:(?:\s|$)|-\s|#)")


def _block_end(text: str, start: int) -> int:
    """Lines belong to the block while indented or `key:` shaped; prose ends it."""
    pos = text.find("\n", start)
    if pos == -1:
        return len(text)
    while pos < len(text):
        nxt = text.find("\n", pos + 1)
        line = text[pos + 1 : nxt if nxt != -1 else len(text)]
        if line.strip() and not _YAMLISH.match(line):
            return pos
        if nxt == -1:
            return len(text)
        pos = nxt
    return len(text)


# SELFSERVICE_FLOWS_SETTINGS_UI_URL=https://…, `- name: DSN` / `value: …` (Kubernetes), `DSN: …` (compose).
# `[ \t]` rather than `\s`: `\s` also eats newlines, and over a paste whose artifacts are blanked out that
# turns every line start into a scan of the whole rest of the text.
_ENV_LINE = re.compile(
    r"^[ \t]*(?:-[ \t]*)?(?:export[ \t]+)?([A-Z][A-Z0-9_]{2,120})[ \t]*[=:][ \t]*(.*?)[ \t]*$", re.MULTILINE
)
_K8S_ENV = re.compile(r"-[ \t]*name:[ \t]*([A-Z][A-Z0-9_]{2,120})[ \t]*\n[ \t]*value:[ \t]*(.*?)[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class EnvNames:
    """Kratos' environment variable names -> config key paths, and their first words (prepared once)."""

    keys: dict[str, str]
    prefixes: frozenset[str]

    @classmethod
    def of(cls, keys: dict[str, str]) -> EnvNames:
        return cls(keys, frozenset(name.split("_", 1)[0] for name in keys))


def find_env_config(text: str, env: EnvNames) -> tuple[list[Artifact], list[tuple[int, int]]]:
    """Kratos config given as environment variables, mapped to key paths by their known env names.

    Names that start like a Kratos variable (`SELFSERVICE_…`) but map to no key are kept as unknown:
    Kratos ignores them silently, which is worth saying.
    """
    env_keys, prefixes = env.keys, env.prefixes
    pairs: list[tuple[str, str, int, int]] = []
    unknown: list[str] = []
    for pattern in (_K8S_ENV, _ENV_LINE):
        for m in pattern.finditer(text):
            name = m.group(1)
            if any(s <= m.start() < e for _, _, s, e in pairs):
                continue
            if name in env_keys:
                pairs.append((name, m.group(2).strip().strip("'\""), m.start(), m.end()))
            elif "_" in name and name.split("_", 1)[0] in prefixes and name not in unknown:
                unknown.append(name)
    if not pairs and not unknown:
        return [], []
    config: dict = {}
    names = []
    for name, raw, _, _ in pairs:
        key = env_keys[name]
        try:
            value = load_yaml(raw) if raw else ""
        except (yaml.YAMLError, TooBig):
            value = raw
        node = config
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[parts[-1]] = value
        names.append((name, key))
    spans = [(s, e) for _, _, s, e in pairs]
    return [KratosConfig(config=config, source="env", env_names=tuple(names), env_unknown=tuple(unknown))], spans
