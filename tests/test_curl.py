"""curl commands: how they are parsed, and the corrected request built from them."""

from __future__ import annotations

import pytest

from bot.context import turn_to_json
from bot.extract.curl import parse_command
from bot.models import Snippet
from bot.render import to_json

FLOW = "530f4a51-19eb-4570-8ebc-068dfbc6f402"
LOGIN = f"http://127.0.0.1:4433/self-service/login?flow={FLOW}"
TOTP_BODY = '\'{"method": "totp", "code": "558929"}\''


def _corrected(reply) -> str:
    """The corrected request of a reply."""
    (snippet,) = [
        s.code for s in reply.sections if isinstance(s.code, Snippet) and s.code.note.startswith("corrected request")
    ]
    return snippet.code


def test_corrected_request_keeps_the_options_the_fix_leaves_alone(triage):
    text = (
        f"curl -s -k -c jar.txt -b jar.txt -X POST '{LOGIN}' -H 'content-type: application/json' "
        f"-L -H 'X-Request-Id: 7' --data {TOTP_BODY}"
    )
    corrected = _corrected(triage.answer(text))
    assert '"totp_code": "558929"' in corrected  # the fix itself
    lines = [line.strip(" \\") for line in corrected.splitlines()]
    kept = [line for line in lines if line.startswith("-") and not line.startswith(("--request", "--url", "--data"))]
    assert kept == [
        "-s",
        "-k",
        "-c jar.txt",
        "-b jar.txt",
        "-L",
        "--header 'content-type: application/json'",
        "--header 'X-Request-Id: 7'",
    ]


def test_corrected_request_keeps_user_option_with_its_password_masked(triage):
    text = f"curl -u admin:Adm1nPw -X POST '{LOGIN}' --data {TOTP_BODY}"
    reply, turn = triage.triage(text)
    assert "-u 'admin:****'" in _corrected(reply)
    assert "Adm1nPw" not in to_json(reply) + turn_to_json(turn)


@pytest.mark.parametrize(
    "options",
    ["-sSLX POST", "-sSLXPOST", "-X POST -sSL", "-s -S -L --request=POST", "-sS -L --request POST"],
)
def test_bundled_switches_end_with_one_option_that_takes_a_value(options):
    curl = parse_command(f"curl {options} 'http://h/self-service/login?flow=x'")
    assert (curl.method, curl.url) == ("POST", "http://h/self-service/login?flow=x")
    assert sorted(curl.options) == [("-L",), ("-S",), ("-s",)]


@pytest.mark.parametrize(
    "options",
    [
        "--url-query x=y",
        "--oauth2-bearer abc.def",
        "-m 5",
        "-C -",
        "-D headers.txt",
        "-E client.pem",
        "-K curl.cfg",
        "-r 0-99",
        "-w '%{http_code}'",
        "--retry 3",
        "--max-redirs 2",
        "--proxy-header 'X-A: b'",
        "--variable host=h",
    ],
)
def test_the_value_of_an_option_is_not_the_url(options):
    assert parse_command(f"curl {options} http://h/sessions/whoami").url.startswith("http://h/sessions/whoami")


@pytest.mark.parametrize("switch", ["-s", "-S", "-L", "-k", "-v", "-i", "-I", "-G", "-f", "-N", "-#", "-sSkfL"])
def test_a_switch_takes_no_value(switch):
    assert parse_command(f"curl {switch} http://h/sessions/whoami").url == "http://h/sessions/whoami"


@pytest.mark.parametrize(
    ("options", "url"),
    [
        ("-G -d flow=abc", "http://h/self-service/login/flows?flow=abc"),
        ("--get --data flow=abc", "http://h/self-service/login/flows?flow=abc"),
        ("-sG -d a=1 -d b=2", "http://h/self-service/login/flows?a=1&b=2"),
        (
            "-G --data-urlencode 'return_to=https://a.b/c?d=e f'",
            "http://h/self-service/login/flows?return_to=https%3A%2F%2Fa.b%2Fc%3Fd%3De+f",
        ),
        ("--url-query flow=abc", "http://h/self-service/login/flows?flow=abc"),
        ("--url-query 'q=a&b' --url-query '+raw=%20'", "http://h/self-service/login/flows?q=a%26b&raw=%20"),
    ],
)
def test_get_data_and_url_query_go_into_the_url(options, url):
    curl = parse_command(f"curl {options} http://h/self-service/login/flows")
    assert (curl.method, curl.url, curl.body) == ("GET", url, None)


def test_get_data_joins_a_query_the_url_has():
    curl = parse_command("curl -G -d id=1 'http://h/self-service/login/flows?x=y#top'")
    assert curl.url == "http://h/self-service/login/flows?x=y&id=1#top"


def test_urlencoded_body_is_read_as_curl_sends_it():
    curl = parse_command("curl http://h/self-service/login?flow=x --data-urlencode 'password=a+b&c' -d method=password")
    assert curl.body == {"password": "a+b&c", "method": "password"}


def test_oauth2_bearer_is_an_authorization_header_and_stays_masked(triage):
    token = "k8Zq2mVx9PaLw3"  # too short for the text patterns: only the parsed header can mask it
    reply, turn = triage.triage(f"why 401?\ncurl -s --oauth2-bearer {token} http://127.0.0.1:4433/sessions/whoami")
    (curl,) = [a for a in turn.artifacts if a.kind == "curl"]
    assert curl.url == "http://127.0.0.1:4433/sessions/whoami"
    assert curl.header("Authorization") == "Bearer k8Zq…****"
    assert token not in to_json(reply) + turn_to_json(turn)


def test_headers_read_from_a_file_are_unknown_not_a_header():
    curl = parse_command("curl -H @headers.txt -H 'Accept: application/json' http://h/sessions/whoami")
    assert curl.headers == (("Accept", "application/json"),)
    assert curl.unknown == ("headers",)
    assert curl.options == (("-H", "@headers.txt"),)  # the corrected request keeps it


def test_json_option_sends_json_headers_and_the_corrected_request_keeps_them(triage):
    curl = parse_command("curl --json '{\"a\": 1}' -H 'Accept: */*' http://h/self-service/login?flow=x")
    assert curl.headers == (("Accept", "*/*"), ("Content-Type", "application/json"))  # the user's Accept wins
    corrected = _corrected(triage.answer(f"curl --json {TOTP_BODY} '{LOGIN}'"))
    assert "--header 'Content-Type: application/json'" in corrected
    assert "--header 'Accept: application/json'" in corrected


@pytest.mark.parametrize(
    ("options", "method"),
    [
        ("-F a=b", "POST"),
        ("--form-string a=b", "POST"),
        ("-T body.json", "PUT"),
        ("-I", "HEAD"),
        ("-G -d a=b -I", "HEAD"),
    ],
)
def test_options_that_imply_a_method(options, method):
    assert parse_command(f"curl {options} http://h/self-service/login?flow=x").method == method
