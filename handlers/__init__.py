"""Thin Bolt listeners, registered in one visible place: each acks, parses and calls one use case.
They may import bot.runtime, bot.usecases, bot.slack and bot.i18n; never bot.app, bot.store or bot.domain."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime
from handlers import actions, commands, errors, events, middleware, shortcuts, views


def register(app: App, runtime: Runtime) -> None:
    middleware.register(app, runtime)  # first: a redelivered request stops here
    shortcuts.register(app, runtime)
    actions.register(app, runtime)
    views.register(app, runtime)
    commands.register(app, runtime)
    events.register(app, runtime)
    errors.register(app, runtime)
