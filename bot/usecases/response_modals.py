"""Opening a modal: the permission is checked first, so nobody fills in a form they cannot submit.

`prepare` decides (reads only, or — for an approval that needs no reason — the approval itself, committed)
and `show` opens the view in Slack. Handlers call `prepare` before they acknowledge the click and `show`
after: what changes state is stored before Slack is told the click was received, and the Slack call that
may be slow happens after.
"""

from __future__ import annotations

from typing import Any

import structlog
from sqlmodel import Session

from bot.domain import workflow as wf
from bot.i18n import t
from bot.slack.gateway import SlackCallError
from bot.slack.views import cards as blocks
from bot.slack.views import modals
from bot.store import queries as q
from bot.store.models import Draft, Mention
from bot.usecases.response import Outcome, Refused, Target, Workflow, network_of

log = structlog.get_logger(__name__)

# The use case each modal leads to (for the audit of a refusal when the form is not even opened).
_ACTIONS = {"draft": wf.Action.submit_draft, "edit": wf.Action.submit_draft, "reroute": wf.Action.reroute,
            "dismiss": wf.Action.dismiss, "assign": wf.Action.assign, "holding": wf.Action.holding_statement,
            "request_changes": wf.Action.request_changes, "reject": wf.Action.reject,
            "approve": wf.Action.approve, "publish": wf.Action.publish}
_ABOUT_A_DRAFT = ("edit", "request_changes", "reject", "approve", "publish")


class Modals:
    def __init__(self, workflow: Workflow):
        self.w = workflow

    def _may(self, action: wf.Action, *, actor: str, mention_id: int, draft_id: int | None = None,
             reason: str | None = None) -> tuple[Mention, Draft | None]:
        with Session(self.w.vigie.engine) as s:
            mention = s.get(Mention, mention_id)
            if mention is None:
                raise Refused("unknown_mention")
            draft = s.get(Draft, draft_id) if draft_id else self.w.current_draft(s, mention_id)
            self.w.check_allowed(action, s, actor=actor, mention=mention, draft=draft, reason=reason)
            return mention, draft

    def prepare(self, what: str, *, actor: str, target: int, text: str | None = None) -> Outcome | dict[str, Any]:
        """what: draft, edit, reroute, dismiss, assign, holding, request_changes, reject, approve, publish.
        Returns the view to open, or the outcome when there is nothing to open (a refusal, or an approval
        that needed no reason and is done)."""
        lang = self.w.lang_of(actor)
        try:
            view = self._view(what, actor=actor, target=target, text=text, lang=lang)
        except Refused as exc:
            about = Target(draft=target) if what in _ABOUT_A_DRAFT else Target(mention=target)
            self.w.record_refusal(actor, _ACTIONS.get(what, wf.Action.claim).value, about, exc.reason)
            return self.w.refusal(actor, exc.reason, **exc.params)
        if view is None:  # approve with nothing to override: no modal needed
            return self.w.review(draft_id=target, actor=actor, kind="approve")
        return view

    def show(self, trigger_id: str, view: dict[str, Any], *, actor: str) -> Outcome:
        gateway = self.w.vigie.gateway
        try:
            if gateway is not None:
                gateway.call("views.open", trigger_id=trigger_id, view=view)
        except SlackCallError as exc:
            log.warning("modal_not_opened", error=exc.error)
            return Outcome(False, t("refusal.slack_unavailable", self.w.lang_of(actor)))
        return Outcome(True)

    def open(self, what: str, *, trigger_id: str, actor: str, target: int, text: str | None = None) -> Outcome:
        step = self.prepare(what, actor=actor, target=target, text=text)
        return step if isinstance(step, Outcome) else self.show(trigger_id, step, actor=actor)

    def _view(self, what: str, *, actor: str, target: int, text: str | None, lang: str) -> dict[str, Any] | None:
        p = self.w.protocol
        networks = list(p.networks)
        if what == "draft":
            mention, current = self._may(wf.Action.submit_draft, actor=actor, mention_id=target)
            return modals.draft_modal(mention_id=target, networks=networks, lang=lang, text=text or "",
                                      network=network_of(mention.source, p), language=mention.language,
                                      base=current.id if current else 0)
        if what == "reroute":
            mention, _ = self._may(wf.Action.reroute, actor=actor, mention_id=target)
            teams = [(key, team.name.get(lang)) for key, team in p.teams.items()]
            return modals.reroute_modal(mention_id=target, teams=teams, current=mention.team, lang=lang)
        if what == "dismiss":
            self._may(wf.Action.dismiss, actor=actor, mention_id=target, reason="(asked in the modal)")
            return modals.reason_modal(modals.View.dismiss, lang=lang, meta={"mention": target},
                                       title_key="modal.dismiss.title", label_key="modal.dismiss.reason")
        if what == "assign":
            self._may(wf.Action.assign, actor=actor, mention_id=target)
            return modals.assign_modal(mention_id=target, lang=lang)
        if what == "holding":
            self._may(wf.Action.holding_statement, actor=actor, mention_id=target)
            if not p.holding_statements:
                raise Refused("no_holding_statements")
            return modals.holding_modal(mention_id=target, lang=lang, sent=self.w.holding_count(target),
                                        statements=[(h.label.get(lang), h.key) for h in p.holding_statements])
        with Session(self.w.vigie.engine) as s:
            draft = s.get(Draft, target)
        if draft is None:
            raise Refused("unknown_draft")
        if what == "edit":
            _, current = self._may(wf.Action.submit_draft, actor=actor, mention_id=draft.mention_id)
            return modals.draft_modal(mention_id=draft.mention_id, networks=networks, lang=lang, text=draft.text,
                                      network=draft.network, language=draft.language, label=draft.label,
                                      draft_id=draft.id, base=current.id if current else 0)
        if what in ("request_changes", "reject"):
            action = wf.Action.request_changes if what == "request_changes" else wf.Action.reject
            self._may(action, actor=actor, mention_id=draft.mention_id, draft_id=draft.id, reason="(asked)")
            view_id = modals.View.request_changes if what == "request_changes" else modals.View.reject
            return modals.reason_modal(view_id, lang=lang, meta={"draft": draft.id},
                                       title_key=f"modal.{what}.title", label_key=f"modal.{what}.reason")
        if what == "approve":
            fresh = self.w.run_checks(draft.text, language=draft.language, network=draft.network, label=draft.label)
            if not fresh:
                return None
            if not all(f["overridable"] for f in fresh):
                raise Refused("label_not_public")
            self._may(wf.Action.approve, actor=actor, mention_id=draft.mention_id, draft_id=draft.id,
                      reason="(asked)")
            lines = "\n".join(f"• {blocks.render_finding(f, lang)}" for f in fresh[:10])
            return modals.reason_modal(modals.View.approve_override, lang=lang, meta={"draft": draft.id},
                                       title_key="modal.override.title", label_key="modal.override.reason",
                                       intro=t("modal.override.intro", lang, findings=lines))
        if what == "publish":
            self._may(wf.Action.publish, actor=actor, mention_id=draft.mention_id, draft_id=draft.id)
            return modals.publish_modal(draft_id=draft.id, lang=lang)
        raise Refused("not_allowed")

    def draft_from_reply(self, *, actor: str, channel: str, thread_ts: str | None, author: str | None,
                         text: str) -> Outcome | dict[str, Any]:
        """Message shortcut on an expert's own reply in a mention's thread: the draft modal, filled with it."""
        if not thread_ts:
            return self.w.refusal(actor, "not_in_a_mention_thread")
        if author != actor:
            return self.w.refusal(actor, "not_your_message")
        with Session(self.w.vigie.engine) as s:
            mention = q.mention_by_thread(s, channel=channel, thread_ts=thread_ts)
        if mention is None:
            return self.w.refusal(actor, "not_in_a_mention_thread")
        return self.prepare("draft", actor=actor, target=mention.id, text=text)  # type: ignore[arg-type]
