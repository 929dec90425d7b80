"""Know what a paste is: the config doctor reads only Kratos config, and never rewrites a cut-off paste."""

from __future__ import annotations

COMPOSE = """kratos will not come up with this compose file
```
version: "3.7"
services:
  kratos:
    image: oryd/kratos:v1.1.0
    command: serve -c /etc/config/kratos/kratos.yml --dev --watch-courier
    depends_on:
      - postgres
```"""

MANIFEST = """the pod crashloops:
```
apiVersion: apps/v1
kind: Deployment
metadata:
  name: kratos
spec:
  replicas: 2
```"""

CUT = """why does kratos refuse this?
```
selfservice:
  flows:
    setting:
      ui_url: https://app.example.com/settings
[…]
```"""


def _rules(reply) -> set[str]:
    return {f.rule for f in reply.findings}


def test_compose_file_is_not_linted_as_kratos_config(triage):
    reply = triage.answer(COMPOSE)
    assert not _rules(reply) & {"config-keys", "config-values"}
    assert "did you mean `serve`" not in str(reply).lower()


def test_kubernetes_manifest_is_not_linted_as_kratos_config(triage):
    assert "config-keys" not in _rules(triage.answer(MANIFEST))


def test_heading_in_prose_is_not_config(triage):
    reply = triage.answer("two things look odd.\ncookies:\nthe session cookie disappears after a reload")
    assert not _rules(reply) & {"config-keys", "config-values"}


def test_cut_paste_is_checked_but_never_rewritten(triage):
    reply = triage.answer(CUT)
    assert "config-keys" in _rules(reply)  # what is there is still checked
    titles = [s.title for s in reply.sections]
    assert "Corrected config" not in titles
    assert any("cut off" in line for s in reply.sections if s.title == "Note" for line in s.lines)
