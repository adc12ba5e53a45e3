"""Use cases of the response loop: claim, assign, reroute, dismiss, draft, approve (publication and holding
statements: `bot.usecases.response_publish`).

Every action goes the same way, in ONE transaction (`_run`):

1. the actor's language is known before it starts (asking Slack for it is a network call: never while rows
   are locked);
2. the mention's row is locked first (`bot.store.locks`), so two clicks on one mention run one after the other,
   whatever instance receives them;
3. the rows are read fresh and the pure rules (`bot.domain.workflow.decide`) say whether this user may do this
   now — from what was just read, not from what a button or a modal remembers;
4. the writes are compare-and-sets on the state the decision was taken from; unique constraints back the
   facts that are unique (one decision per person and version, one publication per draft, one holding
   statement unless confirmed); an audit event and what Slack must show (card updates, thread messages) are
   written in the same transaction.

A refusal changes nothing, is recorded in the audit trail (with the actor and the reason, forged requests
included), and comes back as a sentence in the user's language. The acting user is always the one Slack
signed for; ids in buttons or modal metadata only say which mention or draft is meant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain import checks as checks_rules
from bot.domain import workflow as wf
from bot.domain.text import is_real_text
from bot.i18n import t
from bot.outbox.queue import enqueue, queue_ephemeral, queue_home
from bot.protocol.schema import Protocol
from bot.slack.gateway import SlackCallError
from bot.slack.views import alerts as alert_views
from bot.slack.views import cards as blocks
from bot.store import queries as q
from bot.store.audit import add_refusal
from bot.store.db import session_scope
from bot.store.dictionary import with_company_words
from bot.store.locks import Conflict, compare_and_set, lock_draft, lock_mention
from bot.store.models import AuditEvent, Draft, Mention, ReviewDecision
from bot.usecases.check import policy_of
from bot.usecases import notices
from bot.usecases.intake import Vigie
from bot.usecases.outcome import Outcome, Refused, Target
from bot.usecases.response_publish import WEBHOOK_METHOD, Publishing, network_of, on_delivery_failure

# Re-exported: the composition root wires the webhook deliverer from here, modals and handlers take these.
__all__ = ["WEBHOOK_METHOD", "Outcome", "Refused", "Target", "Workflow", "metadata", "network_of",
           "on_delivery_failure", "people_of"]

log = structlog.get_logger(__name__)


def people_of(protocol: Protocol) -> wf.People:
    return protocol.people


class Workflow(Publishing):
    def __init__(self, vigie: Vigie, *, publish_secret: str | None = None,
                 http: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=10.0),
                 grammar: Sequence[checks_rules.GrammarChecker] = ()):
        """`grammar`: the outside grammar checkers (Grammalecte, LanguageTool) the composition root found at
        start-up; every draft check runs them after Vigie's own rules."""
        self.vigie = vigie
        self.grammar = tuple(grammar)
        self.protocol = vigie.protocol
        self.people = people_of(vigie.protocol)
        self.policy = policy_of(self.protocol)  # the same policy as `vigie check`
        self.publish_secret = publish_secret
        self.http = http
        self._langs: dict[str, str] = {}
        self._links: dict[tuple[str, str], str] = {}
        self._names: dict[str, str] = {}

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

    # --- reading ------------------------------------------------------------------------------

    def lock(self, s: Session, mention_id: int) -> Mention:
        """The mention, locked for the rest of the transaction (see `bot.store.locks`)."""
        mention = lock_mention(s, mention_id)
        if mention is None:
            raise Refused("unknown_mention")
        # The card's thread as it was when the action started (a reroute posts a new card): where a modal's
        # confirmation goes.
        s.info.setdefault("card", (self.protocol.team(mention.team).channel, mention.relay_outbox_id))
        return mention

    def lock_draft_and_mention(self, s: Session, draft_id: int) -> tuple[Draft, Mention]:
        """A draft and its mention, locked in the order every action takes them (mention first)."""
        found = s.get(Draft, draft_id)
        if found is None:
            raise Refused("unknown_draft")
        mention = self.lock(s, found.mention_id)
        draft = lock_draft(s, draft_id)
        assert draft is not None  # drafts are never deleted
        return draft, mention

    def current_draft(self, s: Session, mention_id: int) -> Draft | None:
        return q.current_draft(s, mention_id=mention_id)

    def approvals_of(self, s: Session, draft_id: int) -> list[ReviewDecision]:
        """The decisions on a draft, read once per transaction: the check, the card, the Home tabs and the
        thread of one click all use the same list (`_decided` adds the decision the click itself writes)."""
        read: dict[int, list[ReviewDecision]] = s.info.setdefault("decisions", {})
        if draft_id not in read:
            read[draft_id] = q.approvals_of(s, draft_id=draft_id)
        return read[draft_id]

    def _decided(self, s: Session, decision: ReviewDecision) -> None:
        s.add(decision)
        s.flush()  # the unique (draft, user, kind): a second identical decision stops here
        self.approvals_of(s, decision.draft_id).append(decision)

    def crisis_active(self, s: Session) -> bool:
        """Asked once per transaction (the session remembers the answer)."""
        if "crisis" not in s.info:
            s.info["crisis"] = q.is_crisis_active(s)
        return bool(s.info["crisis"])

    def required_for(self, mention: Mention, s: Session | None = None) -> tuple[str, ...]:
        if s is None:
            with Session(self.vigie.engine) as fresh:
                in_crisis = self.crisis_active(fresh)
        else:
            in_crisis = self.crisis_active(s)
        # During a declared crisis every reply also needs the crisis approvers.
        return self.protocol.required_approvals(mention.team, mention.severity, crisis=in_crisis)

    def _views(self, s: Session, mention: Mention, draft: Draft | None,
               findings: list[dict[str, Any]] | None = None) -> tuple[wf.MentionView, wf.DraftView | None]:
        mview = wf.MentionView(state=wf.MentionState(mention.state), team=mention.team, owner=mention.owner)
        if draft is None:
            return mview, None
        approvals = tuple(d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve")  # type: ignore[arg-type]
        failing = [f for f in (draft.findings if findings is None else findings) if not f.get("overridden")]
        dview = wf.DraftView(state=wf.DraftState(draft.state), author=draft.author, label=draft.label,
                             approvals=approvals, blocking_findings=len(failing),
                             overridable=all(f.get("overridable", True) for f in failing),
                             holding=draft.kind == "holding")
        return mview, dview

    def check_allowed(self, action: wf.Action, s: Session, *, actor: str, mention: Mention, draft: Draft | None,
                      reason: str | None = None, findings: list[dict[str, Any]] | None = None) -> None:
        """Raise `Refused` unless `actor` may do `action` now (`findings`: the checks just run, when they
        replace the stored ones)."""
        mview, dview = self._views(s, mention, draft, findings)
        decision = wf.decide(action, actor=actor, mention=mview, draft=dview, people=self.people,
                             required=self.required_for(mention, s), reason=reason)
        if not decision.allowed:
            raise Refused(decision.reason or "not_allowed")

    def _run(self, actor: str, action: str, target: Target, fn: Callable[[Session, str], str | None], *,
             reply_in: str | None = None, reply_thread: str | None = None, in_card: bool = False) -> Outcome:
        """One click, one transaction: lock, re-check, write, queue Slack's messages and commit once.

        With `reply_in` (the channel the click came from), the actor's ephemeral answer is queued in that same
        transaction, so it exists exactly when what it announces does; a refusal and its answer likewise share
        one (the action's own transaction having been rolled back). With `reply_thread` (the thread the click
        was made in), the answer shows in that thread. With `in_card` (a modal was submitted: Slack gives no
        channel), the answer goes in the card's thread, so the person sees the form was taken into account.
        """
        lang = self.lang_of(actor)  # before the transaction: it may ask Slack
        try:
            with session_scope(self.vigie.engine) as s:
                message = fn(s, lang)
                if message and reply_in:
                    self._answer(s, channel=reply_in, user=actor, text=message, thread_ts=reply_thread)
                elif message and in_card and s.info.get("card"):
                    channel, relay = s.info["card"]
                    enqueue(s, kind="ephemeral", method="chat.postEphemeral", now=self.vigie.clock.now(),
                            args={"channel": channel, "user": actor, "text": message,
                                  **({"thread_ts_from_outbox": relay} if relay else {})})
        except Refused as exc:
            outcome = self.refusal(actor, exc.reason, **exc.params)
            self.record_refusal(actor, action, target, exc.reason, answer=outcome.message, reply_in=reply_in,
                                reply_thread=reply_thread)
            return Outcome(False, outcome.message, told=bool(reply_in and outcome.message))
        except (Conflict, IntegrityError) as exc:
            # A unique fact another request recorded first (the lock makes this rare: it is the safety net).
            log.info("action_conflict", actor=actor, action=action, error=type(exc).__name__)
            outcome = self.refusal(actor, "conflict")
            self.record_refusal(actor, action, target, "conflict", answer=outcome.message, reply_in=reply_in,
                                reply_thread=reply_thread)
            return Outcome(False, outcome.message, told=bool(reply_in and outcome.message))
        self.vigie.on_commit()
        return Outcome(True, message, told=bool(message and (reply_in or in_card)))

    def _answer(self, s: Session, *, channel: str, user: str, text: str, thread_ts: str | None = None) -> None:
        queue_ephemeral(s, channel=channel, user=user, text=text, now=self.vigie.clock.now(), thread_ts=thread_ts)

    def record_refusal(self, actor: str, action: str, target: Target, reason: str, *, answer: str | None = None,
                       reply_in: str | None = None, reply_thread: str | None = None) -> None:
        """A refused attempt goes in the audit trail too: who tried what, on what, and why it was refused;
        with `reply_in` (and `reply_thread`), the answer to the actor is queued in the same transaction."""
        log.info("action_refused", actor=actor, action=action, reason=reason, mention=target.mention,
                 draft=target.draft)
        with session_scope(self.vigie.engine) as s:
            mention_id = target.mention
            if target.draft is not None:
                draft = s.get(Draft, target.draft)
                mention_id = draft.mention_id if draft is not None else mention_id
            add_refusal(s, at=self.vigie.clock.now(), actor=actor, action=action, reason=reason,
                        mention_id=mention_id, after={"mention": target.mention, "draft": target.draft})
            if answer and reply_in:
                self._answer(s, channel=reply_in, user=actor, text=answer, thread_ts=reply_thread)
        if answer and reply_in:
            self.vigie.on_commit()

    # --- what Slack must show -------------------------------------------------------------------

    def _audit(self, s: Session, *, actor: str, action: str, mention: Mention, before: dict[str, Any] | None,
               after: dict[str, Any] | None, reason: str | None = None) -> None:
        now = self.vigie.clock.now()
        s.add(AuditEvent(at=now, actor=actor, action=action, mention_id=mention.id,
                         before=before, after=after, reason=reason))
        # The notices about this mention (escalations, approval requests) say what was just done.
        line = notices.done_line(action, actor=actor, at=now, lang=self.protocol.language, after=after)
        if line is not None:
            notices.update_notices(s, mention.id, line, now=now)  # type: ignore[arg-type]

    def _refresh_homes(self, s: Session, mention: Mention) -> None:
        """The Home tabs of the people this mention concerns: its owner and those whose approval is awaited."""
        users = {mention.owner} if mention.owner else set()
        draft = self.current_draft(s, mention.id)  # type: ignore[arg-type]
        if draft is not None:
            users.add(draft.author)
            approvals = [d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve"]  # type: ignore[arg-type]
            status = wf.approval_status(required=self.required_for(mention, s), approvals=approvals,
                                        author=draft.author, team=mention.team, people=self.people)
            users |= set(approvals) | wf.awaited_approvers(status=status, team=mention.team, people=self.people,
                                                           author=draft.author)
        for user in sorted(u for u in users if u):
            queue_home(s, user, now=self.vigie.clock.now())

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
        required = self.required_for(mention, s)
        status = wf.approval_status(required=required, approvals=[d.user for d in decisions if d.kind == "approve"],
                                    author=draft.author, team=mention.team, people=self.people)
        marks = [(self.requirement_name(r, lang), r not in status.missing) for r in required]
        card = blocks.draft_card(
            draft_id=draft.id, version=draft.version, kind=draft.kind, author=draft.author,  # type: ignore[arg-type]
            text=draft.text, network=draft.network, language=draft.language, label=draft.label, state=draft.state,
            findings=draft.findings,  # every one, overridden or not: the card marks who overrode which
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
            card_id = enqueue(
                s, kind="draft_card", method="chat.postMessage", now=now, mention_id=mention.id,
                dedupe_key=f"draft-card:{draft.id}",
                args={"channel": team.channel, "text": fallback, "blocks": card,
                      "thread_ts_from_outbox": mention.relay_outbox_id, "unfurl_links": False, "unfurl_media": False})
            compare_and_set(s, draft, expect={"card_outbox_id": None}, values={"card_outbox_id": card_id})
        else:
            enqueue(s, kind="draft_card_update", method="chat.update", now=now, mention_id=mention.id,
                    args={"channel": team.channel, "text": fallback, "blocks": card,
                          "ts_from_outbox": draft.card_outbox_id})

    def requirement_name(self, requirement: str, lang: str) -> str:
        if requirement.startswith("team:"):
            key = requirement.split(":", 1)[1]
            return t("req.team", lang, team=self.protocol.team(key).name.get(lang))
        return t(f"req.{requirement}", lang)

    def _set_mention(self, s: Session, mention: Mention, **values: Any) -> None:
        """Compare-and-set on the state and owner this action decided from."""
        compare_and_set(s, mention, expect={"state": mention.state, "owner": mention.owner}, values=values)

    def _set_draft(self, s: Session, draft: Draft, **values: Any) -> None:
        compare_and_set(s, draft, expect={"state": draft.state}, values=values)

    # --- the actions ----------------------------------------------------------------------------

    def claim(self, *, mention_id: int, actor: str, reply_in: str | None = None,
              reply_thread: str | None = None) -> Outcome:
        def apply(s: Session, lang: str) -> str:
            mention = self.lock(s, mention_id)
            self.check_allowed(wf.Action.claim, s, actor=actor, mention=mention, draft=None)
            before = {"state": mention.state, "owner": mention.owner}
            self._set_mention(s, mention, state=wf.MentionState.claimed.value, owner=actor,
                              first_response_at=mention.first_response_at or self.vigie.clock.now())
            self._audit(s, actor=actor, action="mention.claimed", mention=mention, before=before,
                        after={"state": mention.state, "owner": actor})
            self._say_in_thread(s, mention, t("thread.claimed", self.protocol.language, user=f"<@{actor}>"))
            self._refresh_card(s, mention)
            return t("ack.claimed", lang, id=mention.id)
        return self._run(actor, wf.Action.claim.value, Target(mention=mention_id), apply, reply_in=reply_in,
                         reply_thread=reply_thread)

    def assign(self, *, mention_id: int, actor: str, assignee: str, in_card: bool = False) -> Outcome:
        def apply(s: Session, lang: str) -> str:
            mention = self.lock(s, mention_id)
            self.check_allowed(wf.Action.assign, s, actor=actor, mention=mention, draft=None)
            before = {"state": mention.state, "owner": mention.owner}
            state = wf.MentionState.claimed.value if mention.state == wf.MentionState.open.value else mention.state
            self._set_mention(s, mention, state=state, owner=assignee,
                              first_response_at=mention.first_response_at or self.vigie.clock.now())
            self._audit(s, actor=actor, action="mention.assigned", mention=mention, before=before,
                        after={"state": mention.state, "owner": assignee})
            self._say_in_thread(s, mention, t("thread.assigned", self.protocol.language, user=f"<@{actor}>",
                                              owner=f"<@{assignee}>"))
            self._refresh_card(s, mention)
            return t("ack.assigned", lang, owner=f"<@{assignee}>")
        return self._run(actor, wf.Action.assign.value, Target(mention=mention_id), apply, in_card=in_card)

    def reroute(self, *, mention_id: int, actor: str, team: str, in_card: bool = False) -> Outcome:
        def apply(s: Session, lang: str) -> str:
            if team not in self.protocol.teams:
                raise Refused("unknown_team")
            mention = self.lock(s, mention_id)
            self.check_allowed(wf.Action.reroute, s, actor=actor, mention=mention, draft=None)
            if team == mention.team:
                raise Refused("same_team")
            chan_lang = self.protocol.language
            old_relay, old_team = mention.relay_outbox_id, mention.team
            new_name = self.protocol.team(team).name.get(chan_lang)
            # The old card is marked (no buttons any more) and a new relay is posted in the new team's channel.
            self._refresh_card(s, mention, note=t("card.moved", chan_lang, team=new_name, user=f"<@{actor}>"),
                               relay_outbox_id=old_relay)
            before = {"team": old_team, "state": mention.state, "owner": mention.owner}
            reroutes = mention.reroutes + 1
            reasons = [*mention.reasons, {"code": "route.rerouted", "params": {"team": new_name}}]
            self._set_mention(s, mention, team=team, state=wf.MentionState.open.value, owner=None,
                              reroutes=reroutes, reasons=reasons, relay_ts=None)
            relay = enqueue(s, kind="relay", method="chat.postMessage", args=self.vigie.relay_args(mention),
                            now=self.vigie.clock.now(), mention_id=mention.id,
                            dedupe_key=f"relay:{mention.id}:{reroutes}")
            compare_and_set(s, mention, expect={"relay_outbox_id": old_relay}, values={"relay_outbox_id": relay})
            self._audit(s, actor=actor, action="mention.rerouted", mention=mention, before=before,
                        after={"team": team, "state": mention.state, "owner": None})
            return t("ack.rerouted", lang, team=self.protocol.team(team).name.get(lang))
        return self._run(actor, wf.Action.reroute.value, Target(mention=mention_id), apply, in_card=in_card)

    def dismiss(self, *, mention_id: int, actor: str, reason: str, in_card: bool = False) -> Outcome:
        def apply(s: Session, lang: str) -> str:
            mention = self.lock(s, mention_id)
            draft = self.current_draft(s, mention_id)
            self.check_allowed(wf.Action.dismiss, s, actor=actor, mention=mention, draft=draft, reason=reason)
            before = {"state": mention.state}
            if draft is not None and draft.state == wf.DraftState.pending.value:
                # A draft still awaiting approval must not be approved and published later.
                self._set_draft(s, draft, state=wf.DraftState.superseded.value)
            self._set_mention(s, mention, state=wf.MentionState.dismissed.value, closed_at=self.vigie.clock.now())
            self._audit(s, actor=actor, action="mention.dismissed", mention=mention, before=before,
                        after={"state": mention.state}, reason=reason)
            self._say_in_thread(s, mention, t("thread.dismissed", self.protocol.language, user=f"<@{actor}>",
                                              reason=blocks.escape(reason)))
            self._refresh_card(s, mention)
            return t("ack.dismissed", lang)
        return self._run(actor, wf.Action.dismiss.value, Target(mention=mention_id), apply, in_card=in_card)

    def submit_draft(self, *, mention_id: int, actor: str, text: str, network: str, language: str, label: str,
                     kind: str = "reply", expected_base: int | None = None, in_card: bool = False) -> Outcome:
        """A new draft, or a new version of the current one: checks run, approvals start from zero.

        `expected_base`: the current draft's id when the form was opened (0: there was none). Another version
        submitted since (someone else's, or the same form sent twice) refuses this one: nothing is stacked.
        """
        valid = network in self.protocol.networks and language in ("fr", "en") and label in (
            "public", "internal", "confidential")
        # The checks read only the text (and the protocol): run before the transaction, so no row is locked
        # while spelling suggestions are computed.
        findings = self.run_checks(text, language=language, network=network, label=label) if valid else []
        link = self.card_link(mention_id)  # Slack calls: before the transaction
        author = notices.display_name(self.vigie.gateway, actor, self._names)  # named in others' DMs, not pinged

        def apply(s: Session, lang: str) -> str:
            mention = self.lock(s, mention_id)
            previous = self.current_draft(s, mention_id)
            self.check_allowed(wf.Action.submit_draft, s, actor=actor, mention=mention, draft=previous)
            if expected_base is not None and (previous.id if previous else 0) != expected_base:
                raise Refused("draft_changed")
            if not valid:
                raise Refused("invalid_draft")
            now = self.vigie.clock.now()
            if previous is not None:
                superseded = wf.superseded_state(wf.DraftState(previous.state))
                if superseded.value != previous.state:
                    self._set_draft(s, previous, state=superseded.value)
                    self._post_or_update_draft_card(s, mention, previous)
            draft = Draft(mention_id=mention_id, version=q.next_version(s, mention_id=mention_id), kind=kind,
                          author=actor, text=text, network=network, language=language, label=label,
                          state=wf.DraftState.pending.value, created_at=now, findings=findings)
            s.add(draft)
            s.flush()
            before = {"state": mention.state, "owner": mention.owner}
            self._set_mention(s, mention, state=wf.MentionState.in_review.value, owner=mention.owner or actor)
            self._audit(s, actor=actor, action="draft.submitted", mention=mention, before=before,
                        after={"draft": draft.id, "version": draft.version, "label": label, "network": network,
                               "findings": len(findings), "text": text})
            self._post_or_update_draft_card(s, mention, draft)
            self._tell_awaited(s, mention, draft, actor=actor, link=link, author=author)
            self._refresh_card(s, mention)
            return t("ack.draft", lang, version=draft.version, findings=len(findings))
        return self._run(actor, wf.Action.submit_draft.value, Target(mention=mention_id), apply, in_card=in_card)

    def card_link(self, mention_id: int) -> str | None:
        """The link to a mention's card, for a direct message about it (a Slack call: outside any transaction)."""
        with Session(self.vigie.engine) as s:
            mention = s.get(Mention, mention_id)
        return notices.card_link(self.vigie.gateway, mention, self._links) if mention is not None else None

    def _outside_grammar(self, text: str, language: str) -> list[checks_rules.Finding]:
        return [finding for checker in self.grammar for finding in checker(text, language)]

    def run_checks(self, text: str, *, language: str, network: str, label: str) -> list[dict[str, Any]]:
        """The findings on a draft (the same checks as `vigie check`), as the dicts a Draft row stores."""
        # The protocol's company words and the company dictionary's (words approvers added from the cards).
        policy = with_company_words(self.policy, self.vigie.engine)
        found = checks_rules.run_checks(text, language=language, network=network, label=label, policy=policy,
                                        grammar=self._outside_grammar if self.grammar else None)
        return [{"code": f.code, "start": f.start, "end": f.end, "text": f.text, "suggestions": list(f.suggestions),
                 "params": dict(f.params), "overridable": f.overridable} for f in found]

    def _tell_awaited(self, s: Session, mention: Mention, draft: Draft, *, actor: str, link: str | None,
                      author: str) -> None:
        """Ask the people whose approval is awaited, each by one direct message (excerpt, link to the card), the
        first time a version of this reply can be approved: a later version updates that message (the
        `draft.submitted` line) rather than pinging again; a version the checks block for good pings nobody;
        nobody is asked about their own draft. The thread says, without pinging, that approval is awaited."""
        failing = [f for f in draft.findings if not f.get("overridden")]
        if not all(f.get("overridable", True) for f in failing):
            return  # cannot be approved (e.g. confidential terms): nobody to ask yet
        approvals = [d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve"]  # type: ignore[arg-type]
        status = wf.approval_status(required=self.required_for(mention, s), approvals=approvals, author=draft.author,
                                    team=mention.team, people=self.people)
        awaited = sorted(wf.awaited_approvers(status=status, team=mention.team, people=self.people,
                                              author=draft.author) - set(approvals) - {actor, draft.author})
        if not awaited:
            return
        lang = self.protocol.language
        now = self.vigie.clock.now()
        team = blocks.escape(self.protocol.team(mention.team).name.get(lang))
        text = t("notify.approval", lang, id=mention.id, team=team, version=draft.version, author=author)
        context = alert_views.context_lines(excerpt_of=mention.text, card_url=link, lang=lang)
        for user in awaited:
            enqueue(s, kind="approval_dm", method="chat.postMessage", now=now, mention_id=mention.id,
                    dedupe_key=f"approval:{mention.id}:{user}",  # one ping per person and mention
                    args={"channel": user, "text": f"{text}\n{context}".strip(),
                          "blocks": alert_views.notice(text=text, context=context)})
        self._say_in_thread(s, mention, t("thread.awaited_quiet", lang, version=draft.version),
                            dedupe_key=f"awaited:{draft.id}")

    def review(self, *, draft_id: int, actor: str, kind: str, comment: str | None = None,
               in_card: bool = False) -> Outcome:
        """approve (comment = override reason when checks fail), request_changes or reject."""
        action = {"approve": wf.Action.approve, "request_changes": wf.Action.request_changes,
                  "reject": wf.Action.reject}[kind]
        # Checks run again at approval (the protocol's confidential terms or roster may have changed), before the
        # transaction: a draft's text never changes (a new version is a new row), and the hash below proves it.
        fresh: list[dict[str, Any]] | None = None
        checked_hash: str | None = None
        if kind == "approve":
            with Session(self.vigie.engine) as s:
                unlocked = s.get(Draft, draft_id)
            if unlocked is not None:
                fresh = self.run_checks(unlocked.text, language=unlocked.language, network=unlocked.network,
                                        label=unlocked.label)
                checked_hash = wf.text_hash(unlocked.text)

        def apply(s: Session, lang: str) -> str:
            draft, mention = self.lock_draft_and_mention(s, draft_id)
            current = self.current_draft(s, mention.id)  # type: ignore[arg-type]
            if current is None or current.id != draft.id:
                raise Refused("old_version")
            text_hash = wf.text_hash(draft.text)
            findings = draft.findings
            if fresh is not None:
                if checked_hash != text_hash:  # cannot happen while drafts are immutable: refuse rather than guess
                    raise Refused("old_version")
                findings = overridden(fresh, draft.findings, user=actor, reason=comment) \
                    if is_real_text(comment) else fresh
            self.check_allowed(action, s, actor=actor, mention=mention, draft=draft, reason=comment,
                               findings=findings)
            now = self.vigie.clock.now()
            override = comment if kind == "approve" and any(f.get("overridden") for f in findings) else None
            self._decided(s, ReviewDecision(draft_id=draft.id, user=actor, kind=kind, at=now,  # type: ignore[arg-type]
                                            comment=None if kind == "approve" else comment,
                                            override_reason=override, text_sha256=text_hash))
            approvals = [d.user for d in self.approvals_of(s, draft.id) if d.kind == "approve"]  # type: ignore[arg-type]
            status = wf.approval_status(required=self.required_for(mention, s), approvals=approvals,
                                        author=draft.author, team=mention.team, people=self.people)
            before = {"state": mention.state, "draft_state": draft.state}
            m_state, d_state = wf.next_states(action, mention_state=wf.MentionState(mention.state),
                                              draft_state=wf.DraftState(draft.state),
                                              approval_complete=status.complete)
            draft_values: dict[str, Any] = {"state": (d_state or wf.DraftState(draft.state)).value,
                                            "findings": findings}
            mention_values: dict[str, Any] = {"state": m_state.value}
            if draft_values["state"] == wf.DraftState.approved.value:
                draft_values["approved_sha256"] = text_hash  # every counted approval was of this exact text
                mention_values["approved_at"] = now
            compare_and_set(s, draft, expect={"state": before["draft_state"]}, values=draft_values)
            self._set_mention(s, mention, **mention_values)
            self._audit(s, actor=actor, action=f"draft.{kind}", mention=mention, before=before,
                        after={"state": mention.state, "draft": draft.id, "draft_state": draft.state,
                               "version": draft.version, "override": override, "text_sha256": text_hash},
                        reason=comment)
            chan_lang = self.protocol.language
            note = t(f"thread.{kind}", chan_lang, user=f"<@{actor}>", version=draft.version)
            if comment and kind != "approve":
                note = t("decision.with_comment", chan_lang, text=note, comment=blocks.escape(comment))
            if override:
                note += " " + t("decision.override", chan_lang, reason=blocks.escape(override))
            self._say_in_thread(s, mention, note)
            if draft.state == wf.DraftState.approved.value:
                self._say_in_thread(s, mention, t("thread.ready", chan_lang, version=draft.version))
                if self.protocol.publishing.mode == "webhook":
                    self._queue_webhook(s, mention, draft)
            self._post_or_update_draft_card(s, mention, draft)
            self._refresh_card(s, mention)
            if override:
                return t("ack.approve_override", lang, reason=blocks.escape(override))
            return t(f"ack.{kind}", lang)
        return self._run(actor, action.value, Target(draft=draft_id), apply, in_card=in_card)


def _same(finding: dict[str, Any]) -> tuple[Any, ...]:
    return finding.get("code"), finding.get("start"), finding.get("end"), finding.get("text")


def overridden(fresh: list[dict[str, Any]], stored: list[dict[str, Any]], *, user: str,
               reason: str | None) -> list[dict[str, Any]]:
    """The findings just checked, each overridable one marked overridden by `user` for `reason` (after the
    overrides the same finding already had on this draft, so the card says who overrode it and why)."""
    before = {_same(f): list(f.get("overrides") or []) for f in stored}
    return [{**f, "overridden": True, "overrides": [*before.get(_same(f), []), {"user": user, "reason": reason}]}
            if f["overridable"] else {**f, "overridden": False} for f in fresh]


def metadata(value: str | None) -> dict[str, Any]:
    """Parse a modal's private_metadata; anything odd gives {} (the server re-checks everything anyway)."""
    try:
        data = json.loads(value or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}
