"""The /vigie slash command: parsed and answered in the ack itself (ephemeral), in the asker's language."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.runtime import Runtime
from bot.slack.ids import Command


def register(app: App, runtime: Runtime) -> None:
    @app.command(Command.vigie.value)
    def vigie(ack: Ack, command: dict[str, Any]) -> None:
        # The answer is computed before the ack (reads of stored state, well within Slack's 3 s) so that it
        # travels in the ack: no Web API call, and it works in DMs the bot is not part of.
        answer = runtime.slash.run(text=command.get("text") or "", user=command["user_id"],
                                   channel=command.get("channel_id", ""))
        ack(text=answer.text[:3000], blocks=answer.blocks,
            response_type="in_channel" if answer.in_channel else "ephemeral")
        if answer.after is not None:
            answer.after()
