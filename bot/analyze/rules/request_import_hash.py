"""request-import-hash: an identity import sends a password hash in `password` instead of `hashed_password`.

Why: when creating or importing an identity through the admin API, `credentials.password.config.password`
is a clear-text password that Kratos hashes itself; a bcrypt / argon2 / pbkdf2 / scrypt hash put there
is hashed again and the user can never sign in with their old password. A hash belongs in
`credentials.password.config.hashed_password` (identity/handler_import.go ImportPasswordCredentials).
Example: `"config": {"password": "$2a$12$…"}`.
Fix: move the value to `hashed_password`; the corrected request marks the change.
"""

from __future__ import annotations

import re

from bot.analyze.evidence import Evidence
from bot.analyze.registry import rule
from bot.analyze.requestkit import api_request
from bot.kb.loader import KnowledgeBase
from bot.models import Curl, Finding, Patch

# The prefixes of the hash formats Kratos recognises (hash/hash_comparator.go:401-414), plus the plain
# Unix crypt ones ($1$, $5$, $6$), which Kratos cannot import but which are certainly not clear text.
_HASH = re.compile(
    r"^(?:\$(?:2[abxyz]?|argon2id|argon2i|pbkdf2-sha\d{1,3}|scrypt|sha(?:1|256|512)|sha(?:256|512)-crypt|md5|"
    r"md5-crypt|hmac-\w+|firescrypt|1|5|6)\$|\{SSHA(?:256|512)?\})"
)


@rule("request-import-hash")
def check(ev: Evidence, kb: KnowledgeBase):
    for curl in ev.of(Curl):
        req = api_request(curl.method, curl.url)
        if req is None or not req.path.startswith("/admin/identities") or not isinstance(curl.body, dict):
            continue
        config = ((curl.body.get("credentials") or {}).get("password") or {}).get("config")
        value = config.get("password") if isinstance(config, dict) else None
        if not isinstance(value, str) or not _HASH.match(value):
            continue
        path = ("body", "credentials")
        fixed = dict(curl.body["credentials"])
        fixed["password"] = {
            **curl.body["credentials"]["password"],
            "config": {**{k: v for k, v in config.items() if k != "password"}, "hashed_password": value},
        }
        yield Finding(
            rule="request-import-hash",
            title="A password hash was sent as `password`: Kratos will hash it again",
            detail=(
                "`credentials.password.config.password` is a clear-text password that Kratos hashes on import. "
                "This value is already a hash, so the stored credential is a hash of the hash and the user's old "
                "password never matches. Send it as `hashed_password`."
            ),
            fixes=(
                "Move the value to `credentials.password.config.hashed_password` (Kratos recognises bcrypt, "
                "argon2, pbkdf2, scrypt, Firebase scrypt, SHA, SSHA, MD5, crypt and HMAC formats).",
            ),
            entries=("topic.admin-create-import-identities",),
            score=94,
            patches=(Patch(ev.index_of(curl), "set", path, fixed, "hash goes in hashed_password"),),
        )
