"""One place where an unexpected error in a listener is logged (never with the payload: it holds text), and the
person who clicked is told their action was not recorded: whatever was acknowledged to Slack before the
failure, they must not believe it went through."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import App

from bot.runtime import Runtime

log = structlog.get_logger("handlers")


def _where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(user, channel) of an interaction or a slash command, when it has them."""
    user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, dict) else body.get("channel_id")
    return user, channel_id or (body.get("container") or {}).get("channel_id")


def register(app: App, runtime: Runtime) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener_failed", error=type(error).__name__, detail=str(error)[:300],
                  request_type=body.get("type") or ("slash_command" if body.get("command") else None))
        user, channel = _where(body)
        if user and channel:
            runtime.vigie.tell_user_now(channel=channel, user=user, lang=runtime.workflow.lang_of(user))
