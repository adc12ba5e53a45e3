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
from bot.slack.ids import Action
from bot.slack.text import slack_date
from bot.slack.views import cards as blocks
from bot.slack.views.digest import mention_ref
from bot.store import queries as q
from bot.store import rollups
from bot.store.audit import record_refusal
from bot.store.db import session_scope
from bot.store.locks import compare_and_set
from bot.store.models import AuditEvent, Crisis, CrisisSignal
from bot.usecases.escalation import Escalation
from bot.usecases.intake import BUCKET_MINUTES, volume_bucket

BUCKET = timedelta(minutes=BUCKET_MINUTES)
OVERLAP = timedelta(minutes=1)
# What makes a high-reach mention a crisis signal: listed negative words, or a negative tone (bot.domain.sentiment).
NEGATIVE_REASONS = frozenset({"severity.negative", "severity.tone", "severity.tone_strong"})

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


class CrisisDesk:
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
            if "severity.crisis_word" in codes:
                proposed += self._propose(f"words:{m.id}", "crisis_words", {"mention": m.id}, now)
            elif (m.reach or 0) >= cfg.high_reach and codes & NEGATIVE_REASONS:
                proposed += self._propose(f"reach:{m.id}", "high_reach", {"mention": m.id, "reach": m.reach}, now)
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
                    ongoing.details = {**ongoing.details, "seen": now.isoformat(),
                                       "recent": max(int(ongoing.details.get("recent", 0)), recent)}
                    s.add(ongoing)
                    return 0
        start = volume_bucket(now)
        return self._propose(f"spike:{int(start.timestamp())}", "spike",
                             {"recent": recent, "baseline": baseline, "start": start.isoformat(),
                              "seen": now.isoformat()}, now)

    def _propose(self, key: str, kind: str, details: dict, now: datetime) -> int:
        lang = self.protocol.language
        text = t(f"crisis.signal.{kind}", lang, **{k: v for k, v in details.items()})
        people = list(dict.fromkeys([*self.protocol.community_managers,
                                     *self.esc.on_call("decision_makers", now)]))
        message_blocks = [
            {"type": "section", "text": {"type": "mrkdwn", "text": f":rotating_light: {text}"}},
            {"type": "actions", "block_id": f"crisis:{key}"[:255], "elements": [{
                "type": "button", "action_id": Action.declare_crisis.value, "style": "danger", "value": kind,
                "text": {"type": "plain_text", "text": t("crisis.declare_button", lang)[:75]}}]},
        ]
        try:
            with session_scope(self.vigie.engine) as s:
                s.add(CrisisSignal(key=key, kind=kind, at=now, details=details))
                s.flush()
                for user in people:
                    enqueue(s, kind="crisis_signal", method="chat.postMessage", now=now,
                            dedupe_key=f"crisis-signal:{key}:{user}",
                            args={"channel": user, "text": text, "blocks": message_blocks})
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
        related = q.open_mentions(s, severities=("high", "critical"))
        chan_lang = self.protocol.language
        lines = [f"• {mention_ref(m.id, m.channel, m.relay_ts, chan_lang)} · {blocks.SEVERITY_EMOJI.get(m.severity, '')} "
                 f"{self.protocol.team(m.team).name.get(chan_lang)} · {blocks.excerpt(m.text, 100)}"
                 for m in related[:30]]
        text = t("crisis.declared", chan_lang, by=f"<@{crisis.declared_by}>", reason=blocks.escape(crisis.reason or "—"),
                 factor=int(cfg.sla_factor * 100))
        if lines:
            text += "\n" + t("crisis.related", chan_lang) + "\n" + "\n".join(lines)
        if cfg.holding_statement:
            statement = self.protocol.holding_statement(cfg.holding_statement)
            text += "\n" + t("crisis.holding", chan_lang, text=blocks.escape(statement.text.get(chan_lang)))
        enqueue(s, kind="crisis", method="chat.postMessage", now=now, dedupe_key=f"{key}:declared",
                args={"channel": channel, "text": text[:39000]})

    def catch_up(self) -> None:
        """A crisis declared by a process that died before opening its room: open it now (run by the sweep)."""
        with Session(self.vigie.engine) as s:
            waiting = q.crisis_waiting_for_room(s, declared_before=self.vigie.clock.now() - ROOM_GRACE)
        if waiting is not None:
            self.open_room(waiting)

    def end(self, *, by: str, summary: str | None, lang: str) -> str:
        if not access.may_declare_crisis(by, people=self.protocol.people):
            self._refused(by, "crisis.end", "not_cm")
            return t("refusal.not_cm", lang)
        now = self.vigie.clock.now()
        with session_scope(self.vigie.engine) as s:
            crisis = q.active_crisis(s, for_update=True)  # two people ending it at once: one finds it open
            if crisis is None:
                return t("cmd.crisis.none", lang)
            compare_and_set(s, crisis, expect={"ended_at": None}, values={"ended_at": now, "ended_by": by,
                                                                          "summary": summary})
            s.add(AuditEvent(at=now, actor=by, action="crisis.ended", mention_id=None, before=None,
                             after={"crisis": crisis.id}, reason=summary))
            received = q.count_received_since(s, since=crisis.declared_at)
            published = q.count_published_since(s, since=crisis.declared_at)
            signals = q.crisis_signals_since(s, since=crisis.declared_at - timedelta(days=1))
            chan_lang = self.protocol.language
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

    def _refused(self, actor: str, action: str, reason: str) -> None:
        record_refusal(self.vigie.engine, at=self.vigie.clock.now(), actor=actor, action=action, reason=reason)


def _when(at: datetime) -> str:
    return slack_date(at)
