"""Kratos' start-up config report is read back into records (bot/extract/startup_output.py) and its
lines are not linted as a pasted config."""

from __future__ import annotations

from bot.extract.startup_output import go_value, parse

REPORT = """\
kratos_1  | The configuration contains values or keys which are invalid:
kratos_1  | secrets: map[cookie:[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]]
kratos_1  |          ^-- additionalProperties "cookie" not allowed
kratos_1  |
kratos_1  | selfservice.flows.login.after.hooks.0: map[config:map[response:map[parse:false] url:http://h/x] hook:web]
kratos_1  |                                        ^-- additionalProperties "config" not allowed
courier.smtp.connection_uri: <nil>
                             ^-- one or more required properties are missing
^-- doesn't validate with "#/definitions/selfServiceWebHook"
"""


def test_report_lines_become_records():
    problems = parse(REPORT)
    assert [(p.pointer, p.kind, p.names) for p in problems] == [
        ("secrets", "additional", ("cookie",)),
        ("selfservice.flows.login.after.hooks.0", "additional", ("config",)),
        ("courier.smtp.connection_uri", "missing", ()),
        (None, "wrapper", ()),
    ]
    hook = problems[1].value
    assert hook["hook"] == "web" and hook["config"]["response"] == {"parse": "false"}
    assert hook["config"]["url"] == "http://h/x"


def test_go_values():
    assert go_value("<nil>") is None
    assert go_value("map[a:[x y] b:map[c:hello world d:1]]") == {"a": ["x", "y"], "b": {"c": "hello world", "d": "1"}}
    # cut off by the paste: what was there is kept
    assert go_value("map[a:1 b:map[c:2") == {"a": "1", "b": {"c": "2"}}
    assert go_value("[" * 5000) == "[" * 5000  # too deep to be a config value: left as text


def test_report_is_not_linted_as_config(triage):
    reply = triage.answer("kratos does not start:\n" + REPORT)
    rules = [f.rule for f in reply.findings]
    assert "startup-validation" in rules
    assert "config-keys" not in rules and "config-values" not in rules


def test_cookie_secret_key_is_dated(triage):
    reply = triage.answer("image oryd/kratos:v0.3.0-alpha.1\n" + REPORT)
    titles = [f.title for f in reply.findings if f.rule == "startup-validation"]
    assert any("`secrets.cookie` exists only from Kratos v0.4.0-alpha.1; you run v0.3.0-alpha.1" in t for t in titles)


def test_go_map_of_a_method_block_is_not_a_secret(triage):
    report = (
        "The configuration contains values or keys which are invalid:\n"
        "selfservice.methods: map[code:map[enabled:true] lookup_secret:map[enabled:true]]\n"
    )
    reply = triage.answer("kratos v0.10.1 does not start:\n" + report)
    assert not reply.warning
    assert not any(f.rule == "live-secrets" for f in reply.findings)
