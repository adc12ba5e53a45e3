"""Buttons on the relay card and the draft card. Ack at once; the acting user is the one Slack signed for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot.ids import Action
from bot.reads import refusal_text

if TYPE_CHECKING:
    from bot.app import Runtime
    from bot.drafting import Outcome

# Buttons that open a modal, and which one.
MODAL_BUTTONS = {
    Action.draft: "draft",
    Action.reroute: "reroute",
    Action.dismiss: "dismiss",
    Action.request_changes: "request_changes",
    Action.reject: "reject",
    Action.edit: "edit",
    Action.approve: "approve",  # opens a modal only when a check failed (an override needs a reason)
    Action.publish: "publish",
}


MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns on PostgreSQL


def row_id(value: object) -> int | None:
    """A row id from a button value or a modal's metadata, or None. A value Slack echoes back could have been
    tampered with before it reached us (a stale card, a hand-made request): only 1..MAX_ID in ASCII digits
    (not "²" or "１", which isdigit() accepts) or a real int (not a bool) is looked up."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID:
        return value
    return None


_target = row_id


def register(app: App, runtime: Runtime) -> None:
    def answer(body: dict[str, Any], outcome: Outcome) -> None:
        if outcome.message:
            runtime.vigie.tell_user(channel=body["channel"]["id"], user=body["user"]["id"], text=outcome.message)

    @app.action(Action.claim.value)
    def claim(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        target = _target(action.get("value"))
        if target is not None:
            answer(body, runtime.workflow.claim(mention_id=target, actor=body["user"]["id"]))

    @app.action(Action.story_members.value)
    def story_members(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        target = _target(action.get("value"))
        if target is None:
            return
        user = body["user"]["id"]
        refused = runtime.vigie.list_story_members(target, asked_by=user)
        if refused:
            text = refusal_text(refused, protocol=runtime.protocol, lang=runtime.workflow.lang_of(user))
            runtime.vigie.tell_user(channel=body["channel"]["id"], user=user, text=text)

    def modal_opener(what: str) -> Any:
        # Bolt injects listener arguments by name, so the modal's kind is bound by this closure.
        def open_modal(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            ack()
            target = _target(action.get("value"))
            if target is not None:
                answer(body, runtime.modals.open(what, trigger_id=body["trigger_id"], actor=body["user"]["id"],
                                                 target=target))
        return open_modal

    for button, what in MODAL_BUTTONS.items():
        app.action(button.value)(modal_opener(what))

    @app.action(Action.more.value)
    def more(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        what, _, value = str((action.get("selected_option") or {}).get("value", "")).partition(":")
        target = _target(value)
        if what in ("assign", "holding") and target is not None:
            answer(body, runtime.modals.open(what, trigger_id=body["trigger_id"], actor=body["user"]["id"],
                                             target=target))

    @app.action(Action.declare_crisis.value)
    def declare_crisis(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        text = runtime.crisis.declare(by=user, reason=None, lang=runtime.workflow.lang_of(user))  # type: ignore[union-attr]
        runtime.vigie.tell_user(channel=body["channel"]["id"], user=user, text=text)
