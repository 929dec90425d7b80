"""Find the artifacts in a normalized message: errors, UI messages, flows, curl commands,
identity schemas, Kratos config, URLs, flow ids and secrets. Several per message."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from bot.extract import startup_output
from bot.extract.classify import EnvNames, classify_json, find_env_config, find_yaml_configs
from bot.extract.curl import find_curls
from bot.extract.http import find_js_requests, find_raw_http
from bot.extract.jsonblobs import find_json
from bot.extract.masking import mask_artifacts
from bot.extract.secrets import LIVE_KINDS, MIN_GLOBAL, SecretHit, find_secrets, scrub
from bot.models import Artifact, Curl, Flow, FlowId, Secret, UiMessage, Url
from bot.normalize import Normalized, prose

_URL = re.compile(r"(?:https?://|\{\{\s*\w+\s*\}\}[\w.:-]{0,200}/)[^\s'\"<>`;]{0,2000}")
_UUID_LIKE = re.compile(r"\b[0-9a-fA-F]{6,10}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{3,5}-[0-9a-fA-F]{9,14}\b")
_UUID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32})$")
_ID_LIKE = re.compile(r"[0-9a-fA-F-]{16,}")
_FLOW_PARAM = re.compile(r"[?&](?:flow|id)=([^&\s'\"#]{1,200})")
_UI_ID_IN_PROSE = re.compile(r"(?<![\w.-])([145]0[0-9]0[0-9]{3})(?![\w.-])")


@dataclass(frozen=True)
class Extraction:
    artifacts: tuple[Artifact, ...]
    prose: str  # the words around the artifacts, on one line: what the user asks
    secrets: tuple[SecretHit, ...]  # raw values, never stored or shown; used to scrub the reply
    text: str = ""  # the whole message with every secret found masked: what later stages may read

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
        # `flow=...`, `flow=<id>`: a placeholder in prose, not an id someone sent.
        if not template and not _ID_LIKE.fullmatch(value):
            continue
        out.setdefault(value, FlowId(value=value, valid=is_uuid(value), template=template))
    return list(out.values())


# "POST https://auth.example.com/self-service/settings?flow=…", "/self-service/login/browser?aal=aal2"
_MENTION = re.compile(
    r"(?:\b(GET|POST|PUT|PATCH|DELETE)\s+)?((?:https?://[^\s/'\"`]{1,200})?/self-service/[a-z]+(?:/[a-z]+)?(?:\?[^\s'\"`),]{0,300})?)"
)
_BODY_KEYS = {"method", "csrf_token", "traits", "password", "identifier", "code", "totp_code", "email"}


def find_mentioned_requests(text: str, bodies: list[tuple[int, dict]]) -> list[Curl]:
    """Requests described in words: an endpoint named in prose, with the JSON body that follows it."""
    out: list[Curl] = []
    for m in _MENTION.finditer(text):
        if len(out) >= 10:
            break
        url = m.group(2).rstrip(".")
        # "POST url with {body}" or "body {…} to url": the nearest request-shaped object on either side.
        near = [
            (abs(start - m.end()) if start >= m.end() else m.start() - start, b)
            for start, b in bodies
            if _BODY_KEYS & set(b) and (0 <= start - m.end() < 400 or 0 <= m.start() - start < 400)
        ]
        body = min(near, key=lambda x: x[0])[1] if near else None
        method = m.group(1) or ("POST" if body is not None else None)
        if method is None and re.search(r"/(browser|api|flows)(\?|$)", url):
            method = "GET"
        if method is None:
            continue
        out.append(
            Curl(label="", method=method, url=url, headers=(), cookies=(), body=body, raw=m.group(0), client="mention")
        )
    return out


def _unplaced_bodies(bodies: list[tuple[int, dict]], mentioned: list[Curl], artifacts: list) -> list[Curl]:
    """Request bodies pasted without a URL: sent to the pasted flow's `ui.action` if there is one, else to an
    unknown URL (rules then use the thread to tell which flow it was)."""
    used = [c.body for c in mentioned]
    action = next((a.action for a in artifacts if isinstance(a, Flow) and a.action), "")
    out = []
    for _, body in bodies:
        if body in used or not (_BODY_KEYS & set(body)) or not ({"method", "code", "traits"} & set(body)):
            continue
        out.append(
            Curl(label="", method="POST", url=action, headers=(), cookies=(), body=body, raw="", client="mention")
        )
    return out[:5]


def masked_text(text: str, hits: list[SecretHit]) -> str:
    """`text` with every secret masked: where the text patterns found it, and, for a value found only by its
    place in an artifact, wherever it stands as a whole token (unless it is a plain word, which the reader
    may need and which a secret rarely is)."""
    text = scrub(text, hits)
    for hit in sorted(hits, key=lambda h: len(h.value), reverse=True):
        value = hit.value
        if len(value) < MIN_GLOBAL and not hit.context and not value.isalpha() and value in text:
            text = re.sub(r"(?<![\w-])" + re.escape(value) + r"(?![\w-])", hit.masked, text)
    return text


def extract(message: Normalized, env: EnvNames | None = None) -> Extraction:
    """`env` maps Kratos' environment variable names to config key paths (from the facts)."""
    text = message.text
    artifacts: list[Artifact] = []
    curl_spans = find_curls(text)
    artifacts.extend(span.curl for span in curl_spans)
    rest = _blank(text, [(s.start, s.end) for s in curl_spans])
    for finder in (find_raw_http, find_js_requests):
        spans = finder(rest)
        artifacts.extend(span.curl for span in spans)
        rest = _blank(rest, [(s.start, s.end) for s in spans])

    blobs = find_json(rest)
    bodies: list[tuple[int, dict]] = []  # JSON objects that are none of the known kinds: maybe a request body
    for blob in blobs:
        found = classify_json(blob.value, message.mangled_ory_key)
        artifacts.extend(found)
        if not found and isinstance(blob.value, dict):
            bodies.append((blob.start, blob.value))
    rest = _blank(rest, [(b.start, b.end) for b in blobs])
    # URLs inside pasted JSON (ui.action, request_url) are not requests the user sent.
    mentioned = find_mentioned_requests(rest, bodies)
    artifacts.extend(mentioned)
    artifacts.extend(_unplaced_bodies(bodies, mentioned, artifacts))

    # Kratos' own start-up report (`serve.admin: map[…]  ^-- …`) is explained by a rule, not linted as config.
    rest = _blank(rest, startup_output.spans(rest))
    configs, config_spans = find_yaml_configs(rest)
    artifacts.extend(configs)
    rest = _blank(rest, config_spans)
    if env is not None:
        env_configs, env_spans = find_env_config(rest, env)
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

    # Secrets are masked in the artifacts before anything reads them: rules, corrections, the reply and the
    # thread memory only ever see masked values. The text patterns stay as the last line behind them.
    hits = find_secrets(text)
    artifacts, structural = mask_artifacts(artifacts, hits)
    known = {h.value for h in hits}
    hits += [h for h in structural if h.value not in known]
    first: dict[str, SecretHit] = {}  # one Secret per value, named where it was first found
    for hit in hits:
        first.setdefault(hit.value, hit)
    artifacts.extend(Secret(secret_kind=h.kind, masked=h.masked, name=h.name) for h in first.values())
    # The question is matched against topics: a secret must not steer the answer, nor be kept with it. The
    # prose is on one line, so are the contexts the short secrets are masked in.
    words = prose(_URL.sub(" ", rest))
    words = scrub(words, [dataclasses.replace(h, context=prose(h.context)) for h in hits])
    return Extraction(artifacts=tuple(artifacts), prose=words, secrets=tuple(hits), text=masked_text(text, hits))


__all__ = ["Extraction", "LIVE_KINDS", "extract", "is_uuid"]
