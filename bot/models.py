"""Values that cross pipeline stages: artifacts, findings, matches and the reply.

All frozen: a stage never changes what an earlier stage produced, it only adds new values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- artifacts: what the extract stage finds in a message -------------------------------------


@dataclass(frozen=True)
class KratosError:
    """A Kratos JSON error body: `{"error": {...}}` with or without `id`."""

    kind = "kratos_error"
    id: str | None
    code: int | None
    status: str | None
    reason: str | None
    message: str | None
    redirect_browser_to: str | None = None
    details: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UiMessage:
    """One entry of a `ui.messages` (or `ui.nodes[].messages`) array."""

    kind = "ui_message"
    id: int | None
    text: str
    type: str | None = None
    context: tuple[tuple[str, str], ...] = ()  # the message's `context` (e.g. the rejected `value`)
    node: str = ""  # the `ui.nodes[].attributes.name` the message belongs to, if known


@dataclass(frozen=True)
class Flow:
    """A self-service flow object (has `ui.action` or a flow `type` plus `id`)."""

    kind = "flow"
    id: str | None
    flow_type: str | None  # login, registration, settings, recovery, verification
    client: str | None  # browser | api
    requested_aal: str | None
    action: str | None
    state: str | None
    identity_id: str | None = None
    continue_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Curl:
    """One curl command (or raw HTTP request), parsed."""

    kind = "curl"
    label: str  # "1", "2" ... when the user numbered several commands, else ""
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    cookies: tuple[str, ...]  # every Cookie header / --cookie value, as written
    body: Any  # dict when the body is JSON, str otherwise, None without a body
    raw: str
    cookie_jar: bool = False  # -c / -b file given
    client: str = "curl"  # curl | http (a raw HTTP request) | fetch | axios
    credentials: bool | None = None  # fetch `credentials: "include"` / axios `withCredentials`; None for curl
    # The curl options the fields above do not hold (`-c jar.txt`, `-k`, `-u …`), as (option, value) or (option,),
    # in the user's order: a corrected request keeps them.
    options: tuple[tuple[str, ...], ...] = ()
    unknown: tuple[str, ...] = ()  # parts read from files we cannot see: "headers" for `-H @file`

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass(frozen=True)
class IdentitySchema:
    """A JSON schema with identity traits (the `ory.sh/kratos` extension or `properties.traits`)."""

    kind = "identity_schema"
    schema: dict
    mangled_key: bool  # Slack turned "ory.sh/kratos" into a link


@dataclass(frozen=True)
class KratosConfig:
    """A kratos.yml (or JSON) fragment: a mapping with known top-level config keys."""

    kind = "config"
    config: dict
    # yaml | json | helm (values under kratos.config) | env (environment variables) | fragment (bare OIDC providers)
    source: str = "yaml"
    env_names: tuple[tuple[str, str], ...] = ()  # (ENV_VAR, key path) for config read from env vars
    env_unknown: tuple[str, ...] = ()  # env vars that look like Kratos config but map to no key
    cut: bool = False  # the paste was cut off (`[…]`): checked as far as it goes, never rewritten
    # The YAML as pasted (masked like `config`), so a corrected copy keeps its comments, key order and quoting;
    # "" when the config was not pasted as YAML. A Helm paste keeps the whole values document.
    pasted: str = ""


@dataclass(frozen=True)
class Secret:
    """A live credential found in the paste. Only its kind and a masked preview are kept."""

    kind = "secret"
    secret_kind: str  # session_cookie, session_token, api_key, bearer, password, csrf_token
    masked: str
    name: str = ""


@dataclass(frozen=True)
class Url:
    kind = "url"
    url: str


@dataclass(frozen=True)
class FlowId:
    """A `flow=` / `id=` value or bare UUID-like string, with whether it parses as a UUID."""

    kind = "flow_id"
    value: str
    valid: bool
    template: bool = False  # an unresolved {{variable}}


Artifact = KratosError | UiMessage | Flow | Curl | IdentitySchema | KratosConfig | Secret | Url | FlowId


# --- analysis and matching --------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    lang: str
    code: str
    note: str = ""


@dataclass(frozen=True)
class Patch:
    """One change to a pasted artifact; `bot.correct` applies all of a finding set's patches at once.

    `target` is the artifact's index in the evidence focus. A curl's paths are ("url",), ("query", name),
    ("body", field), ("header", name) or ("cookie", i). A schema's or config's path is its keys from the
    root, and a list item in it is written one way everywhere (rules, `bot.correct`):
    - its index as a string, `("selfservice", "methods", "oidc", "config", "providers", "1", "scope")`,
      when the patch is for that one item (a rule found the problem there);
    - `"[]"` when the patch is for every item of the list.
    Config key *names* (the facts, `Finding.config_keys`, `configkit.Node.dotted`) are no paths: they write
    any list item as `[]`, `selfservice.methods.oidc.config.providers[].scope`.
    """

    target: int
    op: str  # set | remove | rename | replace (a curl URL: value is (old, new) text)
    path: tuple[str, ...]
    value: Any = None
    note: str = ""


@dataclass(frozen=True)
class Finding:
    """What a rule concluded from the artifacts: tied to the paste, linked to knowledge entries."""

    rule: str
    title: str
    detail: str
    fixes: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    snippet: Snippet | None = None
    severity: str = "error"  # error | warning | info
    score: int = 90
    config_keys: tuple[str, ...] = ()
    patches: tuple[Patch, ...] = ()
    # The entries' own advice does not apply (the error is a side effect of what the finding found): the reply
    # gives only the finding's fixes.
    overrides_advice: bool = False


@dataclass(frozen=True)
class Match:
    entry_id: str
    score: float  # 0-100
    why: str  # exact-error-id, exact-ui-id, exact-reason, fuzzy-text, fuzzy-topic, finding:<rule>
    kind: str = ""  # the entry's kind, filled in when ranked


# --- the reply --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...] = ()  # paragraphs or bullet items (bullets start with "- ")
    code: Snippet | None = None


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass(frozen=True)
class Reply:
    headline: str
    sections: tuple[Section, ...]
    links: tuple[Link, ...]
    confidence: str  # high | medium | low | none
    matches: tuple[Match, ...]
    findings: tuple[Finding, ...] = ()
    warning: str = ""  # shown first (a live secret was pasted)
    meta: dict = field(default_factory=dict, compare=False)
