"""Corrected configs: every finding's patch lands in the copy the reply prints."""

from __future__ import annotations

import yaml

from bot.render import to_text

PROVIDERS = """Kratos won't start:
```yaml
selfservice:
  methods:
    oidc:
      enabled: true
      config:
        providers:
          - id: google
            provider: google
            client_id: abc.apps.googleusercontent.com
            mapper_url: base64://abc
          - id: github
            provider: github
            client_id: abc
            client_secert: not-so-secret
            mapper_url: file:///etc/config/kratos/github.jsonnet
            scope: [user:email]
```
"""


def _corrected_config(reply) -> dict:
    (section,) = [s for s in reply.sections if s.title == "Corrected config"]
    return yaml.safe_load(section.code.code)


def test_rename_inside_a_list_item_lands_in_that_item(triage):
    reply = triage.answer(PROVIDERS)
    assert "Did you mean `selfservice.methods.oidc.config.providers[].client_secret`?" in to_text(reply)
    google, github = _corrected_config(reply)["selfservice"]["methods"]["oidc"]["config"]["providers"]
    assert "client_secert" not in github and "client_secret" in github
    assert list(github) == ["id", "provider", "client_id", "client_secret", "mapper_url", "scope"]
    assert "client_secret" not in google


COMMENTED = """my kratos.yml, Kratos says the config is invalid:
```yaml
serve:
  public:
    base_url: "https://auth.example.com/"   # behind the proxy
selfservice:
  default_browser_return_url: 'https://app.example.com/'
  flows:
    # the UI lives in the app
    settings:
      ui_url: https://app.example.com/settings
      privileged_session_max_age: 15m
    login:
      ui_url: https://app.example.com/login
      lifespn: 10m  # was 1h
secrets:
  cookie:
    - Kq9vLm2XcT7pWz4R  # rotated: Kq9vLm2XcT7pWz4R
```
"""


def test_corrected_yaml_keeps_comments_key_order_and_quoting(triage):
    reply = triage.answer(COMMENTED)
    (section,) = [s for s in reply.sections if s.title == "Corrected config"]
    code = section.code.code
    assert 'base_url: "https://auth.example.com/"   # behind the proxy' in code
    assert "default_browser_return_url: 'https://app.example.com/'" in code
    assert "    # the UI lives in the app\n    settings:" in code
    assert "lifespan: 10m  # <- was 'lifespn'  # was 1h" in code
    assert code.index("settings:") < code.index("login:") < code.index("secrets:")
    assert "Kq9vLm2XcT7pWz4R" not in code  # masked in the comment too


HELM = """values.yaml:
```yaml
image:
  tag: v1.3.1
kratos:
  automigration:
    enabled: true
  config:
    # kratos.yml
    log:
      level: warn   # too chatty
    serve:
      public:
        base_url: https://auth.example.com/
```
"""


def test_helm_values_come_back_as_their_kratos_config_block(triage):
    reply = triage.answer(HELM)
    (section,) = [s for s in reply.sections if s.title == "Corrected config"]
    code = section.code.code
    assert code.startswith("kratos:\n  config:\n    # kratos.yml\n    log:\n")
    assert "level: warning  # <- was 'warn'  # too chatty" in code
    assert "image:" not in code and "automigration" not in code
    assert yaml.safe_load(code)["kratos"]["config"]["serve"]["public"]["base_url"] == "https://auth.example.com/"


def test_a_part_pyyaml_reads_differently_is_printed_as_pasted(triage):
    # PyYAML reads the key `on` as true: it is missing from the masked config, which is no reason to blank it.
    reply = triage.answer("kratos.yml:\n```yaml\nlog:\n  level: warn\n  on:\n    format: json\n```\n")
    (section,) = [s for s in reply.sections if s.title == "Corrected config"]
    assert "  on:\n    format: json" in section.code.code
