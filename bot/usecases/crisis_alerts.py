"""Crisis alerts as people see them: the direct message each recipient gets, kept true in place.

A signal (`CrisisSignal`) remembers the outbox row of every alert it sent (`details["dms"]`), so when someone
decides — declares the crisis, or says « Ce n'est pas une crise » — every recipient's copy is updated
(`chat.update`, queued in the transaction of the decision): the buttons go, a line says who decided and when.
The decision is written on the signal (`details["decision"]`), under its row lock, so two people deciding at
once make one decision; the second is told what the first decided. A declared crisis lists the mentions of the
signals it took over (`details["decision"]["crisis"]`), and its summary counts the mentions from the first
signal's start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlmodel import Session

from bot.domain import access
from bot.i18n import t
from bot.outbox.queue import enqueue
from bot.slack.text import slack_date
from bot.slack.views import alerts as views
from bot.slack.views import cards as blocks
from bot.store import queries as q
from bot.store.db import session_scope
from bot.store.models import AuditEvent, Crisis, CrisisSignal, Mention

if TYPE_CHECKING:
    from bot.protocol.schema import Protocol
    from bot.usecases.escalation import Escalation
    from bot.usecases.intake import Vigie

log = structlog.get_logger(__name__)
LOOK_BACK = timedelta(days=1)  # a signal older than this is not taken over by a declaration
LISTED = 30  # mentions listed in the announcement (the rest are counted)


@dataclass(frozen=True)
class Decided:
    ok: bool
    text: str


def spike_words(details: dict[str, Any], *, window: timedelta, baseline_span: timedelta, lang: str) -> str:
    """A spike said in plain words: how many mentions in how long, and how many usually come in that time."""
    usual = round(int(details.get("baseline", 0)) * (window / baseline_span)) if baseline_span else 0
    return t("crisis.alert.spike", lang, recent=blocks.number(int(details.get("recent", 0)), lang),
             window=duration_words(window, lang), usual=blocks.number(usual, lang))


def duration_words(span: timedelta, lang: str) -> str:
    """« 1 heure », « 90 minutes », « 2 jours »: the largest whole unit, in words."""
    from babel.units import format_unit  # here: babel's units module is slow to import

    minutes = max(1, round(span.total_seconds() / 60))
    for unit, size in (("duration-day", 1440), ("duration-hour", 60), ("duration-minute", 1)):
        if minutes % size == 0:
            return format_unit(minutes // size, unit, length="long", locale=lang)
    return format_unit(minutes, "duration-minute", length="long", locale=lang)


class CrisisAlerts:
    """Part of `bot.usecases.crisis.CrisisDesk` (which sets these attributes)."""

    vigie: Vigie
    protocol: Protocol
    esc: Escalation

    # --- the alert ----------------------------------------------------------------------------

    def alert_text(self, kind: str, details: dict[str, Any]) -> str:
        lang = self.protocol.language
        if kind == "spike":
            spike = self.protocol.crisis.spike
            return spike_words(details, window=spike.window, baseline_span=spike.baseline, lang=lang)
        return t(f"crisis.signal.{kind}", lang, **details)

    def alert_context(self, mention: Mention | None) -> str:
        """The mention's excerpt and the link to its card (asks Slack for the link: never in a transaction)."""
        if mention is None:
            return ""
        return views.context_lines(excerpt_of=mention.text, card_url=self.esc.card_link(mention),
                                   lang=self.protocol.language)

    def queue_alerts(self, s: Session, signal: CrisisSignal, people: Iterable[str], now: datetime) -> None:
        """One direct message per person, each remembered on the signal (to be updated in place later)."""
        lang = self.protocol.language
        text = self.alert_text(signal.kind, signal.details)
        context = signal.details.get("context", "")
        message = views.crisis_alert(signal_id=signal.id, text=text, context=context, lang=lang)  # type: ignore[arg-type]
        dms = {user: enqueue(s, kind="crisis_signal", method="chat.postMessage", now=now,
                             dedupe_key=f"crisis-signal:{signal.key}:{user}",
                             args={"channel": user, "text": text, "blocks": message})
               for user in people}
        signal.details = {**signal.details, "dms": dms}
        s.add(signal)

    def refresh_alerts(self, s: Session, signal: CrisisSignal, now: datetime) -> None:
        """A spike that grows: every copy shows the new count (buttons kept, nobody pinged again)."""
        lang = self.protocol.language
        text = self.alert_text(signal.kind, signal.details)
        message = views.crisis_alert(signal_id=signal.id, text=text,  # type: ignore[arg-type]
                                     context=signal.details.get("context", ""), lang=lang)
        for user, outbox_id in (signal.details.get("dms") or {}).items():
            enqueue(s, kind="crisis_signal_update", method="chat.update", now=now,
                    dedupe_key=f"crisis-grew:{signal.id}:{signal.details.get('recent')}:{user}"[:200],
                    args={"channel": user, "ts_from_outbox": outbox_id, "text": text, "blocks": message})

    def _close_alerts(self, s: Session, signal: CrisisSignal, outcome: str, now: datetime) -> None:
        text = self.alert_text(signal.kind, signal.details)
        message = views.closed(text=text, context=signal.details.get("context", ""), outcome=outcome)
        for user, outbox_id in (signal.details.get("dms") or {}).items():
            enqueue(s, kind="crisis_signal_update", method="chat.update", now=now,
                    dedupe_key=f"crisis-closed:{signal.id}:{user}",
                    args={"channel": user, "ts_from_outbox": outbox_id, "text": f"{text}\n{outcome}",
                          "blocks": message})

    def _outcome(self, decision: dict[str, Any]) -> str:
        lang = self.protocol.language
        at = slack_date(datetime.fromisoformat(decision["at"]))
        key = "crisis.alert.declared" if decision["kind"] == "declared" else "crisis.alert.dismissed"
        return t(key, lang, by=f"<@{decision['by']}>", at=at)

    def _decide(self, s: Session, signal: CrisisSignal, *, kind: str, by: str, now: datetime,
                crisis: int | None = None) -> None:
        decision = {"kind": kind, "by": by, "at": now.isoformat(), **({"crisis": crisis} if crisis else {})}
        signal.details = {**signal.details, "decision": decision}
        s.add(signal)
        self._close_alerts(s, signal, self._outcome(decision), now)

    def take_over_signals(self, s: Session, crisis: Crisis, now: datetime) -> None:
        """A crisis declared (in its transaction): the undecided signals of the last day are its own, and
        their alerts say so, for every recipient."""
        for signal in q.crisis_signals_since(s, since=now - LOOK_BACK, for_update=True):
            if not signal.details.get("decision"):
                self._decide(s, signal, kind="declared", by=crisis.declared_by, now=now, crisis=crisis.id)

    # --- « Ce n'est pas une crise » -----------------------------------------------------------

    def not_a_crisis(self, *, signal_id: int | None, by: str, lang: str) -> Decided:
        """Close an alert without declaring: recorded on the signal and in the audit trail, every copy of the
        alert updated. The spike stays one signal while it lasts, so it is not proposed again."""
        now = self.vigie.clock.now()
        if not access.may_declare_crisis(by, people=self.protocol.people):
            self._refused(by, "crisis.not_a_crisis", "not_cm")
            return Decided(False, t("refusal.not_cm", lang))
        refusal: str | None = None
        with session_scope(self.vigie.engine) as s:
            signal = q.crisis_signal(s, signal_id, for_update=True) if signal_id else None
            if signal is None:
                refusal, text = "unknown_signal", t("crisis.alert.unknown", lang)
            elif signal.details.get("decision"):
                refusal = "already_decided"
                text = t("crisis.alert.already_decided", lang, outcome=self._outcome(signal.details["decision"]))
            else:
                self._decide(s, signal, kind="dismissed", by=by, now=now)
                s.add(AuditEvent(at=now, actor=by, action="crisis.not_a_crisis", mention_id=None, before=None,
                                 after={"signal": signal.id, "kind": signal.kind}, reason=None))
                text = t("crisis.not_a_crisis_ack", lang)
        if refusal is not None:
            self._refused(by, "crisis.not_a_crisis", refusal)
            return Decided(False, text)
        log.info("crisis_not_a_crisis", signal=signal_id, by=by)
        self.vigie.on_commit()
        return Decided(True, text)

    def _refused(self, actor: str, action: str, reason: str) -> None:
        raise NotImplementedError  # CrisisDesk's

    # --- what a declared crisis is about --------------------------------------------------------

    def triggering_signals(self, s: Session, crisis: Crisis) -> list[CrisisSignal]:
        return [sig for sig in q.crisis_signals_since(s, since=crisis.declared_at - LOOK_BACK)
                if (sig.details.get("decision") or {}).get("crisis") == crisis.id]

    @staticmethod
    def signal_start(signal: CrisisSignal) -> datetime:
        start = signal.details.get("from")
        return datetime.fromisoformat(start) if start else signal.at

    def triggering_mentions(self, s: Session, crisis: Crisis) -> tuple[list[Mention], int]:
        """The mentions of the signals the crisis took over (a spike's: every mention of its window until the
        declaration), the oldest first, at most `LISTED`; and how many there are in all."""
        found: dict[int, Mention] = {}
        total = 0
        for signal in self.triggering_signals(s, crisis):
            mention_id = signal.details.get("mention")
            if mention_id is not None:
                mention = s.get(Mention, mention_id)
                if mention is not None and mention.id not in found:
                    found[mention.id] = mention  # type: ignore[index]
                    total += 1
            elif signal.kind == "spike":
                start = self.signal_start(signal)
                total += q.count_received_between(s, start=start, end=crisis.declared_at)
                for mention in q.mentions_received_between(s, start=start, end=crisis.declared_at, limit=LISTED):
                    found.setdefault(mention.id, mention)  # type: ignore[arg-type]
        listed = sorted(found.values(), key=lambda m: (m.received_at, m.id))[:LISTED]
        return listed, max(total, len(found))

    def counted_from(self, s: Session, crisis: Crisis) -> datetime:
        """Where a crisis's figures start: its first signal's start, or its declaration."""
        return min([crisis.declared_at, *(self.signal_start(sig) for sig in self.triggering_signals(s, crisis))])
