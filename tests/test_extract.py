from bot.extract import extract
from bot.extract.curl import find_curls
from bot.extract.jsonblobs import find_json
from bot.models import Curl, FlowId, IdentitySchema, KratosConfig, KratosError, Secret, UiMessage
from bot.normalize import normalize


def _extract(text):
    return extract(normalize(text))


def test_error_json_with_redirect():
    ex = _extract(
        'I get\n{"error": {"id": "browser_location_change_required", "code": 422, "reason": "r"},'
        ' "redirect_browser_to": "<https://x.io/settings?flow=415c3bbb-dc57-49d1-aba3-9b6cc4ea2cd4>"}'
    )
    (err,) = ex.of(KratosError)
    assert err.id == "browser_location_change_required" and err.code == 422
    assert err.redirect_browser_to == "https://x.io/settings?flow=415c3bbb-dc57-49d1-aba3-9b6cc4ea2cd4"
    assert any(f.value == "415c3bbb-dc57-49d1-aba3-9b6cc4ea2cd4" and f.valid for f in ex.of(FlowId))


def test_error_without_id():
    (err,) = _extract('{"error": {"code": 400, "reason": "The flow query parameter is missing or malformed."}}').of(
        KratosError
    )
    assert err.id is None and err.reason.startswith("The flow query parameter")


def test_bare_messages_fragment():
    ex = _extract('but i get error\n"messages": [\n{\n"id": 4010002,\n"text": "Could not find",\n"type": "error"\n}\n]')
    assert ex.of(UiMessage) == [UiMessage(id=4010002, text="Could not find", type="error")]


def test_flow_json_yields_flow_and_node_messages():
    flow = (
        '{"id": "530f4a51-19eb-4570-8ebc-068dfbc6f402", "type": "browser", "requested_aal": "aal1", '
        '"ui": {"action": "http://k/self-service/login?flow=530f4a51-19eb-4570-8ebc-068dfbc6f402", '
        '"nodes": [{"messages": [{"id": 4000006, "text": "bad", "type": "error"}]}]}}'
    )
    ex = _extract(flow)
    assert ex.artifacts[0].flow_type == "login" and ex.artifacts[0].requested_aal == "aal1"
    assert [m.id for m in ex.of(UiMessage)] == [4000006]


def test_tolerant_json_comments_trailing_commas():
    (blob,) = find_json('{"a": 1, // note\n "b": [1, 2,],}')
    assert blob.value == {"a": 1, "b": [1, 2]} and blob.tolerant


def test_tolerant_json_leaves_the_values_alone():
    # The trailing-comma regex also ate the `,` of `,]` inside the pattern string.
    (blob,) = find_json('{"username": {"type": "string", "pattern": "^[a-z0-9_,]+$"}, // login name\n}')
    assert blob.value == {"username": {"type": "string", "pattern": "^[a-z0-9_,]+$"}}


def test_js_object_body_with_an_apostrophe_in_a_value():
    # Turning every single quote into a double one broke `o'brien`, and the body was lost.
    text = (
        "await fetch('https://auth.example.com/self-service/login?flow=1', {method: 'POST', "
        "body: JSON.stringify({method: 'password', identifier: \"o'brien@example.com\", password: 'x',})})"
    )
    (curl,) = _extract(text).of(Curl)
    assert curl.body == {"method": "password", "identifier": "o'brien@example.com", "password": "****"}


def test_numbered_multiline_curls_with_templates():
    text = (
        "curl --request GET \\\n--url 'http://h/self-service/recovery/browser'\n"
        "2. Send code\ncurl --request POST \\\n--url 'http://h/self-service/recovery?flow={{id}}' \\\n"
        '--header \'cookie: {{c}}\' \\\n--data \'{\n"csrf_token": "{{csrf}}",\n"method": "code"\n}\'\n'
        "3. next\ncurl -X POST http://h/self-service/settings -d 'method=password&password=x'"
    )
    curls = [s.curl for s in find_curls(text)]
    assert [c.label for c in curls] == ["1", "2", "3"]
    assert curls[1].body == {"csrf_token": "{{csrf}}", "method": "code"}
    assert curls[1].cookies == ("{{c}}",)
    assert curls[2].body == {"method": "password", "password": "x"}


def test_cookie_jar_flag():
    (span,) = find_curls("curl -c jar.txt -b jar.txt http://h/self-service/login/browser")
    assert span.curl.cookie_jar and span.curl.url == "http://h/self-service/login/browser"


def test_unbalanced_quote_curl_does_not_crash():
    (span,) = find_curls("curl --url 'http://h/x")
    assert span.curl.method == "GET"


def test_schema_detected_through_slack_link():
    ex = _extract(
        '{"properties": {"traits": {"properties": {"email": {"<http://ory.sh/kratos|ory.sh/kratos>": '
        '{"credentials": {"code": {"identifier": true}}}}}}}}'
    )
    (schema,) = ex.of(IdentitySchema)
    assert schema.mangled_key
    assert "ory.sh/kratos" in schema.schema["properties"]["traits"]["properties"]["email"]


def test_yaml_config_block():
    ex = _extract("my config:\nselfservice:\n  flows:\n    settings:\n      ui_url: http://x\nwhat is wrong?")
    (cfg,) = ex.of(KratosConfig)
    assert cfg.config["selfservice"]["flows"]["settings"]["ui_url"] == "http://x"
    assert "what is wrong" in ex.prose


def test_malformed_uuid_flagged():
    ex = _extract("curl 'http://h/self-service/settings?flow=2a2a701a-7a45-4df1-a710-816cc4f9efc'")
    assert [(f.value, f.valid) for f in ex.of(FlowId)] == [("2a2a701a-7a45-4df1-a710-816cc4f9efc", False)]


def test_ui_id_in_prose():
    assert [m.id for m in _extract("I keep getting 4000035 when I log in").of(UiMessage)] == [4000035]


def test_secrets_found_and_templates_ignored():
    ex = _extract("cookie: ory_kratos_session=MTc0OTAyODM3N3xncTJX; other={{x}}\nX-Session-Token: {{token}}")
    kinds = [s.secret_kind for s in ex.of(Secret)]
    assert kinds == ["session_cookie"]
    assert ex.secrets[0].value == "MTc0OTAyODM3N3xncTJX"
    assert "MTc0OTAyODM3N3xncTJX" not in repr(ex.of(Secret))


def test_curl_is_not_double_counted_as_json():
    ex = _extract('curl -X POST http://h/self-service/login?flow=x --data \'{"error": {"id": "x"}}\'')
    assert ex.of(KratosError) == [] and len(ex.of(Curl)) == 1


def test_escape_at_the_very_end_of_a_curl():
    """Found by hypothesis: a backslash as the last character used to push the span past the text."""
    ex = _extract("curl -X POST '{{host}}kratos/self-service/login?flow='\"\\")
    assert len(ex.of(Curl)) == 1


def test_inline_code_curl_ends_at_the_backtick():
    ex = _extract("and `curl https://auth.example.com/schemas/default` gives a 500")
    (curl,) = ex.of(Curl)
    assert curl.url == "https://auth.example.com/schemas/default"


def test_bare_oidc_provider_list_is_config():
    text = "my provider:\n```\n- id: github\n  provider: github\n  scope:\n    - read:user\n```\nok?"
    (cfg,) = _extract(text).of(KratosConfig)
    assert cfg.source == "fragment"
    assert cfg.config["selfservice"]["methods"]["oidc"]["config"]["providers"][0]["scope"] == ["read:user"]


def test_list_that_is_not_providers_is_not_config():
    assert _extract("steps:\n```\n- id: one\n  name: first\n```").of(KratosConfig) == []
