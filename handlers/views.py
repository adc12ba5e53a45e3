"""Modal submissions. The service runs before the ack (it is a short transaction), so a refusal or a
missing field is shown inside the modal itself, in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot.i18n import t
from bot.runtime import Runtime
from bot.slack.ids import View
from bot.slack.views.modals import CONFIRM_ANOTHER, submitted_value
from bot.usecases.response import metadata
from handlers.actions import row_id

if TYPE_CHECKING:
    from bot.usecases.response import Outcome


def register(app: App, runtime: Runtime) -> None:
    w = runtime.workflow

    def finish(ack: Ack, outcome: Outcome, block: str) -> None:
        if outcome.ok:
            ack()
        else:
            ack(response_action="errors", errors={block: (outcome.message or "")[:150]})

    def common(body: dict[str, Any], view: dict[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any]]:
        # Only well-formed ids survive (see row_id); the services re-check who may act on them.
        meta = {k: row_id(v) for k, v in metadata(view.get("private_metadata")).items() if k in ("mention", "draft")}
        return body["user"]["id"], meta, view.get("state") or {}

    def required(ack: Ack, actor: str, state: dict[str, Any], block: str) -> str | None:
        value = (submitted_value(state, block) or "").strip()
        if not value:
            ack(response_action="errors", errors={block: t("modal.required", w.lang_of(actor))})
            return None
        return value

    @app.view(View.draft.value)
    def draft(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor, meta, state = common(body, view)
        text = required(ack, actor, state, "text")
        if text is None:
            return
        if meta.get("mention") is None:  # a view we did not build: close it, nothing to do
            ack()
            return
        # Stored before the modal closes (checks included: well under Slack's 3 seconds), so a closed modal
        # means a saved draft; a refusal is shown in the modal itself.
        base = metadata(view.get("private_metadata")).get("base")
        outcome = w.submit_draft(mention_id=meta["mention"], actor=actor, text=text,
                                 network=submitted_value(state, "network") or "other",
                                 language=submitted_value(state, "language") or "fr",
                                 label=submitted_value(state, "label") or "public",
                                 expected_base=base if isinstance(base, int) and not isinstance(base, bool)
                                 and base >= 0 else None, in_card=True)
        finish(ack, outcome, "text")

    # Modals about a mention with one required input: which input, and which use case it feeds.
    about_a_mention: dict[View, tuple[str, Callable[[int, str, str], Outcome]]] = {
        View.dismiss: ("reason", lambda m, actor, v: w.dismiss(mention_id=m, actor=actor, reason=v, in_card=True)),
        View.reroute: ("team", lambda m, actor, v: w.reroute(mention_id=m, actor=actor, team=v, in_card=True)),
        View.assign: ("user", lambda m, actor, v: w.assign(mention_id=m, actor=actor, assignee=v, in_card=True)),
    }

    def mention_modal(block: str, use_case: Callable[[int, str, str], Outcome]) -> Any:
        def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            actor, meta, state = common(body, view)
            value = required(ack, actor, state, block)
            if value is not None and meta.get("mention") is not None:
                finish(ack, use_case(meta["mention"], actor, value), block)
            elif value is not None:
                ack()
        return submit

    for callback, (block, use_case) in about_a_mention.items():
        app.view(callback.value)(mention_modal(block, use_case))

    @app.view(View.holding.value)
    def holding(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor, meta, state = common(body, view)
        key = required(ack, actor, state, "statement")
        if key is None:
            return
        if meta.get("mention") is None:
            ack()
            return
        sent = metadata(view.get("private_metadata")).get("sent", 0)
        confirmed = CONFIRM_ANOTHER in (submitted_value(state, "confirm") or "").split(",")
        finish(ack, w.holding_statement(mention_id=meta["mention"], actor=actor, key=key,
                                        expected_sent=sent if isinstance(sent, int) else -1, confirmed=confirmed,
                                        in_card=True),
               "confirm" if "confirm" in (state.get("values") or {}) else "statement")

    def review(kind: str) -> Any:
        def submit(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
            actor, meta, state = common(body, view)
            reason = required(ack, actor, state, "reason")
            if reason is not None and meta.get("draft") is not None:
                finish(ack, w.review(draft_id=meta["draft"], actor=actor, kind=kind, comment=reason, in_card=True),
                       "reason")
            elif reason is not None:
                ack()
        return submit

    app.view(View.request_changes.value)(review("request_changes"))
    app.view(View.reject.value)(review("reject"))
    app.view(View.approve_override.value)(review("approve"))

    @app.view(View.publish.value)
    def publish(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        actor, meta, state = common(body, view)
        if meta.get("draft") is not None:
            finish(ack, w.mark_published(draft_id=meta["draft"], actor=actor, url=submitted_value(state, "url"),
                                         in_card=True), "url")
        else:
            ack()
