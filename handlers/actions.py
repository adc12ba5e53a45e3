"""Buttons on the relay card and the draft card. The acting user is the one Slack signed for."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.runtime import Runtime
from bot.slack.ids import Action
from bot.usecases.response import Outcome

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


def thread_of(body: dict[str, Any]) -> str | None:
    """The thread a click was made in (its parent's ts), so the answer shows there; None for a click on a
    message that is not a reply (a card in the channel, even one that has replies: answering it in a thread
    the person may not have open would hide the answer). Slack's block_actions payload gives the thread in
    `container.thread_ts` and `message.thread_ts`."""
    container, message = body.get("container") or {}, body.get("message") or {}
    thread = container.get("thread_ts") or message.get("thread_ts")
    ts = container.get("message_ts") or message.get("ts")
    return str(thread) if thread and thread != ts else None


def register(app: App, runtime: Runtime) -> None:
    # What a click changes is committed before the ack (a short transaction, well within Slack's 3 seconds):
    # a process that dies first leaves Slack without an answer, so the person sees the click failed, instead of
    # a 200 for something never stored. Slack calls that may be slow (opening a modal) come after the ack.
    def answer(body: dict[str, Any], outcome: Outcome) -> None:
        if outcome.message and not outcome.told:
            runtime.vigie.tell_user(channel=body["channel"]["id"], user=body["user"]["id"], text=outcome.message,
                                    thread_ts=thread_of(body))

    @app.action(Action.claim.value)
    def claim(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        target = _target(action.get("value"))
        outcome = runtime.workflow.claim(mention_id=target, actor=body["user"]["id"],
                                         reply_in=body["channel"]["id"], reply_thread=thread_of(body)) if target else None
        ack()
        if outcome is not None:
            answer(body, outcome)

    @app.action(Action.story_members.value)
    def story_members(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        target = _target(action.get("value"))
        refused = runtime.vigie.list_story_members(target, asked_by=body["user"]["id"]) if target else None
        ack()
        if refused:
            user = body["user"]["id"]
            runtime.vigie.tell_user(channel=body["channel"]["id"], user=user, text=runtime.refusal(refused, user=user),
                                    thread_ts=thread_of(body))

    def open_modal(ack: Ack, body: dict[str, Any], what: str, target: int | None) -> None:
        if target is None:
            ack()
            return
        actor = body["user"]["id"]
        step = runtime.modals.prepare(what, actor=actor, target=target)
        ack()
        answer(body, step if isinstance(step, Outcome) else runtime.modals.show(body["trigger_id"], step, actor=actor))

    def modal_opener(what: str) -> Any:
        # Bolt injects listener arguments by name, so the modal's kind is bound by this closure.
        def on_click(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
            open_modal(ack, body, what, _target(action.get("value")))
        return on_click

    for button, what in MODAL_BUTTONS.items():
        app.action(button.value)(modal_opener(what))

    @app.action(Action.open_post.value)
    def open_post(ack: Ack) -> None:
        ack()  # a link button: Slack opens the post itself and still tells the app of the click

    @app.action(Action.more.value)
    def more(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        what, _, value = str((action.get("selected_option") or {}).get("value", "")).partition(":")
        open_modal(ack, body, what, _target(value) if what in ("assign", "holding") else None)

    @app.action(Action.add_word.value)
    def add_word(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        draft, _, word = str((action.get("selected_option") or {}).get("value", "")).partition(":")
        target = _target(draft)
        outcome = runtime.dictionary.add_word(draft_id=target, word=word[:200], actor=body["user"]["id"],
                                              reply_in=body["channel"]["id"], reply_thread=thread_of(body)) \
            if target is not None and word else None
        ack()
        if outcome is not None:
            answer(body, outcome)

    @app.action(Action.declare_crisis.value)
    def declare_crisis(ack: Ack, body: dict[str, Any]) -> None:
        # The button asked for confirmation (its `confirm` dialog) before Slack sent this.
        user = body["user"]["id"]
        lang = runtime.workflow.lang_of(user)
        declared = runtime.crisis.declare(by=user, reason=None, lang=lang)
        ack()
        text = declared.text
        if declared.crisis_id is not None:  # the channel and the announcement after the ack: Slack calls
            text = runtime.crisis.open_room(declared.crisis_id, lang=lang)
        runtime.vigie.tell_user(channel=body["channel"]["id"], user=user, text=text, thread_ts=thread_of(body))

    @app.action(Action.not_a_crisis.value)
    def not_a_crisis(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        user = body["user"]["id"]
        decided = runtime.crisis.not_a_crisis(signal_id=_target(action.get("value")), by=user,
                                              lang=runtime.workflow.lang_of(user))
        ack()
        runtime.vigie.tell_user(channel=body["channel"]["id"], user=user, text=decided.text, thread_ts=thread_of(body))

    @app.action(Action.end_crisis.value)
    def end_crisis(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        # The button asked for confirmation (its `confirm` dialog) before Slack sent this.
        user = body["user"]["id"]
        text = runtime.crisis.end(by=user, summary=None, lang=runtime.workflow.lang_of(user),
                                  crisis_id=_target(action.get("value")) or 0)
        ack()
        runtime.vigie.tell_user(channel=body["channel"]["id"], user=user, text=text, thread_ts=thread_of(body))
