"""Use cases of the response loop: claim, assign, reroute, dismiss, draft, approve, publish.

Every action goes the same way: load the rows, ask the pure rules (`bot.domain.workflow.decide`) whether
this user may do this now, apply the transition, record an audit event, and queue what Slack must show
(card updates, thread messages) in the same transaction. A refusal changes nothing and comes back as a
sentence in the user's language. The acting user is always the one Slack signed for; ids in buttons or
modal metadata only say which mention or draft is meant.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import structlog
from sqlmodel import Session, col, select

from bot import blocks, modals
from bot.db import session_scope
from bot.domain import checks as checks_rules
from bot.domain import workflow as wf
from bot.gateway import Failure, SlackCallError
from bot.i18n import t
from bot.models import AuditEvent, Crisis, Draft, Mention, ReviewDecision
from bot.protocol import Protocol
from bot.publish import publish_webhook
from bot.services import Vigie, enqueue

log = structlog.get_logger(__name__)
WEBHOOK_METHOD = "vigie.webhook_publish"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str | None = None  # for the actor only (ephemeral), already in their language


class Refused(Exception):
    def __init__(self, reason: str, **params: Any):
        super().__init__(reason)
        self.reason = reason
        self.params = params


def people_of(protocol: Protocol) -> wf.People:
    return wf.People(
        community_managers=frozenset(protocol.community_managers),
        decision_makers=frozenset(protocol.decision_makers),
        team_leads={key: team.lead for key, team in protocol.teams.items()},
        team_members={key: frozenset([*([team.lead] if team.lead else []), *team.experts])
                      for key, team in protocol.teams.items()},
        double_command=frozenset(protocol.double_command),
    )


class Workflow:
    def __init__(self, vigie: Vigie, *, publish_secret: str | None = None,
                 http: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=10.0)):
        self.vigie = vigie
        self.protocol = vigie.protocol
        self.people = people_of(vigie.protocol)
        self.policy = checks_rules.CheckPolicy(
            company_words=frozenset(w.casefold() for w in self.protocol.checks.company_words),
            confidential_terms=tuple(self.protocol.checks.confidential_terms),
            employee_names=tuple(self.protocol.employee_names),
            network_limits=dict(self.protocol.networks),
        )
        self.publish_secret = publish_secret
        self.http = http
        self._langs: dict[str, str] = {}

    # --- language of a person -------------------------------------------------------------------

    def lang_of(self, user: str) -> str:
        """The user's Slack locale (asked once per process), else the protocol's language."""
        if user not in self._langs:
            lang = self.protocol.language
            if self.vigie.gateway is not None:
                try:
                    info = self.vigie.gateway.call("users.info", user=user, include_locale=True).get("user") or {}
                    lang = (info.get("locale") or lang).split("-")[0]
                except SlackCallError:
                    pass
            self._langs[user] = lang if lang in ("fr", "en") else self.protocol.language
        return self._langs[user]

    def refusal(self, user: str, reason: str, **params: Any) -> Outcome:
        lang = self.lang_of(user)
        key = f"refusal.{reason.split(':')[0]}"
        if reason.startswith("state:"):
            params["state"] = t(f"state.{reason.split(':', 1)[1]}", lang)
        elif reason.startswith("draft_state:"):
            params["state"] = t(f"draft_state.{reason.split(':', 1)[1]}", lang)
        return Outcome(False, t(key, lang, **params))

    def tell_about(self, mention_id: int, *, user: str, text: str) -> None:
        """An ephemeral answer in the channel of a mention (for actions that came from a modal)."""
        with Session(self.vigie.engine) as s:
            mention = s.get(Mention, mention_id)
        channel = (mention.channel or self.protocol.team(mention.team).channel) if mention else None
        if channel:
            self.vigie.tell_user(channel=channel, user=user, text=text)

    # --- reading ------------------------------------------------------------------------------

    def load_mention(self, s: Session, mention_id: int) -> Mention:
        mention = s.get(Mention, mention_id)
        if mention is None:
            raise Refused("unknown_mention")
        return mention

    def current_draft(self, s: Session, mention_id: int) -> Draft | None:
        return s.exec(select(Draft).where(Draft.mention_id == mention_id)
                      .order_by(col(Draft.version).desc()).limit(1)).first()

    def approvals_of(self, s: Session, draft_id: int) -> list[ReviewDecision]:
        return list(s.exec(select(ReviewDecision).where(ReviewDecision.draft_id == draft_id)
                           .order_by(col(ReviewDecision.id))).all())

    def required_for(self, mention: Mention) -> tuple[str, ...]:
        with Session(self.vigie.engine) as s:
            in_crisis = s.exec(select(Crisis.id).where(col(Crisis.ended_at).is_(None))).first() is not None
        # During a declared crisis every reply also needs the crisis approvers.
        return self.protocol.required_approvals(mention.team, mention.severity, crisis=in_crisis)

    def _views(self, s: Session, mention: Mention, draft: Draft | None) -> tuple[wf.MentionView, wf.DraftView | None]:
        mview = wf.MentionView(state=wf.MentionState(mention.state), team=mention.team, owner=mention.owner)
        if draft is None:
            return mview, None
        approvals = tuple(d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve")  # type: ignore[arg-type]
        failing = [f for f in draft.findings if not f.get("overridden")]
        dview = wf.DraftView(state=wf.DraftState(draft.state), author=draft.author, label=draft.label,
                             approvals=approvals, blocking_findings=len(failing),
                             overridable=all(f.get("overridable", True) for f in failing))
        return mview, dview

    def check_allowed(self, action: wf.Action, s: Session, *, actor: str, mention: Mention, draft: Draft | None,
               reason: str | None = None) -> None:
        mview, dview = self._views(s, mention, draft)
        decision = wf.decide(action, actor=actor, mention=mview, draft=dview, people=self.people,
                             required=self.required_for(mention), reason=reason)
        if not decision.allowed:
            raise Refused(decision.reason or "not_allowed")

    def _run(self, actor: str, fn: Callable[[Session], str | None]) -> Outcome:
        try:
            with session_scope(self.vigie.engine) as s:
                message = fn(s)
        except Refused as exc:
            log.info("action_refused", actor=actor, reason=exc.reason)
            return self.refusal(actor, exc.reason, **exc.params)
        self.vigie.on_commit()
        return Outcome(True, message)

    # --- what Slack must show -------------------------------------------------------------------

    def _audit(self, s: Session, *, actor: str, action: str, mention: Mention, before: dict[str, Any] | None,
               after: dict[str, Any] | None, reason: str | None = None) -> None:
        s.add(AuditEvent(at=self.vigie.clock.now(), actor=actor, action=action, mention_id=mention.id,
                         before=before, after=after, reason=reason))

    def _refresh_homes(self, s: Session, mention: Mention) -> None:
        """The Home tabs of the people this mention concerns: its owner and those whose approval is awaited."""
        from bot.home_desk import queue  # here, not at the top: home_desk imports this module

        users = {mention.owner} if mention.owner else set()
        draft = self.current_draft(s, mention.id)  # type: ignore[arg-type]
        if draft is not None:
            users.add(draft.author)
            approvals = [d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve"]  # type: ignore[arg-type]
            status = wf.approval_status(required=self.required_for(mention), approvals=approvals,
                                        author=draft.author, team=mention.team, people=self.people)
            users |= set(approvals) | wf.awaited_approvers(status=status, team=mention.team, people=self.people,
                                                           author=draft.author)
        for user in sorted(u for u in users if u):
            queue(s, user, now=self.vigie.clock.now())

    def _refresh_card(self, s: Session, mention: Mention, note: str | None = None,
                      relay_outbox_id: int | None = None) -> None:
        """Queue an update of the relay card so it always shows the current state and owner (and of the
        Home tabs of the people concerned)."""
        self._refresh_homes(s, mention)
        self.vigie.queue_card_refresh(s, mention, note=note, relay_outbox_id=relay_outbox_id)

    def _say_in_thread(self, s: Session, mention: Mention, text: str, *, dedupe_key: str | None = None) -> int:
        team = self.protocol.team(mention.team)
        return enqueue(s, kind="thread", method="chat.postMessage", now=self.vigie.clock.now(), dedupe_key=dedupe_key,
                       mention_id=mention.id,
                       args={"channel": team.channel, "text": text, "thread_ts_from_outbox": mention.relay_outbox_id,
                             "unfurl_links": False, "unfurl_media": False})

    def _draft_blocks(self, s: Session, mention: Mention, draft: Draft) -> tuple[str, list[dict[str, Any]]]:
        lang = self.protocol.language
        decisions = self.approvals_of(s, draft.id)  # type: ignore[arg-type]
        required = self.required_for(mention)
        status = wf.approval_status(required=required, approvals=[d.user for d in decisions if d.kind == "approve"],
                                    author=draft.author, team=mention.team, people=self.people)
        marks = [(self.requirement_name(r, lang), r not in status.missing) for r in required]
        card = blocks.draft_card(
            draft_id=draft.id, version=draft.version, kind=draft.kind, author=draft.author,  # type: ignore[arg-type]
            text=draft.text, network=draft.network, language=draft.language, label=draft.label, state=draft.state,
            findings=[f for f in draft.findings if not f.get("overridden")],
            decisions=[{"user": d.user, "kind": d.kind, "comment": d.comment, "override_reason": d.override_reason}
                       for d in decisions],
            required=marks, publish_mode=self.protocol.publishing.mode, public_url=draft.public_url, lang=lang)
        fallback = t("draft.fallback", lang, version=draft.version, author=f"<@{draft.author}>")
        return fallback, card

    def _post_or_update_draft_card(self, s: Session, mention: Mention, draft: Draft) -> None:
        fallback, card = self._draft_blocks(s, mention, draft)
        team = self.protocol.team(mention.team)
        now = self.vigie.clock.now()
        if draft.card_outbox_id is None:
            draft.card_outbox_id = enqueue(
                s, kind="draft_card", method="chat.postMessage", now=now, mention_id=mention.id,
                dedupe_key=f"draft-card:{draft.id}",
                args={"channel": team.channel, "text": fallback, "blocks": card,
                      "thread_ts_from_outbox": mention.relay_outbox_id, "unfurl_links": False, "unfurl_media": False})
            s.add(draft)
        else:
            enqueue(s, kind="draft_card_update", method="chat.update", now=now, mention_id=mention.id,
                    args={"channel": team.channel, "text": fallback, "blocks": card,
                          "ts_from_outbox": draft.card_outbox_id})

    def requirement_name(self, requirement: str, lang: str) -> str:
        if requirement.startswith("team:"):
            key = requirement.split(":", 1)[1]
            return t("req.team", lang, team=self.protocol.team(key).name.get(lang))
        return t(f"req.{requirement}", lang)

    # --- the actions ----------------------------------------------------------------------------

    def claim(self, *, mention_id: int, actor: str) -> Outcome:
        def apply(s: Session) -> str:
            mention = self.load_mention(s, mention_id)
            self.check_allowed(wf.Action.claim, s, actor=actor, mention=mention, draft=None)
            before = {"state": mention.state, "owner": mention.owner}
            mention.state, mention.owner = wf.MentionState.claimed.value, actor
            mention.first_response_at = mention.first_response_at or self.vigie.clock.now()
            s.add(mention)
            self._audit(s, actor=actor, action="mention.claimed", mention=mention, before=before,
                        after={"state": mention.state, "owner": actor})
            self._say_in_thread(s, mention, t("thread.claimed", self.protocol.language, user=f"<@{actor}>"))
            self._refresh_card(s, mention)
            return t("ack.claimed", self.lang_of(actor), id=mention.id)
        return self._run(actor, apply)

    def assign(self, *, mention_id: int, actor: str, assignee: str) -> Outcome:
        def apply(s: Session) -> str:
            mention = self.load_mention(s, mention_id)
            self.check_allowed(wf.Action.assign, s, actor=actor, mention=mention, draft=None)
            before = {"state": mention.state, "owner": mention.owner}
            if mention.state == wf.MentionState.open.value:
                mention.state = wf.MentionState.claimed.value
            mention.owner = assignee
            mention.first_response_at = mention.first_response_at or self.vigie.clock.now()
            s.add(mention)
            self._audit(s, actor=actor, action="mention.assigned", mention=mention, before=before,
                        after={"state": mention.state, "owner": assignee})
            self._say_in_thread(s, mention, t("thread.assigned", self.protocol.language, user=f"<@{actor}>",
                                              owner=f"<@{assignee}>"))
            self._refresh_card(s, mention)
            return t("ack.assigned", self.lang_of(actor), owner=f"<@{assignee}>")
        return self._run(actor, apply)

    def reroute(self, *, mention_id: int, actor: str, team: str) -> Outcome:
        def apply(s: Session) -> str:
            if team not in self.protocol.teams:
                raise Refused("unknown_team")
            mention = self.load_mention(s, mention_id)
            self.check_allowed(wf.Action.reroute, s, actor=actor, mention=mention, draft=None)
            if team == mention.team:
                raise Refused("same_team")
            lang = self.protocol.language
            old_relay, old_team = mention.relay_outbox_id, mention.team
            new_name = self.protocol.team(team).name.get(lang)
            # The old card is marked (no buttons any more) and a new relay is posted in the new team's channel.
            self._refresh_card(s, mention, note=t("relay.moved", lang, team=new_name), relay_outbox_id=old_relay)
            before = {"team": old_team, "state": mention.state, "owner": mention.owner}
            mention.team, mention.state, mention.owner = team, wf.MentionState.open.value, None
            mention.reroutes += 1
            mention.reasons = [*mention.reasons, {"code": "route.rerouted", "params": {"team": new_name}}]
            args = self.vigie.relay_args(mention)
            mention.relay_outbox_id = enqueue(s, kind="relay", method="chat.postMessage", args=args,
                                              now=self.vigie.clock.now(), mention_id=mention.id,
                                              dedupe_key=f"relay:{mention.id}:{mention.reroutes}")
            mention.relay_ts = None
            s.add(mention)
            self._audit(s, actor=actor, action="mention.rerouted", mention=mention, before=before,
                        after={"team": team, "state": mention.state, "owner": None})
            return t("ack.rerouted", self.lang_of(actor), team=new_name)
        return self._run(actor, apply)

    def dismiss(self, *, mention_id: int, actor: str, reason: str) -> Outcome:
        def apply(s: Session) -> str:
            mention = self.load_mention(s, mention_id)
            draft = self.current_draft(s, mention_id)
            self.check_allowed(wf.Action.dismiss, s, actor=actor, mention=mention, draft=draft, reason=reason)
            before = {"state": mention.state}
            mention.state = wf.MentionState.dismissed.value
            mention.closed_at = self.vigie.clock.now()
            if draft is not None and draft.state == wf.DraftState.pending.value:
                draft.state = wf.DraftState.superseded.value
                s.add(draft)
            s.add(mention)
            self._audit(s, actor=actor, action="mention.dismissed", mention=mention, before=before,
                        after={"state": mention.state}, reason=reason)
            self._say_in_thread(s, mention, t("thread.dismissed", self.protocol.language, user=f"<@{actor}>",
                                              reason=blocks.escape(reason)))
            self._refresh_card(s, mention)
            return t("ack.dismissed", self.lang_of(actor))
        return self._run(actor, apply)

    def submit_draft(self, *, mention_id: int, actor: str, text: str, network: str, language: str, label: str,
                     kind: str = "reply") -> Outcome:
        """A new draft, or a new version of the current one: checks run, approvals start from zero."""
        def apply(s: Session) -> str:
            mention = self.load_mention(s, mention_id)
            previous = self.current_draft(s, mention_id)
            self.check_allowed(wf.Action.submit_draft, s, actor=actor, mention=mention, draft=previous)
            if network not in self.protocol.networks or language not in ("fr", "en") or label not in (
                    "public", "internal", "confidential"):
                raise Refused("invalid_draft")
            now = self.vigie.clock.now()
            findings = self.run_checks(text, language=language, network=network, label=label)
            if previous is not None and previous.state not in (wf.DraftState.published.value,):
                previous.state = wf.DraftState.superseded.value
                s.add(previous)
                self._post_or_update_draft_card(s, mention, previous)
            draft = Draft(mention_id=mention_id, version=(previous.version + 1) if previous else 1, kind=kind,
                          author=actor, text=text, network=network, language=language, label=label,
                          state=wf.DraftState.pending.value, created_at=now, findings=findings)
            s.add(draft)
            s.flush()
            before = {"state": mention.state, "owner": mention.owner}
            mention.state = wf.MentionState.in_review.value
            mention.owner = mention.owner or actor
            s.add(mention)
            self._audit(s, actor=actor, action="draft.submitted", mention=mention, before=before,
                        after={"draft": draft.id, "version": draft.version, "label": label, "network": network,
                               "findings": len(findings), "text": text})
            self._post_or_update_draft_card(s, mention, draft)
            self._tell_awaited(s, mention, draft)
            self._refresh_card(s, mention)
            return t("ack.draft", self.lang_of(actor), version=draft.version, findings=len(findings))
        return self._run(actor, apply)

    def run_checks(self, text: str, *, language: str, network: str, label: str) -> list[dict[str, Any]]:
        found = checks_rules.run_checks(text, language=language, network=network, label=label, policy=self.policy)
        return [{"code": f.code, "start": f.start, "end": f.end, "text": f.text, "suggestions": list(f.suggestions),
                 "params": dict(f.params), "overridable": f.overridable} for f in found]

    def _tell_awaited(self, s: Session, mention: Mention, draft: Draft) -> None:
        """Tell the people whose approval is awaited, once per draft version."""
        approvals = [d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve"]  # type: ignore[arg-type]
        status = wf.approval_status(required=self.required_for(mention), approvals=approvals, author=draft.author,
                                    team=mention.team, people=self.people)
        awaited = sorted(wf.awaited_approvers(status=status, team=mention.team, people=self.people,
                                              author=draft.author) - set(approvals))
        if not awaited:
            return
        text = t("thread.awaited", self.protocol.language, users=" ".join(f"<@{u}>" for u in awaited),
                 version=draft.version)
        self._say_in_thread(s, mention, text, dedupe_key=f"awaited:{draft.id}")

    def review(self, *, draft_id: int, actor: str, kind: str, comment: str | None = None) -> Outcome:
        """approve (comment = override reason when checks fail), request_changes or reject."""
        action = {"approve": wf.Action.approve, "request_changes": wf.Action.request_changes,
                  "reject": wf.Action.reject}[kind]

        def apply(s: Session) -> str:
            draft = s.get(Draft, draft_id)
            if draft is None:
                raise Refused("unknown_draft")
            mention = self.load_mention(s, draft.mention_id)
            current = self.current_draft(s, mention.id)  # type: ignore[arg-type]
            if current is None or current.id != draft.id:
                raise Refused("old_version")
            # Checks run again at approval: the protocol (confidential terms, roster) may have changed.
            if kind == "approve":
                fresh = self.run_checks(draft.text, language=draft.language, network=draft.network, label=draft.label)
                if comment and comment.strip():
                    fresh = [{**f, "overridden": f["overridable"]} for f in fresh]
                draft.findings = fresh
            self.check_allowed(action, s, actor=actor, mention=mention, draft=draft, reason=comment)
            now = self.vigie.clock.now()
            override = comment if kind == "approve" and any(f.get("overridden") for f in draft.findings) else None
            s.add(ReviewDecision(draft_id=draft.id, user=actor, kind=kind, at=now,  # type: ignore[arg-type]
                                 comment=None if kind == "approve" else comment, override_reason=override))
            s.flush()
            approvals = [d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve"]  # type: ignore[arg-type]
            status = wf.approval_status(required=self.required_for(mention), approvals=approvals,
                                        author=draft.author, team=mention.team, people=self.people)
            before = {"state": mention.state, "draft_state": draft.state}
            m_state, d_state = wf.next_states(action, mention_state=wf.MentionState(mention.state),
                                              draft_state=wf.DraftState(draft.state),
                                              approval_complete=status.complete)
            mention.state, draft.state = m_state.value, (d_state or wf.DraftState(draft.state)).value
            if draft.state == wf.DraftState.approved.value:
                mention.approved_at = now
            s.add(mention)
            s.add(draft)
            self._audit(s, actor=actor, action=f"draft.{kind}", mention=mention, before=before,
                        after={"state": mention.state, "draft": draft.id, "draft_state": draft.state,
                               "version": draft.version, "override": override},
                        reason=comment)
            lang = self.protocol.language
            note = t(f"thread.{kind}", lang, user=f"<@{actor}>", version=draft.version)
            if comment and kind != "approve":
                note = t("decision.with_comment", lang, text=note, comment=blocks.escape(comment))
            if override:
                note += " " + t("decision.override", lang, reason=blocks.escape(override))
            self._say_in_thread(s, mention, note)
            if draft.state == wf.DraftState.approved.value:
                self._say_in_thread(s, mention, t("thread.ready", lang, version=draft.version))
                if self.protocol.publishing.mode == "webhook":
                    self._queue_webhook(s, mention, draft)
            self._post_or_update_draft_card(s, mention, draft)
            self._refresh_card(s, mention)
            return t(f"ack.{kind}", self.lang_of(actor))
        return self._run(actor, apply)

    def mark_published(self, *, draft_id: int, actor: str, url: str | None) -> Outcome:
        def apply(s: Session) -> str:
            draft = s.get(Draft, draft_id)
            if draft is None:
                raise Refused("unknown_draft")
            mention = self.load_mention(s, draft.mention_id)
            self.check_allowed(wf.Action.publish, s, actor=actor, mention=mention, draft=draft)
            self._published(s, mention, draft, by=actor, url=url)
            return t("ack.published", self.lang_of(actor))
        return self._run(actor, apply)

    def _published(self, s: Session, mention: Mention, draft: Draft, *, by: str, url: str | None) -> None:
        before = {"state": mention.state, "draft_state": draft.state}
        now = self.vigie.clock.now()
        if draft.kind == "reply":
            mention.state = wf.MentionState.published.value
            mention.published_at_reply = mention.closed_at = now
        mention.first_response_at = mention.first_response_at or now  # a holding statement is a first response
        draft.state = wf.DraftState.published.value
        draft.published_at, draft.published_by, draft.public_url = self.vigie.clock.now(), by, url
        s.add(mention)
        s.add(draft)
        self._audit(s, actor=by, action="draft.published", mention=mention, before=before,
                    after={"state": mention.state, "draft": draft.id, "url": url, "text": draft.text})
        lang = self.protocol.language
        where = (" " + blocks.link(url)) if url else ""
        self._say_in_thread(s, mention, t("thread.published", lang, user=f"<@{by}>", version=draft.version) + where)
        self._post_or_update_draft_card(s, mention, draft)
        self._refresh_card(s, mention)

    def holding_statement(self, *, mention_id: int, actor: str, key: str) -> Outcome:
        """A pre-approved holding statement, published the same way as a reply while experts work."""
        def apply(s: Session) -> str:
            mention = self.load_mention(s, mention_id)
            self.check_allowed(wf.Action.holding_statement, s, actor=actor, mention=mention, draft=None)
            statement = self.protocol.holding_statement(key)
            lang = mention.language if mention.language in ("fr", "en") else self.protocol.language
            count = len(s.exec(select(Draft.id).where(Draft.mention_id == mention_id)).all())
            draft = Draft(mention_id=mention_id, version=count + 1, kind="holding", author=actor,
                          text=statement.text.get(lang), network=_network_of(mention.source, self.protocol),
                          language=lang, label="public", state=wf.DraftState.approved.value,
                          created_at=self.vigie.clock.now(), findings=[])
            s.add(draft)
            s.flush()
            self._audit(s, actor=actor, action="holding.chosen", mention=mention, before=None,
                        after={"draft": draft.id, "statement": key, "text": draft.text})
            self._post_or_update_draft_card(s, mention, draft)
            if self.protocol.publishing.mode == "webhook":
                self._queue_webhook(s, mention, draft)
            return t("ack.holding", self.lang_of(actor))
        return self._run(actor, apply)

    # --- webhook publishing -------------------------------------------------------------------

    def _queue_webhook(self, s: Session, mention: Mention, draft: Draft) -> None:
        url = str(self.protocol.publishing.webhook_url)
        enqueue(s, kind="publish", method=WEBHOOK_METHOD, now=self.vigie.clock.now(), mention_id=mention.id,
                dedupe_key=f"publish:{draft.id}",
                args={"channel": f"webhook:{url}"[:32], "draft_id": draft.id, "url": url})

    def deliver_webhook(self, args: dict[str, Any]) -> dict[str, Any]:
        """Outbox deliverer: POST the approved text, signed; on success record the publication."""
        if not self.publish_secret:
            raise SlackCallError(WEBHOOK_METHOD, Failure.needs_person, "VIGIE_PUBLISH_WEBHOOK_SECRET is not set")
        with Session(self.vigie.engine) as s:
            draft = s.get(Draft, args["draft_id"])
            mention = s.get(Mention, draft.mention_id) if draft else None
            if draft is None or mention is None:
                raise SlackCallError(WEBHOOK_METHOD, Failure.permanent, "draft_not_found")
            payload = {"draft_id": draft.id, "mention_id": mention.id, "version": draft.version, "kind": draft.kind,
                       "text": draft.text, "network": draft.network, "language": draft.language,
                       "in_reply_to": {"source": mention.source, "external_id": mention.external_id,
                                       "url": mention.url}}
        now: datetime = self.vigie.clock.now()
        with self.http() as client:
            result = publish_webhook(client, url=args["url"], secret=self.publish_secret, payload=payload,
                                     idempotency_key=f"vigie-draft-{payload['draft_id']}",
                                     timestamp=int(now.timestamp()))
        if not result.ok:
            failure = Failure.retryable if result.retryable else Failure.needs_person
            raise SlackCallError(WEBHOOK_METHOD, failure, result.error or f"http_{result.status}")
        with session_scope(self.vigie.engine) as s:
            draft = s.get(Draft, args["draft_id"])
            mention = s.get(Mention, draft.mention_id)  # type: ignore[union-attr]
            if draft.state != wf.DraftState.published.value:  # type: ignore[union-attr]
                self._published(s, mention, draft, by="webhook", url=result.public_url)  # type: ignore[arg-type]
        self.vigie.on_commit()
        return {"ok": True, "status": result.status}


def on_delivery_failure(workflow: Workflow, row: Any, exc: SlackCallError) -> None:
    """A delivery that needs a person: a refused publication is said in the mention's thread."""
    if row.method != WEBHOOK_METHOD or row.mention_id is None:
        return
    with session_scope(workflow.vigie.engine) as s:
        mention = s.get(Mention, row.mention_id)
        if mention is not None:
            workflow._say_in_thread(s, mention, t("thread.publish_failed", workflow.protocol.language,
                                                  error=blocks.escape(exc.error)),
                                    dedupe_key=f"publish-failed:{row.id}")
    workflow.vigie.on_commit()


def _network_of(source: str, protocol: Protocol) -> str:
    source = source.lower()
    return source if source in protocol.networks else ("x" if source in ("twitter", "x") else "other")


def metadata(value: str | None) -> dict[str, Any]:
    """Parse a modal's private_metadata; anything odd gives {} (the server re-checks everything anyway)."""
    try:
        data = json.loads(value or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


class Modals:
    """Opening a modal: the permission is checked first, so nobody fills in a form they cannot submit."""

    def __init__(self, workflow: Workflow):
        self.w = workflow

    def _open(self, trigger_id: str, view: dict[str, Any]) -> None:
        gateway = self.w.vigie.gateway
        if gateway is not None:
            gateway.call("views.open", trigger_id=trigger_id, view=view)

    def _may(self, action: wf.Action, *, actor: str, mention_id: int, draft_id: int | None = None,
             reason: str | None = None) -> tuple[Mention, Draft | None]:
        with Session(self.w.vigie.engine) as s:
            mention = self.w.load_mention(s, mention_id)
            draft = s.get(Draft, draft_id) if draft_id else self.w.current_draft(s, mention_id)
            self.w.check_allowed(action, s, actor=actor, mention=mention, draft=draft, reason=reason)
            return mention, draft

    def open(self, what: str, *, trigger_id: str, actor: str, target: int, text: str | None = None) -> Outcome:
        """what: draft, edit, reroute, dismiss, assign, holding, request_changes, reject, approve, publish."""
        lang = self.w.lang_of(actor)
        try:
            view = self._view(what, actor=actor, target=target, text=text, lang=lang)
        except Refused as exc:
            return self.w.refusal(actor, exc.reason, **exc.params)
        if view is None:  # approve with nothing to override: no modal needed
            return self.w.review(draft_id=target, actor=actor, kind="approve")
        try:
            self._open(trigger_id, view)
        except SlackCallError as exc:
            log.warning("modal_not_opened", error=exc.error)
            return Outcome(False, t("refusal.slack_unavailable", lang))
        return Outcome(True)

    def _view(self, what: str, *, actor: str, target: int, text: str | None, lang: str) -> dict[str, Any] | None:
        p = self.w.protocol
        networks = list(p.networks)
        if what == "draft":
            mention, _ = self._may(wf.Action.submit_draft, actor=actor, mention_id=target)
            return modals.draft_modal(mention_id=target, networks=networks, lang=lang, text=text or "",
                                      network=_network_of(mention.source, p), language=mention.language)
        if what == "edit":
            with Session(self.w.vigie.engine) as s:
                draft = s.get(Draft, target)
            if draft is None:
                raise Refused("unknown_draft")
            self._may(wf.Action.submit_draft, actor=actor, mention_id=draft.mention_id)
            return modals.draft_modal(mention_id=draft.mention_id, networks=networks, lang=lang, text=draft.text,
                                      network=draft.network, language=draft.language, label=draft.label,
                                      draft_id=draft.id)
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
            return modals.holding_modal(mention_id=target, lang=lang,
                                        statements=[(h.label.get(lang), h.key) for h in p.holding_statements])
        with Session(self.w.vigie.engine) as s:
            draft = s.get(Draft, target)
        if draft is None:
            raise Refused("unknown_draft")
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

    def draft_from_reply(self, *, trigger_id: str, actor: str, channel: str, thread_ts: str | None,
                         author: str | None, text: str) -> Outcome:
        """Message shortcut on an expert's own reply in a mention's thread: open the draft modal with it."""
        if not thread_ts:
            return self.w.refusal(actor, "not_in_a_mention_thread")
        if author != actor:
            return self.w.refusal(actor, "not_your_message")
        with Session(self.w.vigie.engine) as s:
            mention = s.exec(select(Mention).where(Mention.relay_ts == thread_ts, Mention.channel == channel)).first()
        if mention is None:
            return self.w.refusal(actor, "not_in_a_mention_thread")
        return self.open("draft", trigger_id=trigger_id, actor=actor, target=mention.id, text=text)  # type: ignore[arg-type]
