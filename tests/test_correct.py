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
