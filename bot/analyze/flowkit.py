"""Shared knowledge about self-service requests that several rules build corrected curls from.

The body fields per flow come from the API's `method` variants (a test checks them against
knowledge/facts/endpoints.json), so a corrected request never carries a field Kratos lacks.
"""

from __future__ import annotations

import re

from bot.models import Curl

# The first-factor body a user most likely wants, per flow: (method, {field: placeholder}).
SUBMIT_BODY: dict[str, tuple[str, dict[str, str]]] = {
    "login": ("password", {"identifier": "<identifier>", "password": "<password>"}),
    "registration": ("password", {"traits.email": "<email>", "password": "<password>"}),
    "settings": ("password", {"password": "<new password>"}),
    "recovery": ("code", {"email": "<email>"}),
    "verification": ("code", {"email": "<email>"}),
}


def submit_body(flow: str, aal: str | None = None) -> tuple[str, dict[str, str]]:
    """The body the next submit most likely needs: the second factor for an aal2 login flow."""
    if flow == "login" and aal == "aal2":
        return "totp", {"totp_code": "<code from the authenticator app>"}
    return SUBMIT_BODY[flow]


_BASE = re.compile(r"^(.*?)/self-service/")


def base_url(curl: Curl | None, default: str = "https://<kratos-public-url>") -> str:
    """The part of the URL before /self-service, e.g. `{{host}}/kratos` or `http://127.0.0.1:4433`."""
    if curl is not None:
        m = _BASE.match(curl.url)
        if m and m.group(1):
            base = m.group(1)
            # Repair `{{host}}kratos` here too, so corrected requests are right.
            return re.sub(r"^(\{\{\s*\w+\s*\}\})(?=[A-Za-z])", r"\1/", base)
    return default


def json_body(method: str, fields: dict[str, str], csrf: str | None) -> str:
    parts = []
    if csrf:
        parts.append(f'"csrf_token": "{csrf}"')
    parts.append(f'"method": "{method}"')
    for name, value in fields.items():
        if name.startswith("traits."):
            parts.append(f'"traits": {{"{name[7:]}": "{value}"}}')
        else:
            parts.append(f'"{name}": "{value}"')
    return "{" + ", ".join(parts) + "}"


def curl_lines(method: str, url: str, *, jar: bool = False, body: str | None = None, token: bool = False) -> str:
    lines = [f"curl -s -X {method} '{url}'" if method != "GET" else f"curl -s '{url}'"]
    if jar:
        lines.append("-c cookies.txt -b cookies.txt")
    lines.append("-H 'accept: application/json'")
    if token:
        lines.append("-H 'X-Session-Token: <session_token>'")
    if body is not None:
        lines.append("-H 'content-type: application/json'")
        lines.append(f"--data '{body}'")
    return " \\\n  ".join(lines)
