"""One place where an unexpected error in a listener is logged (never with the payload: it holds text)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from slack_bolt import App

if TYPE_CHECKING:
    from bot.app import Runtime

log = structlog.get_logger("handlers")


def register(app: App, runtime: Runtime) -> None:
    @app.error
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("listener_failed", error=type(error).__name__, detail=str(error)[:300],
                  request_type=body.get("type"))
