"""kratos-support-bot: deterministic triage of Ory Kratos support questions."""
