"""`kratos-bot mcp`, driven as an assistant drives it: the MCP SDK's own client starts the server over stdio (and
once over streamable HTTP), lists the tools and resources, calls each tool and reads the structured results."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

import jsonschema
import pytest

pytest.importorskip("mcp", reason="the MCP SDK is not installed (pip install -e '.[mcp]')")

from mcp import Client, StdioServerParameters  # noqa: E402

from bot.analyze import RULES  # noqa: E402
from bot.mcp_server import KratosTools  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

COOKIE = "MTcxMjM0NTY3OHxkR2hwY3lCcGN5QmhJSE5sYzNOcGIyNGdZMjl2YTJsbA"
PASSWORD = "Wr0ngHorse-Battery-9"
SMTP_PASSWORD = "mailpass-7f3a9c"

ERROR_WITH_COOKIE = (
    "My mobile app gets this when it opens the TOTP step:\n"
    '{"error": {"id": "session_aal1_required", "code": 401, "status": "Unauthorized"}}\n'
    f"curl -H 'Cookie: ory_kratos_session={COOKIE}' 'http://127.0.0.1:4433/self-service/login/api?aal=aal2'"
)
CONFIG = f"""courier:
  smtp:
    connection_uri: smtps://mailer:{SMTP_PASSWORD}@smtp.example.org:465/
selfservice:
  default_browser_return_url: http://127.0.0.1:4455/
  methods:
    code:
      enabled: true
      passwordless_enabled: true
  flows:
    setting:
      ui_url: http://127.0.0.1:4455/account
"""
SCHEMA = json.dumps(
    {
        "$id": "https://example.org/person.schema.json",
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "traits": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
        },
    }
)
REQUEST = (
    "curl -X POST 'http://127.0.0.1:4433/admin/identities' -H 'Content-Type: application/json' "
    f'-d \'{{"schema_id": "default", "traits": {{"email": "a@example.org"}}, '
    f'"credentials": {{"password": {{"config": {{"password": "{PASSWORD}"}}}}}}}}\''
)
CALLS = {
    "triage": {"text": ERROR_WITH_COOKIE},
    "explain_error": {"id_or_text": "session_aal1_required"},
    "explain_ui_message": {"id": 4000006},
    "check_config": {"yaml": CONFIG, "version": "v1.0.0"},
    "check_identity_schema": {"json": SCHEMA},
    "check_request": {"curl_or_http": REQUEST},
    "lookup_config_key": {"path": "selfservice.methods.code.passwordless_enabled", "version": "v1.0.0"},
    "search_docs": {"query": "how long does a session last"},
}


async def _drive(client_target) -> dict:
    async with Client(client_target) as client:
        tools = (await client.list_tools()).tools
        resources = (await client.list_resources()).resources
        return {
            "tools": {tool.name: tool for tool in tools},
            "results": {name: await client.call_tool(name, args) for name, args in CALLS.items()},
            "resources": {str(r.uri): (await client.read_resource(str(r.uri))).contents[0].text for r in resources},
        }


@pytest.fixture(scope="module")
def stdio():
    """One server process for the module: starting it (knowledge load and index) is the slow part."""
    params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp"], cwd=str(ROOT))
    return asyncio.run(_drive(params))


def _everything(result) -> str:
    return json.dumps(result.structured_content) + "".join(getattr(c, "text", "") for c in result.content)


def test_lists_every_tool_read_only_with_schemas(stdio):
    assert set(stdio["tools"]) == set(CALLS)
    for tool in stdio["tools"].values():
        assert tool.description and tool.input_schema["type"] == "object"
        assert tool.output_schema is not None, tool.name
        assert tool.annotations.read_only_hint is True


def test_every_call_returns_structured_output_that_fits_its_schema(stdio):
    for name, result in stdio["results"].items():
        assert not result.is_error, (name, result.content)
        jsonschema.validate(result.structured_content, stdio["tools"][name].output_schema)


def test_pasted_cookie_and_passwords_are_masked_in_every_output(stdio):
    for name, result in stdio["results"].items():
        text = _everything(result)
        for secret in (COOKIE, PASSWORD, SMTP_PASSWORD):
            assert secret not in text, (name, secret)
    triage = stdio["results"]["triage"].structured_content
    assert "ory_kratos_session" in triage["warning"] and "masked" in triage["warning"]
    assert "****" in stdio["results"]["check_config"].structured_content["corrected"][0]["code"]


def test_triage_is_the_slack_answer_as_data(stdio):
    out = stdio["results"]["triage"].structured_content
    assert out["decision"] == "answer" and out["confidence"] == "medium"
    assert out["matches"][0]["id"] == "error.session_aal1_required"
    assert out["headline"].startswith("`session_aal1_required` (401)")
    assert any(s["title"] == "Fix" for s in out["sections"])
    assert all(link["url"].startswith("https://www.ory.com/docs/") for link in out["links"]) and out["links"]
    assert out["markdown"].startswith("> [!WARNING]") and "### `session_aal1_required` (401)" in out["markdown"]


def test_check_config_corrects_the_key_and_names_the_release(stdio):
    out = stdio["results"]["check_config"].structured_content
    assert out["recognized"] and not out["ok"]
    rules = {f["rule"] for f in out["findings"]}
    assert {"config-keys", "version-support", "live-secrets"} <= rules
    assert out["version"] == "v1.0.0"
    corrected = out["corrected"][0]
    assert corrected["lang"] == "yaml" and "settings:" in corrected["code"] and "setting:" not in corrected["code"]


def test_check_identity_schema_finds_no_identifier(stdio):
    out = stdio["results"]["check_identity_schema"].structured_content
    assert out["recognized"] and not out["ok"]
    assert "schema-identifiers" in {f["rule"] for f in out["findings"]}


def test_check_request_reads_the_curl(stdio):
    out = stdio["results"]["check_request"].structured_content
    assert out["recognized"]
    assert "request-admin-port" in {f["rule"] for f in out["findings"]}


def test_explain_error_and_ui_message(stdio):
    error = stdio["results"]["explain_error"].structured_content
    assert error["known"] and error["error_id"] == "session_aal1_required" and error["statuses"] == [401]
    ui = stdio["results"]["explain_ui_message"].structured_content
    assert ui["known"] and ui["name"] == "ErrorValidationInvalidCredentials" and ui["type"] == "error"
    assert ui["headline"].startswith("UI message 4000006")


def test_lookup_config_key(stdio):
    out = stdio["results"]["lookup_config_key"].structured_content
    assert out["exists"] and out["type"] == "boolean" and out["default"] is False
    assert out["first_release"] == "v1.1.0" and out["in_version"] is False
    assert out["env_var"] == "SELFSERVICE_METHODS_CODE_PASSWORDLESS_ENABLED"


def test_search_docs(stdio):
    out = stdio["results"]["search_docs"].structured_content
    assert out["sections"] and all(s["url"].startswith("https://www.ory.com/docs/") for s in out["sections"])
    assert any("session" in t["id"] for t in out["topics"])


def test_resources_list_the_rules_and_the_knowledge(stdio, kb):
    rules = json.loads(stdio["resources"]["kratos://rules"])
    assert [r["id"] for r in rules] == list(RULES) and all(r["summary"] for r in rules)
    stats = json.loads(stdio["resources"]["kratos://knowledge/stats"])
    assert stats["entries"] == len(kb.entries) and stats["facts"]["error_ids"] == len(kb.facts.error_ids)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_streamable_http_on_loopback():
    port = _free_port()
    cmd = [sys.executable, "-m", "bot.cli", "mcp", "--transport", "http", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the HTTP server did not start"
                time.sleep(0.2)

        async def call() -> dict:
            async with Client(f"http://127.0.0.1:{port}/mcp") as client:
                result = await client.call_tool("triage", {"text": ERROR_WITH_COOKIE})
                return {"text": _everything(result), "out": result.structured_content}

        got = asyncio.run(call())
        assert got["out"]["matches"][0]["id"] == "error.session_aal1_required"
        assert COOKIE not in got["text"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# The tools as plain functions: cases that need no protocol round trip.


@pytest.fixture(scope="module")
def tools(kb):
    from bot.pipeline import Triage

    return KratosTools(Triage(kb))


def test_unknown_ids_are_not_known(tools):
    assert tools.explain_error("session_gone_fishing").known is False
    assert tools.explain_ui_message(4999999).known is False


def test_explain_error_finds_the_id_behind_a_text(tools):
    out = tools.explain_error("You can not requested a higher AAL (AAL2/AAL3) without an active session.")
    assert out.error_id == "session_aal1_required" and out.known


def test_check_config_says_when_it_is_not_kratos_config(tools):
    out = tools.check_config("services:\n  web:\n    image: nginx:1.27\n    ports:\n      - 8080:80\n")
    assert not out.recognized and not out.ok


def test_version_is_taken_unless_the_text_shows_one(tools):
    config = "selfservice:\n  methods:\n    code:\n      passwordless_enabled: true\n"
    assert "version-support" not in {f.rule for f in tools.check_config(config).findings}
    assert tools.check_config(config, "1.0.0").version == "v1.0.0"
    assert "version-support" in {f.rule for f in tools.check_config(config, "1.0.0").findings}
    # A release the text itself shows (an image tag) is stronger evidence than the parameter.
    assert tools.triage("oryd/kratos:v1.2.0 says no", "v1.0.0").version == "v1.2.0"


def test_lookup_of_a_renamed_a_removed_and_a_mistyped_key(tools):
    renamed = tools.lookup_config_key("selfservice.strategies.password.enabled")
    assert not renamed.exists and renamed.renamed_to == "selfservice.methods.password.enabled"
    removed = tools.lookup_config_key("courier.message_ttl", "v0.9.0")
    assert removed.last_release == "v0.10.1" and removed.in_version is True
    assert tools.lookup_config_key("courier.message_ttl", "v1.0.0").in_version is False
    assert tools.lookup_config_key("session.lifespn").did_you_mean == ["session.lifespan"]
    mapped = tools.lookup_config_key("selfservice.methods.oidc.config.providers[0].client_id")
    assert mapped.exists and mapped.key == "selfservice.methods.oidc.config.providers[].client_id"
