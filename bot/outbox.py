"""Durable delivery of Slack calls.

A service writes an `Outbox` row in the same transaction as the change that needs it; this worker delivers
rows through the gateway:

* per channel, in order (a card is posted before it is updated), at most one message per
  `channel_interval` seconds, as Slack asks;
* on HTTP 429 the channel waits `Retry-After` (the row is rescheduled, no thread sleeps); other transient
  failures back off exponentially up to `MAX_BACKOFF`, and are retried for as long as it takes;
* a row is claimed with a lease. If the process dies after Slack accepted a message but before its `ts`
  was stored, the lease runs out and the row is "in doubt": the worker looks for the message in the
  channel's history by the outbox id carried in its metadata, and posts again only if it is not there.
  So a relay is posted exactly once across restarts, as long as Slack keeps message metadata.
* PostgreSQL: rows are claimed with `FOR UPDATE SKIP LOCKED`, so several workers can share the table.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.gateway import Failure, SlackCallError, SlackGateway
from bot.ids import MetadataEvent
from bot.models import Mention, MentionStatus, Outbox, OutboxStatus

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=30)
MAX_BACKOFF = 300.0
IDLE_POLL_SECONDS = 2.0  # how often an idle worker looks for rows another instance wrote


def backoff_seconds(attempts: int, rng: random.Random) -> float:
    """1, 2, 4 ... seconds, capped, with jitter so retries from many rows do not arrive together."""
    base = min(MAX_BACKOFF, 2.0 ** max(attempts - 1, 0))
    return base * (0.75 + rng.random() * 0.5)


@dataclass
class Claimed:
    id: int
    kind: str
    method: str
    channel: str
    payload: dict[str, Any]
    attempts: int
    in_doubt: bool
    created_at: datetime
    mention_id: int | None


@dataclass
class DeliveryStats:
    sent: int = 0
    reconciled: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class OutboxWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        gateway: SlackGateway,
        clock: Clock,
        channel_interval: float = 1.0,
        batch: int = 50,
        lease: timedelta = LEASE,
        on_failure: Callable[[Claimed, SlackCallError], None] | None = None,
        deliverers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
        rng: random.Random | None = None,
    ):
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.channel_interval = timedelta(seconds=channel_interval)
        self.batch = batch
        self.lease = lease
        self.on_failure = on_failure
        # Calls that are not Slack's (the webhook publisher): same durability, FIFO, retries and backoff.
        self.deliverers = deliverers if deliverers is not None else {}
        self.rng = rng or random.Random()
        self.stats = DeliveryStats()
        self._channel_ready: dict[str, datetime] = {}  # pacing: when each channel may be posted to again
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pg = engine.dialect.name == "postgresql"

    # --- running ------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="vigie-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                delay = self.seconds_until_due()
            except Exception:  # the worker must outlive a database restart or a bug in one row
                log.exception("outbox_loop_error")
                delay = IDLE_POLL_SECONDS
            self._wake.wait(timeout=max(0.0, min(delay, IDLE_POLL_SECONDS)))
            self._wake.clear()

    # --- one pass -----------------------------------------------------------------------------

    def run_once(self) -> int:
        """Deliver what is due now; return how many rows were attempted."""
        claimed = self._claim()
        for row in claimed:
            self._deliver(row)
        return len(claimed)

    def seconds_until_due(self) -> float:
        """How long the worker may sleep before something becomes due (capped by the idle poll)."""
        now = self.clock.now()
        with Session(self.engine) as s:
            heads = self._heads(s).subquery()
            rows = s.exec(
                select(Outbox.channel, Outbox.status, Outbox.next_attempt_at, Outbox.leased_until).where(
                    col(Outbox.id).in_(select(heads.c.id))
                )
            ).all()
        if not rows:
            return IDLE_POLL_SECONDS
        waits = []
        for channel, status, next_at, leased_until in rows:
            due = leased_until if status == OutboxStatus.sending and leased_until else next_at
            due = max(due, self._channel_ready.get(channel, due))
            waits.append((due - now).total_seconds())
        return max(0.0, min(waits))

    @staticmethod
    def _heads(s: Session) -> Any:
        # The oldest undelivered row of each channel: delivery is FIFO per channel.
        return (
            select(func.min(Outbox.id).label("id"))
            .where(col(Outbox.status).in_([OutboxStatus.pending, OutboxStatus.sending]))
            .group_by(Outbox.channel)
        )

    def _claim(self) -> list[Claimed]:
        now = self.clock.now()
        with Session(self.engine, expire_on_commit=False) as s:
            heads = self._heads(s).subquery()
            query = (
                select(Outbox)
                .where(col(Outbox.id).in_(select(heads.c.id)))
                .where(
                    or_(
                        (col(Outbox.status) == OutboxStatus.pending) & (col(Outbox.next_attempt_at) <= now),
                        (col(Outbox.status) == OutboxStatus.sending) & (col(Outbox.leased_until) <= now),
                    )
                )
                .order_by(col(Outbox.id))
                .limit(self.batch)
            )
            if self._pg:
                query = query.with_for_update(skip_locked=True)
            claimed: list[Claimed] = []
            for row in s.exec(query).all():
                if self._channel_ready.get(row.channel, now) > now:
                    continue
                claimed.append(
                    Claimed(
                        id=row.id,  # type: ignore[arg-type]
                        kind=row.kind,
                        method=row.method,
                        channel=row.channel,
                        payload=dict(row.payload),
                        attempts=row.attempts + 1,
                        in_doubt=row.status == OutboxStatus.sending,
                        created_at=row.created_at,
                        mention_id=row.mention_id,
                    )
                )
                row.status = OutboxStatus.sending
                row.attempts += 1
                row.leased_until = now + self.lease
                s.add(row)
            s.commit()
        return claimed

    # --- delivering one row ---------------------------------------------------------------------

    def _deliver(self, row: Claimed) -> None:
        args = self._resolve_args(row)
        if args is None:
            return
        try:
            if row.in_doubt and row.method == "chat.postMessage":
                ts = self._find_posted(row)
                if ts is not None:
                    self.stats.reconciled += 1
                    log.info("outbox_reconciled", outbox_id=row.id, ts=ts)
                    self._mark_sent(row, {"ts": ts, "channel": row.channel})
                    return
            deliverer = self.deliverers.get(row.method)
            answer = deliverer(args) if deliverer else self.gateway.call(row.method, **args)
        except SlackCallError as exc:
            self._on_error(row, exc)
            return
        self._mark_sent(row, answer)

    def _resolve_args(self, row: Claimed) -> dict[str, Any] | None:
        args = dict(row.payload)
        if row.method == "chat.postMessage":
            args["metadata"] = {"event_type": MetadataEvent.outbox.value, "event_payload": {"outbox_id": row.id}}
        # An update of a message another row posted, or a reply in its thread: both need that message's ts
        # and channel id, which exist only once Slack has answered. Rows are queued before that, so they
        # name the other row and are resolved here.
        for ref_key, ts_key in (("ts_from_outbox", "ts"), ("thread_ts_from_outbox", "thread_ts")):
            ref = args.pop(ref_key, None)
            if ref is None:
                continue
            with Session(self.engine) as s:
                target = s.get(Outbox, ref)
            if target is None or target.status == OutboxStatus.failed:
                self._fail(row, f"target message {ref} was never posted")
                return None
            if target.ts is None:
                self._reschedule(row, seconds=1.0, error="waiting_for_target", count_attempt=False)
                return None
            args[ts_key] = target.ts
            args["channel"] = target.payload.get("_channel_id", target.channel)
        args.pop("_channel_id", None)
        return args

    def _find_posted(self, row: Claimed) -> str | None:
        """Was this row's message posted before a crash? Look for its outbox id in the channel history."""
        oldest = f"{(row.created_at - timedelta(seconds=5)).timestamp():.6f}"
        cursor = None
        for _ in range(10):  # at most 10 pages of 200: the lease is short, the message is recent
            answer = self.gateway.call(
                "conversations.history",
                channel=row.payload.get("_channel_id", row.channel),
                oldest=oldest,
                include_all_metadata=True,
                limit=200,
                **({"cursor": cursor} if cursor else {}),
            )
            for message in answer.get("messages", []):
                meta = message.get("metadata") or {}
                if (
                    meta.get("event_type") == MetadataEvent.outbox.value
                    and (meta.get("event_payload") or {}).get("outbox_id") == row.id
                ):
                    return str(message["ts"])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not answer.get("has_more") or not cursor:
                return None
        return None

    def _mark_sent(self, row: Claimed, answer: dict[str, Any]) -> None:
        now = self.clock.now()
        ts = answer.get("ts") or answer.get("message_ts")
        channel_id = answer.get("channel") or row.channel
        with Session(self.engine) as s:
            db_row = s.get(Outbox, row.id)
            assert db_row is not None
            db_row.status = OutboxStatus.sent
            db_row.sent_at = now
            db_row.ts = str(ts) if ts else None
            db_row.leased_until = None
            db_row.last_error = None
            if channel_id != row.channel:
                db_row.payload = {**db_row.payload, "_channel_id": channel_id}
            s.add(db_row)
            if row.kind == "relay" and row.mention_id is not None:
                mention = s.get(Mention, row.mention_id)
                if mention is not None:
                    mention.relay_ts = db_row.ts
                    mention.channel = channel_id
                    mention.status = MentionStatus.relayed
                    s.add(mention)
            s.commit()
        self.stats.sent += 1
        if row.method == "chat.postMessage":
            self._channel_ready[row.channel] = now + self.channel_interval

    def _on_error(self, row: Claimed, exc: SlackCallError) -> None:
        self.stats.errors[exc.error] = self.stats.errors.get(exc.error, 0) + 1
        log.warning("outbox_delivery_failed", outbox_id=row.id, method=row.method, error=exc.error,
                    failure=exc.failure.value, attempts=row.attempts)
        if exc.failure is Failure.rate_limited:
            self.stats.rate_limited += 1
            # Without Retry-After, back off as for any transient failure instead of hammering Slack.
            wait = exc.retry_after if exc.retry_after is not None else backoff_seconds(row.attempts, self.rng)
            self._channel_ready[row.channel] = self.clock.now() + timedelta(seconds=wait)
            self._reschedule(row, seconds=wait, error=exc.error, count_attempt=False)
        elif exc.failure is Failure.retryable:
            self.stats.retried += 1
            self._reschedule(row, seconds=backoff_seconds(row.attempts, self.rng), error=exc.error)
        else:
            self._fail(row, f"{exc.error} ({exc.failure})")
            if self.on_failure:
                self.on_failure(row, exc)

    def _fail(self, row: Claimed, error: str) -> None:
        # Kept, not deleted: once a person fixes the cause, `vigie outbox retry` sends it again.
        self.stats.failed += 1
        with Session(self.engine) as s:
            db_row = s.get(Outbox, row.id)
            assert db_row is not None
            db_row.status = OutboxStatus.failed
            db_row.leased_until = None
            db_row.last_error = error[:500]
            s.add(db_row)
            s.commit()

    def _reschedule(self, row: Claimed, *, seconds: float, error: str, count_attempt: bool = True) -> None:
        with Session(self.engine) as s:
            db_row = s.get(Outbox, row.id)
            assert db_row is not None
            db_row.status = OutboxStatus.pending
            db_row.leased_until = None
            db_row.next_attempt_at = self.clock.now() + timedelta(seconds=seconds)
            db_row.last_error = error
            if not count_attempt:
                db_row.attempts = max(0, db_row.attempts - 1)
            s.add(db_row)
            s.commit()


def retry_failed(engine: Engine, *, now: datetime) -> int:
    """Put failed rows back in the queue (after a person fixed the cause)."""
    with Session(engine) as s:
        rows = s.exec(select(Outbox).where(col(Outbox.status) == OutboxStatus.failed)).all()
        for row in rows:
            row.status = OutboxStatus.pending
            row.next_attempt_at = now
            row.attempts = 0
            s.add(row)
        s.commit()
        return len(rows)
