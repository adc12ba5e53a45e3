"""Events API listeners. Bolt acks events itself; Slack redelivers one that was not acked in 3 s
(X-Slack-Retry-Num), so what happens here must be harmless twice: publishing a Home view is."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            runtime.home_desk.refresh(event["user"])
