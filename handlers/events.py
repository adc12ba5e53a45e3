"""Events API listeners. Bolt acks events itself; Slack redelivers one that was not acked in 3 s
(X-Slack-Retry-Num), so what happens here must be harmless twice: publishing a Home view is, and an alert's
mentions are deduplicated by URL and its reaction by message."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            runtime.home_desk.refresh(event["user"])

    @app.event("message")
    def channel_message(event: dict[str, Any]) -> None:
        # Every message of the channels Vigie is in arrives here; only the protocol's alerts channels count.
        runtime.alerts.relay(event)
