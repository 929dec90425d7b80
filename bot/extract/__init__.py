"""Find the artifacts in a normalized message: errors, UI messages, flows, curl commands,
identity schemas, Kratos config, URLs, flow ids and secrets. Several per message."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract.classify import classify_json, find_env_config, find_yaml_configs
from bot.extract.curl import find_curls
from bot.extract.jsonblobs import find_json
from bot.extract.secrets import LIVE_KINDS, SecretHit, find_secrets
from bot.models import Artifact, FlowId, Secret, UiMessage, Url
from bot.normalize import Normalized, prose

_URL = re.compile(r"(?:https?://|\{\{\s*\w+\s*\}\}[\w.:-]{0,200}/)[^\s'\"<>`;]{0,2000}")
_UUID_LIKE = re.compile(r"\b[0-9a-fA-F]{6,10}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{9,14}\b")
_UUID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")
_FLOW_PARAM = re.compile(r"[?&](?:flow|id)=([^&\s'\"#]{1,200})")
_UI_ID_IN_PROSE = re.compile(r"(?<![\w.-])([145]0[0-9]0[0-9]{3})(?![\w.-])")


@dataclass(frozen=True)
class Extraction:
    artifacts: tuple[Artifact, ...]
    prose: str  # the words around the artifacts, on one line: what the user asks
    secrets: tuple[SecretHit, ...]  # raw values, never stored or shown; used to scrub the reply

    def of(self, kind: type) -> list:
        return [a for a in self.artifacts if isinstance(a, kind)]


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _flow_ids(values: list[str]) -> list[FlowId]:
    out: dict[str, FlowId] = {}
    for value in values:
        template = value.startswith("{{")
        out.setdefault(value, FlowId(value=value, valid=is_uuid(value), template=template))
    return list(out.values())


def extract(message: Normalized, env_keys: dict[str, str] | None = None) -> Extraction:
    """`env_keys` maps Kratos' environment variable names to config key paths (from the facts)."""
    text = message.text
    artifacts: list[Artifact] = []
    curl_spans = find_curls(text)
    artifacts.extend(span.curl for span in curl_spans)
    rest = _blank(text, [(s.start, s.end) for s in curl_spans])

    blobs = find_json(rest)
    for blob in blobs:
        artifacts.extend(classify_json(blob.value, message.mangled_ory_key))
    rest = _blank(rest, [(b.start, b.end) for b in blobs])

    configs, config_spans = find_yaml_configs(rest)
    artifacts.extend(configs)
    rest = _blank(rest, config_spans)
    if env_keys:
        env_configs, env_spans = find_env_config(rest, env_keys)
        artifacts.extend(env_configs)
        rest = _blank(rest, env_spans)

    urls = list(dict.fromkeys(m.group(0).rstrip(".,;:)") for m in _URL.finditer(text)))
    artifacts.extend(Url(u) for u in urls[:50])
    flow_values = [m.group(1) for u in urls for m in _FLOW_PARAM.finditer(u)]
    flow_values += [m.group(0) for m in _UUID_LIKE.finditer(rest)]
    artifacts.extend(_flow_ids([v for v in flow_values if v][:50]))

    known_ui = {a.id for a in artifacts if isinstance(a, UiMessage)}
    for m in _UI_ID_IN_PROSE.finditer(rest):
        number = int(m.group(1))
        if number not in known_ui:
            known_ui.add(number)
            artifacts.append(UiMessage(id=number, text=""))

    hits = find_secrets(text)
    artifacts.extend(Secret(secret_kind=h.kind, masked=h.masked, name=h.name) for h in hits)
    words = prose(_URL.sub(" ", rest))
    return Extraction(artifacts=tuple(artifacts), prose=words, secrets=tuple(hits))


__all__ = ["Extraction", "LIVE_KINDS", "extract", "is_uuid"]
