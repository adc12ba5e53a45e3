"""Message shortcuts."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.runtime import Runtime
from bot.slack.ids import Shortcut
from bot.usecases.response import Outcome


def reply_thread(message: dict[str, Any]) -> str | None:
    """The thread a message is a reply in (so the answer shows there); None for a message in the channel."""
    thread = message.get("thread_ts")
    return str(thread) if thread and thread != message.get("ts") else None


def register(app: App, runtime: Runtime) -> None:
    @app.shortcut(Shortcut.flag_message.value)
    def flag_message(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        message = body.get("message") or {}
        runtime.vigie.flag_message(
            channel=body["channel"]["id"],
            message_ts=body.get("message_ts") or message["ts"],
            text=message.get("text") or "",
            author_id=message.get("user"),
            author_name=message.get("username") or (message.get("bot_profile") or {}).get("name"),
            team_domain=(body.get("team") or {}).get("domain"),
            flagged_by=body["user"]["id"],  # the user Slack signed for, not anything in the message
            thread_ts=reply_thread(message),  # a message in a thread: the answer shows in that thread
        )

    @app.shortcut(Shortcut.use_as_draft.value)
    def use_as_draft(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        message = body.get("message") or {}
        actor = body["user"]["id"]
        step = runtime.modals.draft_from_reply(actor=actor, channel=body["channel"]["id"],
                                               thread_ts=message.get("thread_ts"), author=message.get("user"),
                                               text=message.get("text") or "")
        outcome = step if isinstance(step, Outcome) else runtime.modals.show(body["trigger_id"], step, actor=actor)
        if outcome.message:
            runtime.vigie.tell_user(channel=body["channel"]["id"], user=body["user"]["id"], text=outcome.message,
                                    thread_ts=reply_thread(message))
