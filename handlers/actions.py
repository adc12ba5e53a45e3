"""Buttons on the relay card and the draft card. Ack at once; the acting user is the one Slack signed for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot.ids import Action

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


def _target(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


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
