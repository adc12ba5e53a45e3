"""Crisis mode: signals that propose a crisis, declaring it, and standing down.

Signals are evaluated by the sweep, incrementally: a volume spike in the last window against the baseline
rate (from per-5-minute counters the sweep keeps up to date), and, among the mentions received since the last sweep,
one with crisis words or a high-reach negative one. Each signal is a row with a
unique key (a spike's first 5-minute bucket, or its mention), so it is proposed once, to the community managers
and the on-call decision maker, with a button to declare the crisis. A spike is one signal for as long as it
lasts: while the sweeps keep seeing it (with gaps shorter than the window), its row is the one updated, however
many clock hours it spans; a new spike is one seen after a whole window without any.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.domain import access
from bot.i18n import t
from bot.outbox.queue import enqueue
from bot.slack.gateway import SlackCallError
from bot.slack.text import slack_date
from bot.slack.views import alerts as alert_views
from bot.slack.views import cards as blocks
from bot.slack.views.digest import mention_ref
from bot.store import queries as q
from bot.store import rollups
from bot.store.audit import record_refusal
from bot.store.db import session_scope
from bot.store.locks import compare_and_set
from bot.store.models import AuditEvent, Crisis, CrisisSignal, Mention
from bot.usecases.crisis_alerts import CrisisAlerts, Decided
from bot.usecases.escalation import Escalation
from bot.usecases.intake import BUCKET_MINUTES, volume_bucket

BUCKET = timedelta(minutes=BUCKET_MINUTES)
OVERLAP = timedelta(minutes=1)
# What makes a high-reach mention a crisis signal: listed negative words, or a negative tone (bot.domain.sentiment).
NEGATIVE_REASONS = frozenset({"severity.negative", "severity.tone", "severity.tone_strong", "severity.tone_vendor"})

log = structlog.get_logger(__name__)


def is_spike(*, recent: int, baseline: int, window: timedelta, baseline_span: timedelta, factor: float,
             min_mentions: int) -> bool:
    """More than `factor` times the baseline rate in the window, and enough mentions to mean something."""
    expected = baseline * (window / baseline_span) if baseline_span > timedelta(0) else 0.0
    return recent >= min_mentions and recent > factor * max(expected, 1.0)


ROOM_GRACE = timedelta(seconds=30)  # the declaring request opens the room at once; the sweep, after this


class _AlreadyOpen(Exception):
    pass


@dataclass(frozen=True)
class Declared:
    ok: bool
    text: str  # what the person is told at once
    crisis_id: int | None = None  # then `open_room(crisis_id)`, after answering Slack


__all__ = ["CrisisDesk", "Decided", "Declared", "is_spike"]


class CrisisDesk(CrisisAlerts):
    def __init__(self, escalation: Escalation):
        self.esc = escalation
        self.vigie = escalation.vigie
        self.protocol = escalation.protocol
        self._checked_at: datetime | None = None  # when this process last looked at new mentions

    def count_volume(self, s: Session, now: datetime, since: datetime) -> None:
        """Bring the 5-minute counters up to date from the last bucket counted on (`bot.store.rollups`): one
        grouped count and one short write. The counting is done here, by the sweep, rather than at intake,
        where every request would update the same row and wait for each other's commit."""
        rollups.count_volume(self.vigie.engine, now=now, since=since)

    @staticmethod
    def _volume(s: Session, start: datetime, end: datetime) -> int:
        return q.volume_between(s, start=start, end=end)

    def active(self) -> Crisis | None:
        with Session(self.vigie.engine) as s:
            return q.active_crisis(s)

    # --- signals ------------------------------------------------------------------------------

    def detect(self) -> int:
        """Propose a crisis for each new signal (none while a crisis is declared)."""
        if self.active() is not None:
            return 0
        cfg = self.protocol.crisis
        now = self.vigie.clock.now()
        window, baseline_span = cfg.spike.window, cfg.spike.baseline
        proposed = 0
        with Session(self.vigie.engine) as s:
            # Volumes come from 5-minute counters kept up to date from the mentions received since the last
            # sweep: a sum over a few hundred rows, not a count of a week of mentions at every sweep. The
            # window's edges are rounded to buckets.
            self.count_volume(s, now, since=now - window - baseline_span)
            recent = self._volume(s, volume_bucket(now - window) + BUCKET, now + BUCKET)
            baseline = self._volume(s, volume_bucket(now - window - baseline_span) + BUCKET,
                                    volume_bucket(now - window) + BUCKET)
            # Only mentions received since the last sweep (with a margin for transactions still committing
            # then): each signal has its key, so looking twice, or again after a restart, proposes nothing
            # twice. Copies in a storm are not candidates: their story's first mention is.
            since = now - window if self._checked_at is None else max(now - window, self._checked_at - OVERLAP)
            candidates = q.mentions_received_since(s, since=since, states=("open", "claimed", "in_review"))
        self._checked_at = now
        if is_spike(recent=recent, baseline=baseline, window=window, baseline_span=baseline_span,
                    factor=cfg.spike.factor, min_mentions=cfg.spike.min_mentions):
            proposed += self._spike(recent=recent, baseline=baseline, window=window, now=now)
        for m in candidates:
            codes = {r["code"] for r in m.reasons}
            since_m = {"from": m.received_at.isoformat()}
            if "severity.crisis_word" in codes:
                proposed += self._propose(f"words:{m.id}", "crisis_words", {"mention": m.id, **since_m}, now,
                                          mention=m)
            elif (m.reach or 0) >= cfg.high_reach and codes & NEGATIVE_REASONS:
                proposed += self._propose(f"reach:{m.id}", "high_reach",
                                          {"mention": m.id, "reach": m.reach, **since_m}, now, mention=m)
        if proposed:
            self.vigie.on_commit()
        return proposed

    def _spike(self, *, recent: int, baseline: int, window: timedelta, now: datetime) -> int:
        """Propose the spike unless it is the one already proposed, still going on (seen less than a window
        ago): then only its row is brought up to date. Its key is its first bucket, so two instances seeing
        it start in the same 5 minutes propose it once."""
        with session_scope(self.vigie.engine) as s:
            ongoing = q.latest_crisis_signal(s, kind="spike")
            if ongoing is not None:
                seen = datetime.fromisoformat(ongoing.details.get("seen") or ongoing.at.isoformat())
                if seen > now - window:
                    grew = recent > int(ongoing.details.get("recent", 0))
                    ongoing.details = {**ongoing.details, "seen": now.isoformat(),
                                       "recent": max(int(ongoing.details.get("recent", 0)), recent)}
                    s.add(ongoing)
                    if grew and not ongoing.details.get("decision"):  # every copy shows the new count
                        self.refresh_alerts(s, ongoing, now)
                    return 0
        start = volume_bucket(now)
        return self._propose(f"spike:{int(start.timestamp())}", "spike",
                             {"recent": recent, "baseline": baseline, "start": start.isoformat(),
                              "from": (now - window).isoformat(), "seen": now.isoformat()}, now)

    def _propose(self, key: str, kind: str, details: dict, now: datetime, *, mention: Mention | None = None) -> int:
        people = list(dict.fromkeys([*self.protocol.community_managers,
                                     *self.esc.on_call("decision_makers", now)]))
        context = self.alert_context(mention)  # before the transaction: it may ask Slack for the card's link
        try:
            with session_scope(self.vigie.engine) as s:
                signal = CrisisSignal(key=key, kind=kind, at=now, details={**details, "context": context})
                s.add(signal)
                s.flush()
                self.queue_alerts(s, signal, people, now)
        except IntegrityError:
            return 0
        log.info("crisis_proposed", key=key, kind=kind)
        return 1

    # --- declaring and standing down ----------------------------------------------------------

    def declare(self, *, by: str, reason: str | None, lang: str) -> Declared:
        """Record the crisis (one at a time: a unique index over open crises), in one short transaction.

        The room (the crisis channel, the invitations, the announcement) is `open_room`, after the caller has
        answered Slack: creating a channel is a Slack call, never made while rows are locked. If the process
        dies in between, the sweep opens the room (`catch_up`).
        """
        if not access.may_declare_crisis(by, people=self.protocol.people):
            self._refused(by, "crisis.declare", "not_cm")
            return Declared(False, t("refusal.not_cm", lang))
        now = self.vigie.clock.now()
        try:
            with session_scope(self.vigie.engine) as s:
                if q.is_crisis_active(s):
                    raise _AlreadyOpen
                crisis = Crisis(declared_at=now, declared_by=by, reason=reason, channel=self.protocol.crisis.channel)
                s.add(crisis)
                s.flush()  # the unique index: a second declaration in the same instant stops here
                self.take_over_signals(s, crisis, now)  # its alerts, updated for every recipient
                s.add(AuditEvent(at=now, actor=by, action="crisis.declared", mention_id=None, before=None,
                                 after={"crisis": crisis.id}, reason=reason))
        except (_AlreadyOpen, IntegrityError):
            self._refused(by, "crisis.declare", "already_open")
            return Declared(False, t("crisis.already", lang))
        log.info("crisis_declared", crisis=crisis.id, by=by)
        return Declared(True, t("crisis.declared_pending", lang), crisis.id)

    def open_room(self, crisis_id: int, *, lang: str | None = None) -> str:
        """The crisis channel (used, or created), the decision makers invited, the announcement with the
        related mentions. Safe to run twice: every message has a key per crisis. Returns the sentence for the
        person who declared."""
        lang = lang or self.protocol.language
        cfg = self.protocol.crisis
        with Session(self.vigie.engine) as s:
            crisis = s.get(Crisis, crisis_id)
        if crisis is None:
            return t("cmd.crisis.none", lang)
        channel = crisis.channel
        if channel is None and self.vigie.gateway is not None:
            name = f"{cfg.channel_prefix}{crisis.declared_at.astimezone(self.protocol.tz):%Y-%m-%d-%H%M}"
            try:
                channel = self.vigie.gateway.call("conversations.create", name=name)["channel"]["id"]
            except (SlackCallError, KeyError) as exc:
                log.warning("crisis_channel_not_created", error=str(exc))
        channel = channel or self.protocol.team(self.protocol.default_team).channel
        now = self.vigie.clock.now()
        with session_scope(self.vigie.engine) as s:
            crisis = s.get(Crisis, crisis_id)
            assert crisis is not None
            if crisis.channel is None:
                compare_and_set(s, crisis, expect={"channel": None}, values={"channel": channel})
            channel = crisis.channel or channel
            self._announce(s, crisis, channel=channel, now=now)
        self.vigie.on_commit()
        return t("crisis.declared_ack", lang, channel=channel if channel.startswith("#") else f"<#{channel}>")

    def _announce(self, s: Session, crisis: Crisis, *, channel: str, now: datetime) -> None:
        cfg = self.protocol.crisis
        key = f"crisis:{crisis.id}"
        people = list(dict.fromkeys([crisis.declared_by, *self.protocol.decision_makers]))
        if self.protocol.decision_makers and channel.startswith(("C", "G")):
            enqueue(s, kind="crisis", method="conversations.invite", now=now, dedupe_key=f"{key}:invite",
                    args={"channel": channel, "users": ",".join(people)})
        chan_lang = self.protocol.language
        triggered, total = self.triggering_mentions(s, crisis)
        shown = {m.id for m in triggered}
        related = [m for m in q.open_mentions(s, severities=("high", "critical")) if m.id not in shown]

        def line(m: Mention) -> str:
            return (f"• {mention_ref(m.id, m.channel, m.relay_ts, chan_lang)} · "
                    f"{blocks.SEVERITY_EMOJI.get(m.severity, '')} {self.protocol.team(m.team).name.get(chan_lang)} · "
                    f"{blocks.excerpt(m.text, 100)}")

        text = t("crisis.declared", chan_lang, by=f"<@{crisis.declared_by}>", reason=blocks.escape(crisis.reason or "—"),
                 factor=int(cfg.sla_factor * 100))
        if triggered:
            text += "\n" + t("crisis.triggered", chan_lang) + "\n" + "\n".join(map(line, triggered))
            if total > len(triggered):
                text += "\n" + blocks.plural("crisis.more", total - len(triggered), chan_lang)
        if related:
            text += "\n" + t("crisis.related", chan_lang) + "\n" + "\n".join(map(line, related[:30]))
        if cfg.holding_statement:
            statement = self.protocol.holding_statement(cfg.holding_statement)
            text += "\n" + t("crisis.holding", chan_lang, text=blocks.escape(statement.text.get(chan_lang)))
        enqueue(s, kind="crisis", method="chat.postMessage", now=now, dedupe_key=f"{key}:declared",
                args={"channel": channel, "text": text[:39000],
                      "blocks": alert_views.announcement(text, crisis_id=crisis.id, lang=chan_lang)})  # type: ignore[arg-type]

    def catch_up(self) -> None:
        """A crisis declared by a process that died before opening its room: open it now (run by the sweep)."""
        with Session(self.vigie.engine) as s:
            waiting = q.crisis_waiting_for_room(s, declared_before=self.vigie.clock.now() - ROOM_GRACE)
        if waiting is not None:
            self.open_room(waiting)

    def end(self, *, by: str, summary: str | None, lang: str, crisis_id: int | None = None) -> str:
        """Stand down. `crisis_id`: the crisis a « Lever la crise » button belongs to (an old announcement's
        button never ends a later crisis)."""
        if not access.may_declare_crisis(by, people=self.protocol.people):
            self._refused(by, "crisis.end", "not_cm")
            return t("refusal.not_cm", lang)
        now = self.vigie.clock.now()
        with session_scope(self.vigie.engine) as s:
            crisis = q.active_crisis(s, for_update=True)  # two people ending it at once: one finds it open
            if crisis_id is not None and (crisis is None or crisis.id != crisis_id):
                return t("crisis.alert.stale", lang)
            if crisis is None:
                return t("cmd.crisis.none", lang)
            compare_and_set(s, crisis, expect={"ended_at": None}, values={"ended_at": now, "ended_by": by,
                                                                          "summary": summary})
            s.add(AuditEvent(at=now, actor=by, action="crisis.ended", mention_id=None, before=None,
                             after={"crisis": crisis.id}, reason=summary))
            since = self.counted_from(s, crisis)  # from the first signal's start, not only since the declaration
            received = q.count_received_since(s, since=since)
            published = q.count_published_since(s, since=since)
            signals = self.triggering_signals(s, crisis)
            chan_lang = self.protocol.language
            self._close_announcement(s, crisis, by=by, now=now)
            timeline = [f"• {_when(sig.at)} — {t(f'crisis.kind.{sig.kind}', chan_lang)}" for sig in signals]
            timeline += [f"• {_when(crisis.declared_at)} — {t('crisis.kind.declared', chan_lang)} (<@{crisis.declared_by}>)",
                         f"• {_when(now)} — {t('crisis.kind.ended', chan_lang)} (<@{by}>)"]
            text = t("crisis.ended", chan_lang, received=received, published=published,
                     summary=blocks.escape(summary or "—")) + "\n" + "\n".join(timeline)
            enqueue(s, kind="crisis", method="chat.postMessage", now=now, dedupe_key=f"crisis:{crisis.id}:ended",
                    args={"channel": crisis.channel or self.protocol.team(self.protocol.default_team).channel,
                          "text": text[:39000]})
        self.vigie.on_commit()
        return t("crisis.ended_ack", lang)

    def _close_announcement(self, s: Session, crisis: Crisis, *, by: str, now: datetime) -> None:
        """The announcement loses its « Lever la crise » button and says who stood down, and when."""
        posted = q.outbox_by_key(s, f"crisis:{crisis.id}:declared")
        if posted is None:
            return
        lang = self.protocol.language
        text = str(posted.payload.get("text", ""))
        outcome = t("crisis.alert.ended", lang, by=f"<@{by}>", at=_when(now))
        enqueue(s, kind="crisis_update", method="chat.update", now=now, dedupe_key=f"crisis:{crisis.id}:closed",
                args={"channel": posted.channel, "ts_from_outbox": posted.id, "text": f"{text}\n{outcome}"[:39000],
                      "blocks": alert_views.announcement(text, crisis_id=None, lang=lang, outcome=outcome)})

    def _refused(self, actor: str, action: str, reason: str) -> None:
        record_refusal(self.vigie.engine, at=self.vigie.clock.now(), actor=actor, action=action, reason=reason)


def _when(at: datetime) -> str:
    return slack_date(at)
