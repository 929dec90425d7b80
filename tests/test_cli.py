"""The CLI, run as users run it: ask, chat, eval, kb check, explain."""

from __future__ import annotations

import io
import json
import re
import sys

import pytest

from bot.cli import main
from tests.conftest import SHARED, needs_shared

ERROR = '{"error": {"id": "session_aal1_required", "code": 401}}'


def run(argv, stdin="", capsys=None, monkeypatch=None):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_ask_text_argument(capsys, monkeypatch):
    code, out, _ = run(["ask", ERROR], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0
    assert out.startswith("session_aal1_required (401)")
    assert "https://www.ory.com/docs/" in out


def test_ask_stdin_json_format(capsys, monkeypatch):
    code, out, _ = run(["ask", "--format", "json"], stdin=ERROR, capsys=capsys, monkeypatch=monkeypatch)
    doc = json.loads(out)
    # The id alone says what the error is, not why it happened here: "medium" (high needs a finding).
    assert code == 0 and doc["confidence"] == "medium"
    assert doc["matches"][0] == {
        "id": "error.session_aal1_required",
        "kind": "error_id",
        "why": "exact-error-id",
        "score": 100,
    }
    assert doc["reply"].startswith("*`session_aal1_required` (401)")
    assert doc["blocks"][0]["type"] == "section"


def test_ask_mrkdwn_links(capsys, monkeypatch):
    _, out, _ = run(["ask", "--format", "mrkdwn", ERROR], capsys=capsys, monkeypatch=monkeypatch)
    assert "<https://www.ory.com/docs/" in out and "|" in out


def test_chat_uses_thread_context(capsys, monkeypatch):
    lines = [
        {"text": "curl '{{host}}/self-service/login/browser?aal=aal1' -H 'accept: application/json'"},
        {
            "text": "curl -X POST '{{host}}/self-service/login?flow=530f4a51-19eb-4570-8ebc-068dfbc6f402' "
            '--data \'{"method": "totp", "totp_code": "1"}\''
        },
    ]
    stdin = "\n".join(json.dumps(x) for x in lines) + "\n"
    code, out, _ = run(["chat", "--format", "json"], stdin=stdin, capsys=capsys, monkeypatch=monkeypatch)
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert code == 0 and len(answers) == 2
    assert "second-factor-in-aal1-flow" in answers[1]["findings"]
    assert "aal=aal1" in answers[1]["reply"]


def test_chat_rejects_bad_line(capsys, monkeypatch):
    code, _, err = run(["chat"], stdin="not json\n", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and "line 1" in err


def test_kb_check(capsys, monkeypatch):
    code, out, _ = run(["kb", "check"], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "15 error_id" in out and "159 ui_message" in out
    linked = re.search(r"docs pages linked: (\d+)/(\d+)", out)
    assert linked and int(linked.group(2)) > 150  # the CLI reference pages are not counted
    code, verbose, _ = run(["kb", "check", "-v"], capsys=capsys, monkeypatch=monkeypatch)
    missing = int(linked.group(2)) - int(linked.group(1))
    assert verbose.count("  not linked: https://") == missing


def test_kb_check_reports_bad_knowledge(tmp_path, capsys, monkeypatch):
    import shutil

    from tests.conftest import ROOT

    shutil.copytree(ROOT / "knowledge" / "facts", tmp_path / "facts")
    (tmp_path / "topics").mkdir()
    (tmp_path / "topics" / "x.yaml").write_text("entries:\n- id: Bad Id\n", encoding="utf-8")
    code, _, err = run(["--knowledge", str(tmp_path), "kb", "check"], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1 and "x.yaml" in err


def test_explain(capsys, monkeypatch):
    code, out, _ = run(["explain", "malformed-flow-id"], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and out.startswith("malformed-flow-id:")
    code, _, err = run(["explain", "nope"], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 2 and "known:" in err


def test_eval_case_file_pass_and_fail(tmp_path, capsys, monkeypatch):
    case = tmp_path / "case.yaml"
    case.write_text(
        "turns:\n- text: '"
        + ERROR
        + "'\nexpect:\n- pattern: aal=aal2\nexpect_not:\n- pattern: session_aal1_required\n",
        encoding="utf-8",
    )
    code, out, _ = run(["eval", str(case)], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 1 and "FAIL" in out and "forbidden: session_aal1_required" in out and "0/1 turns passed" in out


@needs_shared
def test_eval_seed(capsys, monkeypatch):
    code, out, _ = run(["eval", str(SHARED / "seed" / "expectations.yaml")], capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and out.rstrip().endswith("16/16 turns passed")


@pytest.mark.parametrize("fmt", ["text", "mrkdwn", "json"])
def test_empty_input_every_format(fmt, capsys, monkeypatch):
    code, out, _ = run(["ask", "--format", fmt], stdin="", capsys=capsys, monkeypatch=monkeypatch)
    assert code == 0 and "error JSON" in out


def test_bare_ask_on_a_terminal_says_it_is_reading(capsys, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("what is error 4000006?\n"))
    assert main(["ask"]) == 0
    captured = capsys.readouterr()
    assert "Ctrl-D" in captured.err and "4000006" in captured.out
