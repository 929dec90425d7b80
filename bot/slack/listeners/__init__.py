"""Bolt listeners, one module per kind of request, each with `register(app, rt)` (as in Bolt's starter
template). The list is explicit: a new module is registered here, not discovered."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.slack.listeners import actions, commands, events, shortcuts


def register_all(app: AsyncApp, rt) -> None:
    for module in (events, commands, shortcuts, actions):
        module.register(app, rt)
