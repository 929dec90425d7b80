"""`kratos-bot eval`: only turns with expectations are scored, and --detail breaks the score down."""

from __future__ import annotations

from bot.evaluate import detail_table, evaluate_file

CASE = """\
category: howto
thread:
  - id: q1
    text: how do I enable the recovery flow in kratos?
    expect:
      - pattern: 'selfservice\\.flows\\.recovery'
        why: the flag lives there
  - id: thanks
    text: ok
  - id: q2
    text: what is the session lifespan default?
    expect:
      - pattern: 'this text is never in a reply 7f3a'
        why: a failing expectation, so the table shows a miss
"""


def test_only_turns_with_expectations_are_scored(tmp_path, triage):
    path = tmp_path / "case.yaml"
    path.write_text(CASE)
    results = evaluate_file(path, triage)
    assert [r.turn for r in results] == ["q1", "q2"]
    assert [r.ok for r in results] == [True, False]
    assert all(r.category == "howto" and r.confidence in ("high", "medium", "low", "none") for r in results)


def test_detail_table_counts_by_category_and_confidence(tmp_path, triage):
    path = tmp_path / "case.yaml"
    path.write_text(CASE)
    results = evaluate_file(path, triage)
    table = detail_table(results)
    assert "howto          1/2   50.0%" in table
    assert "overall        1/2   50.0%" in table
    levels = {r.confidence for r in results}
    assert all(f"  {level:<14}" in table for level in levels)
    assert "reply length   median" in table


def test_replies_do_not_depend_on_the_hash_seed(tmp_path):
    """Ties between candidates are broken the same way in every process (set order varies with the seed)."""
    import json
    import os
    import subprocess
    import sys

    turns = [
        "how do I make login require a verified email?",
        "my session cookie is missing after login on localhost",
        "where do I configure the recovery code lifespan?",
        "sign up with phone number and sms code",
    ]
    feed = "\n".join(json.dumps({"text": t}) for t in turns) + "\n"
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-m", "bot.cli", "chat", "--format", "json"],
            input=feed,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
