"""Global middleware, run after Bolt's signature check and before any listener."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import App, BoltRequest, BoltResponse

from bot.runtime import Runtime

log = structlog.get_logger("handlers")


def register(app: App, runtime: Runtime) -> None:
    @app.middleware
    def once(request: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        key = runtime.redelivered(body)  # records this request as handled, on every instance
        if key is None:
            return next()
        # Already handled (or being handled) here or on another instance: acknowledge, do nothing, so that
        # Slack stops retrying.
        log.info("slack_redelivery_ignored", key=key,
                 retry_num=request.headers.get("x-slack-retry-num", [None])[0],
                 retry_reason=request.headers.get("x-slack-retry-reason", [None])[0])
        return BoltResponse(status=200, body="")
