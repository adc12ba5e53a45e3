"""SLA deadlines and the escalation ladder, swept from stored state.

Each open mention races one deadline (first response, then an approved answer, then publication) and climbs a
ladder of steps towards it. Each step is a `Reminder` row with a unique key (mention, stage, step) written in
the same transaction as its messages: a step is sent exactly once, with several instances or after a restart,
and a sweep after downtime catches up on every step missed, in order.

The sweep reads only what it must look at, so its cost follows what changed since the last one, not the open
mentions: each mention stores when its next step falls (`next_step_at`, bot.domain.deadlines.ladder_plan)
and the basis that time was worked out under (the protocol's deadlines and ladders, crisis or not). A sweep
reads the mentions whose step is due, those not worked out yet or changed since (a claim, a reroute, a raised
severity resets the time in the same write: bot.store.queries.ladder_reset), and those worked out under
another basis (a crisis declared or ended, a new protocol: every deadline moved). It handles them in chunks,
each chunk's times stored in one short transaction with a compare-and-set on what they were computed from.
A write that forgot the reset still meets the sweep at the stale time, which then recomputes it.

Non-critical steps fall in business hours by construction (their times are counted in business time);
round-the-clock severities count physical time. Outside business hours, a critical mention also goes
straight to the on-call community manager and decision maker, by direct message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.domain import deadlines as deadline_rules
from bot.domain import oncall as oncall_rules
from bot.domain import sla as sla_rules
from bot.domain.deadlines import STAGES, Race
from bot.domain.workflow import OPEN_STATES, may_escalate
from bot.i18n import t
from bot.outbox.queue import enqueue
from bot.protocol.load import oncall_rotation
from bot.slack.text import escape, slack_date
from bot.slack.views import alerts as alert_views
from bot.store import queries as q
from bot.store.audit import record_refusal
from bot.store.db import session_scope
from bot.store.locks import lock_mention
from bot.store.models import AuditEvent, Mention, Reminder
from bot.usecases import notices
from bot.usecases.intake import Vigie

log = structlog.get_logger(__name__)
__all__ = ["OFF_HOURS_STEP", "STAGES", "Escalated", "Escalation", "Race"]
OFF_HOURS_STEP = "off-hours"
# Mentions read, handled and scheduled together: one short transaction stores each chunk's next step times.
SWEEP_CHUNK = 200


@dataclass(frozen=True)
class Escalated:
    ok: bool
    refusal: str | None  # a reason code (see bot.domain.workflow) when refused
    told: list[str] = field(default_factory=list)
    already: bool = False  # escalated by hand in this minute already: nothing sent twice


class Escalation:
    def __init__(self, vigie: Vigie):
        self.vigie = vigie
        self.protocol = vigie.protocol
        self.people = vigie.protocol.people
        self._links: dict[tuple[str, str], str] = {}
        self._names: dict[str, str] = {}
        self._fingerprint: str | None = None

    def card_link(self, mention: Mention) -> str | None:
        """The link to a mention's relay card, or None (a Slack call: never inside a transaction)."""
        return notices.card_link(self.vigie.gateway, mention, self._links)

    def dm_context(self, mention: Mention, link: str | None) -> str:
        """What a direct message about a mention carries: its excerpt and the link to its card."""
        return alert_views.context_lines(excerpt_of=mention.text, card_url=link, lang=self.protocol.language)

    @property
    def calendar(self) -> sla_rules.BusinessCalendar:
        return self.protocol.calendar

    def deadline_of(self, mention: Mention) -> tuple[str, datetime, bool] | None:
        """(stage, deadline, late) for the relay card, from stored state; None once the mention is closed."""
        with Session(self.vigie.engine) as s:
            race = self.race(mention, crisis=q.is_crisis_active(s))
        if race is None:
            return None
        return race.stage, race.deadline, self.vigie.clock.now() >= race.deadline

    def rotation(self, role: str) -> oncall_rules.Rotation | None:
        return oncall_rotation(self.protocol, role)

    # --- who is on call -------------------------------------------------------------------------

    def on_call(self, role: str, at: datetime) -> list[str]:
        """The on-call person for a role (rotation and overrides), or everyone in that role as a fallback."""
        everyone = list(self.protocol.community_managers if role == "community_managers"
                        else self.protocol.decision_makers)
        with Session(self.vigie.engine) as s:
            overrides = [oncall_rules.Override(user=o.user, start=o.start, end=o.end)
                         for o in q.oncall_overrides(s, role=role)]
        return list(oncall_rules.on_call_or_everyone(at, self.rotation(role), overrides, everyone))

    # --- deadlines ------------------------------------------------------------------------------

    def crisis_factor(self, crisis: bool) -> float | None:
        """The factor every SLA is multiplied by now (None: no crisis), for `bot.domain.deadlines`."""
        return self.protocol.crisis.sla_factor if crisis else None

    def race(self, mention: Mention, *, crisis: bool) -> Race | None:
        """Which deadline this mention is racing now, or None when it is closed (pure: reads the row only)."""
        if mention.state not in OPEN_STATES:
            return None
        # Milestones are recorded on the mention as they happen; the rule (crisis factor included) is the one
        # intake used for the deadline it stored.
        stage = deadline_rules.stage_of(responded=mention.first_response_at is not None or mention.owner is not None,
                                        approved=mention.approved_at is not None)
        cfg = self.protocol.sla_for(mention.team, mention.severity)
        return deadline_rules.race(stage=stage, start=mention.received_at,
                                   durations={s: getattr(cfg, s) for s in STAGES}, calendar=self.calendar,
                                   round_the_clock=cfg.round_the_clock, crisis_factor=self.crisis_factor(crisis))

    def time_left(self, mention: Mention, now: datetime, *, crisis: bool | None = None) -> tuple[str, timedelta] | None:
        """Which deadline the mention races and the business time left. Pass `crisis` when asking for many
        mentions at once: otherwise each call asks the database."""
        if crisis is None:
            with Session(self.vigie.engine) as s:
                crisis = q.is_crisis_active(s)
        race = self.race(mention, crisis=crisis)
        if race is None:
            return None
        return race.stage, sla_rules.time_left(now, race.deadline, self.calendar, round_the_clock=race.round_the_clock)

    # --- the sweep ------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Send every ladder step that is due; return how many were sent."""
        now = self.vigie.clock.now()
        with Session(self.vigie.engine) as s:
            crisis = q.is_crisis_active(s)
            ids = q.sweep_candidates(s, now=now, basis=self.basis(crisis))
        return sum(self._sweep_chunk(ids[k:k + SWEEP_CHUNK], now, crisis) for k in range(0, len(ids), SWEEP_CHUNK))

    def basis(self, crisis: bool) -> str:
        """What stored next step times are worked out under: the protocol's deadlines, ladders and calendar, and
        whether a crisis is declared (it shortens every deadline). A time stored under another basis is stale."""
        if self._fingerprint is None:
            timing = self.protocol.model_dump(mode="json", include={"timezone", "business_hours", "sla", "escalation"})
            timing["crisis_factor"] = self.protocol.crisis.sla_factor
            self._fingerprint = hashlib.sha256(json.dumps(timing, sort_keys=True).encode()).hexdigest()[:16]
        return f"{'crisis' if crisis else 'calm'}:{self._fingerprint}"

    def _sweep_chunk(self, ids: list[int], now: datetime, crisis: bool) -> int:
        sent = 0
        basis = self.basis(crisis)
        with Session(self.vigie.engine) as s:
            mentions = q.sweep_rows(s, mention_ids=ids)
            done = q.reminders_of(s, mention_ids=ids)
        schedule: list[tuple[Mention, datetime | None, str | None]] = []
        for mention in mentions:
            race = self.race(mention, crisis=crisis)
            if race is None:  # closed: never looked at again
                schedule.append((mention, None, None))
                continue
            off_hours = mention.severity == "critical" and not sla_rules.is_open(mention.received_at, self.calendar)
            if off_hours and (mention.id, "alert", OFF_HOURS_STEP) not in done:
                sent += self._send(mention, "alert", OFF_HOURS_STEP, mention.received_at,
                                   ["oncall_community_manager", "oncall_decision_maker"], race, now)
            already = {step for (mid, stage, step) in done if mid == mention.id and stage == race.stage}
            due, later = deadline_rules.ladder_plan(race, self.ladder(mention.severity), self.calendar, now=now,
                                                    sent=already)
            # Each step is sent here or was by another instance (its unique key); an error stops the chunk before
            # its times are stored, so the next sweep tries again.
            for at, step in due:
                sent += self._send(mention, race.stage, step.key, at, list(step.notify), race, now)
            schedule.append((mention, later, basis))
        if sent:  # the outbox sends this chunk's messages while the sweep goes on
            self.vigie.on_commit()
        with session_scope(self.vigie.engine) as s:
            q.set_next_steps(s, schedule)
        return sent

    def ladder(self, severity: str) -> list[sla_rules.LadderStep]:
        return [sla_rules.LadderStep(key=s.key, at_fraction=s.at_fraction, after_deadline=s.after_deadline,
                                     notify=tuple(s.notify)) for s in self.protocol.ladder_for(severity)]

    def recipients(self, mention: Mention, notify: list[str], at: datetime) -> tuple[list[str], list[str]]:
        """(people to mention in the thread, people to message directly)."""
        team = self.protocol.team(mention.team)
        return sla_rules.who_hears(notify, owner=mention.owner, team_lead=team.lead, team_experts=team.experts,
                                   community_managers=self.protocol.community_managers,
                                   decision_makers=self.protocol.decision_makers,
                                   on_call=lambda role: self.on_call(role, at))

    def _send(self, mention: Mention, stage: str, step: str, due: datetime, notify: list[str], race: Race | None,
              now: datetime) -> int:
        link = self.card_link(mention)  # before the transaction: a Slack call
        try:
            with session_scope(self.vigie.engine) as s:
                self._write_step(s, mention, stage, step, due, notify, race, now, link=link)
        except IntegrityError:  # the unique key: a second instance or a second sweep stops here
            return 0
        if race is not None and due >= race.deadline and step != OFF_HOURS_STEP:
            with session_scope(self.vigie.engine) as s:
                self.vigie.queue_card_refresh(s, mention, dedupe_key=f"card-late:{mention.id}:{stage}")
        return 1

    def _write_step(self, s: Session, mention: Mention, stage: str, step: str, due: datetime, notify: list[str],
                    race: Race | None, now: datetime, *, by: str | None = None, reason: str | None = None,
                    link: str | None = None, by_name: str | None = None) -> list[str]:
        """The step's row and its messages, in the caller's transaction; returns who was told. Nobody is
        pinged about their own escalation; each direct message names nobody else and carries the mention's
        excerpt and the link to its card."""
        in_thread, direct = self.recipients(mention, notify, now)
        in_thread, direct = [u for u in in_thread if u != by], [u for u in direct if u != by]
        lang = self.protocol.language
        deadline = slack_date(race.deadline) if race else "—"
        if by is not None:
            key = "sla.manual"
        elif step == OFF_HOURS_STEP:
            key = "sla.alert"
        else:
            key = "sla.late" if race is not None and due >= race.deadline else "sla.reminder"
        params: dict[str, Any] = {"users": " ".join(f"<@{u}>" for u in in_thread + direct), "id": mention.id,
                                  "stage": t(f"stage.{race.stage if race else stage}", lang), "deadline": deadline,
                                  "severity": t(f"severity.{mention.severity}", lang),
                                  "by": (by_name or f"<@{by}>") if by else "", "reason": escape(reason or "—")}
        text = t(key, lang, **params)
        s.add(Reminder(mention_id=mention.id, stage=stage, step=step, due_at=due, sent_at=now,  # type: ignore[arg-type]
                       recipients=in_thread + direct))
        s.flush()
        channel = self.protocol.team(mention.team).channel
        enqueue(s, kind="reminder", method="chat.postMessage", now=now, mention_id=mention.id,
                dedupe_key=f"reminder:{mention.id}:{stage}:{step}",
                args={"channel": channel, "text": text, "thread_ts_from_outbox": mention.relay_outbox_id})
        if direct:
            dm_text = t(f"notify.dm.{key.split('.', 1)[1]}", lang, **{
                **params, "team": escape(self.protocol.team(mention.team).name.get(lang))})
            context = self.dm_context(mention, link)
            for user in direct:
                enqueue(s, kind="reminder_dm", method="chat.postMessage", now=now, mention_id=mention.id,
                        dedupe_key=f"reminder:{mention.id}:{stage}:{step}:{user}",
                        args={"channel": user, "text": f"{dm_text}\n{context}".strip(),
                              "blocks": alert_views.notice(text=dm_text, context=context)})
        log.info("escalation_step", mention_id=mention.id, stage=stage, step=step, recipients=in_thread + direct)
        return in_thread + direct

    # --- by hand ------------------------------------------------------------------------------

    def escalate_now(self, *, mention_id: int, by: str, reason: str | None) -> Escalated:
        """`/vigie escalate`: the team lead, the community managers and the on-call decision maker, now.

        One transaction with the mention locked; the step's key is the mention and the minute, so a replayed or
        double-sent command escalates once (and says so). Recorded in the audit trail, refusals included.
        """
        now = self.vigie.clock.now()
        step = f"manual:{now.astimezone(UTC):%Y-%m-%dT%H:%M}"
        notify = ["team_lead", "community_managers", "oncall_decision_maker"]
        refusal: str | None = None
        told: list[str] = []
        already = False
        with Session(self.vigie.engine) as s:
            unlocked = s.get(Mention, mention_id)
        link = self.card_link(unlocked) if unlocked is not None else None  # Slack calls: before the transaction
        by_name = notices.display_name(self.vigie.gateway, by, self._names)  # named, not pinged about their act
        with session_scope(self.vigie.engine) as s:
            mention = lock_mention(s, mention_id)
            if mention is None:
                refusal = "unknown_mention"
            elif mention.state not in OPEN_STATES:
                refusal = f"state:{mention.state}"
            elif not may_escalate(by, team=mention.team, people=self.people):
                refusal = "not_team_member"
            elif q.step_sent(s, mention_id=mention_id, stage="manual", step=step):
                already = True
            else:
                race = self.race(mention, crisis=q.is_crisis_active(s))
                told = self._write_step(s, mention, "manual", step, now, notify, race, now, by=by, reason=reason,
                                        link=link, by_name=by_name)
                s.add(AuditEvent(at=now, actor=by, action="mention.escalated", mention_id=mention_id, before=None,
                                 after={"step": step, "told": told}, reason=reason))
        if refusal is not None:
            record_refusal(self.vigie.engine, at=now, actor=by, action="escalate", reason=refusal,
                           mention_id=mention_id, after={"mention": mention_id})
            return Escalated(False, refusal)
        if not already:
            self.vigie.on_commit()
        return Escalated(True, None, told, already)

    def next_handover(self, role: str, at: datetime) -> datetime:
        rotation = self.rotation(role)
        return oncall_rules.next_handover(at, rotation) if rotation else at + timedelta(days=7)
