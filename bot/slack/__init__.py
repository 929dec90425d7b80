"""The Slack edge: the only package that imports slack_bolt. It turns Slack events into triage calls
and triage replies into Slack messages."""
