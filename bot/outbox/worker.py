"""Durable delivery of Slack calls: the worker that sends the rows `bot.outbox.queue` writes.

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
  A timeout (or a 5xx) on a post is "in doubt" in the same way and is looked for before it is sent again.
* What only a person can mend is held, never dropped, and said once to the community managers (by direct
  message: the broken channel may be the team's own). A channel that refuses the bot (removed, archived,
  not found) holds its lane: its head is tried again every `HOLD_RETRY`, and once it goes through the lane
  flows again, in order, with one "resumed" notice. A refused token (revoked, deactivated) pauses every
  Slack delivery: one probe row calls `auth.test` every `TOKEN_PROBE` (and at start-up, which is when a
  rotated token arrives); when it passes, everything held goes out and the managers are told what happened.
* Errors that are the payload's fault (`invalid_blocks`...) fail that row only (`on_failure` tells the
  thread when it matters); the lane goes on with the next row.
* The next row of each channel is found by index seeks (`bot.outbox.queue.lane_heads`): a pass costs the
  same with 50,000 rows waiting as with none. Commits ring a doorbell; the rings of a burst make one pass
  (`COALESCE_SECONDS`). A row in doubt is looked for by `bot.outbox.indoubt`.
* Two threads deliver: one the rows that change what a person sees at once (the card they clicked, their
  answer; `bot.outbox.queue.Share`), the other the rest (a backlog's relays, notices, story refreshes...), each
  taking the due heads of its share, so a click's card update never waits for a long pass of the other kind.
  Lanes stay FIFO (only a lane's head is ever taken), and paced: the pace is carried by the rows.
* PostgreSQL: rows are claimed with `FOR UPDATE SKIP LOCKED`, so several workers can share the table, and
  the pace is shared through the rows: sending a lane's head pushes the next head's `next_attempt_at` one
  interval later, and a 429's `Retry-After` is written on the head, so every instance waits.

No schema change was needed: why a pending row waits is written in `last_error` with a prefix (`HELD`,
`PAUSED`, `IN_DOUBT`), "once per episode" is the dedupe key of the notice rows, and the token pause is one
probe row under a fixed dedupe key, which all instances see (`bot.outbox.queue`).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.outbox.indoubt import look_for
from bot.outbox.queue import (
    HELD,
    HOLD_RETRY,
    IN_DOUBT,
    PAUSE_KEY,
    PAUSED,
    POST,
    PROBE_KIND,
    PROBE_LANE,
    TOKEN_PROBE,
    Notice,
    Registry,
    Share,
    Tell,
    channel_ref,
    enqueue,
    given_back,
    held_in,
    in_share,
    lane_heads,
    other_held,
    pace_next_head,
    pass_order,
    release_held,
    waiting,
)
from bot.slack.gateway import (
    CHANNEL_UNAVAILABLE,
    NO_ANSWER,
    TOKEN_REFUSED,
    Failure,
    SlackCallError,
    SlackGateway,
)
from bot.slack.ids import MetadataEvent
from bot.slack.text import escape
from bot.store.db import session_scope
from bot.store.models import Mention, MentionStatus, Outbox, OutboxStatus

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=30)
MAX_BACKOFF = 300.0
IDLE_POLL_SECONDS = 2.0  # how often an idle worker looks for rows another instance wrote
MAX_RETRY_AFTER = 900.0  # a Retry-After beyond this is an anomaly: try again then (a 429 costs nothing)
# After the doorbell rings, the worker waits this long before its pass: the commits of a burst (a batch of
# requests, each ringing) then make one pass instead of one each; a relay leaves at most this much later.
COALESCE_SECONDS = 0.02
# The interactive thread waits longer: the clicks of a burst (people acting together) then make one pass, which
# starts once their acknowledgements are mostly done instead of rendering cards beside them (the same
# interpreter runs both); a card is updated this much later.
INTERACTIVE_COALESCE_SECONDS = 0.1


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
    last_error: str | None = None


@dataclass
class DeliveryStats:
    sent: int = 0
    reconciled: int = 0
    rate_limited: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0
    paused: int = 0
    passes: int = 0  # delivery passes run (the doorbell's rings are coalesced: see COALESCE_SECONDS)
    interactive_passes: int = 0  # those of the interactive thread (`Share.interactive`), counted apart
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
        registry: Registry | None = None,
        rng: random.Random | None = None,
        tell: Tell | None = None,
        doorbell: threading.Event | None = None,
    ):
        self.engine = engine
        self.gateway = gateway
        self.clock = clock
        self.channel_interval = timedelta(seconds=channel_interval)
        self.batch = batch
        self.lease = lease
        self.on_failure = on_failure
        # Renderers and deliverers of the calls that are not plain Slack ones (see Registry).
        self.registry = registry or Registry()
        self.rng = rng or random.Random()
        # Who is told about what needs a person (held channels, a refused token); None: only the log.
        self.tell = tell
        # Deliverer methods that do not call Slack (the webhook publisher): they go on while the token is refused.
        self.slack_free: set[str] = {method.value for method in self.registry.slack_free}  # plain, for SQL
        # Counted by both delivery threads without a lock: an increment may be lost in a race; only tests read
        # them (the metrics count the rows themselves).
        self.stats = DeliveryStats()
        # Pacing inside this process; the database carries it between instances (see `_mark_sent`).
        self._channel_ready: dict[str, datetime] = {}
        self._pass = threading.local()  # what one pass learnt (each thread runs its own passes)
        # A transient failure was seen since Slack last answered: the next success brings backed-off rows forward.
        self._backing_off = False
        # Use cases ring it after a commit that queued rows (the composition root gives them `doorbell.set`
        # before the worker exists, as the worker needs their deliverers): the row leaves at once.
        self._wake = doorbell if doorbell is not None else threading.Event()
        # Each thread's own bell, rung by `_relay_rings` whenever the doorbell rings.
        self._bells = {share: threading.Event() for share in Share}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pg = engine.dialect.name == "postgresql"

    # --- running ------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        # A restart is often what follows the fix (a rotated token, the bot invited back): look now.
        try:
            release_held(self.engine, now=self.clock.now())
        except Exception:  # the database may be down at start-up: the slow probes will look anyway
            log.exception("outbox_release_held_failed")
        # Two delivery threads, one per share (`bot.outbox.queue.Share`): what a person just did is not
        # delivered after the rest of a long pass (a backlog's relays, story refreshes, notices).
        names = {Share.rest: "vigie-outbox", Share.interactive: "vigie-outbox-now"}
        self._threads = [threading.Thread(target=self._relay_rings, name="vigie-outbox-bell", daemon=True)] + [
            threading.Thread(target=self._loop, args=(share,), name=names[share], daemon=True) for share in Share]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        for bell in self._bells.values():
            bell.set()
        for thread in self._threads:
            thread.join(timeout)

    def _relay_rings(self) -> None:
        """The use cases ring one doorbell; each delivery thread has its own bell (one thread clearing a shared
        event would eat the other's ring), so a ring is passed on to both, at once, by this thread alone."""
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()  # before passing it on: a ring meanwhile sets it again and is passed on too
            for bell in self._bells.values():
                bell.set()

    def _loop(self, share: Share) -> None:
        bell = self._bells[share]
        while not self._stop.is_set():
            bell.clear()  # before the pass: a ring during it is not lost, it makes the next pass
            try:
                self.run_once(share)
                delay = self.seconds_until_due(share)
            except Exception:  # the worker must outlive a database restart or a bug in one row
                log.exception("outbox_loop_error", share=share.value)
                delay = IDLE_POLL_SECONDS
            if bell.wait(timeout=max(0.0, min(delay, IDLE_POLL_SECONDS))) and not self._stop.is_set():
                # The rest of the burst rings the same bell meanwhile.
                self._stop.wait(INTERACTIVE_COALESCE_SECONDS if share is Share.interactive else COALESCE_SECONDS)

    # --- one pass -----------------------------------------------------------------------------

    def run_once(self, share: Share | None = None) -> int:
        """Deliver what is due now (in `share`, or all of it, what a person just did first); return how many
        rows were attempted."""
        if share is Share.interactive:
            self.stats.interactive_passes += 1
        else:
            self.stats.passes += 1
        claimed = self._claim(share)
        self._pass.refused = False
        for row in claimed:
            if self._pass.refused and row.method not in self.slack_free and row.kind != PROBE_KIND:
                self._release(row)  # the token was just refused: do not spend the batch on it
            else:
                self._deliver(row)
        return len(claimed)

    def seconds_until_due(self, share: Share | None = None) -> float:
        """How long the worker (or the thread of `share`) may sleep before something becomes due (capped by
        the idle poll)."""
        now = self.clock.now()
        with Session(self.engine) as s:
            heads = lane_heads(self.engine.dialect.name).subquery()
            query = select(Outbox.channel, Outbox.status, Outbox.next_attempt_at, Outbox.leased_until).where(
                col(Outbox.id).in_(select(heads.c.id))
            )
            rows = s.exec(self._while_paused(s, in_share(query, share))).all()
        if not rows:
            return IDLE_POLL_SECONDS
        waits = []
        for channel, status, next_at, leased_until in rows:
            due = leased_until if status == OutboxStatus.sending and leased_until else next_at
            due = max(due, self._channel_ready.get(channel, due))
            waits.append((due - now).total_seconds())
        return max(0.0, min(waits))

    def _while_paused(self, s: Session, query: Any) -> Any:
        """While Slack refuses the token, only the probe (and what does not call Slack) may be taken: the rest
        waits, untouched, so nothing spins on a dead token."""
        pause = s.exec(select(Outbox.id).where(col(Outbox.dedupe_key) == PAUSE_KEY)).first()
        if pause is None:
            return query
        return query.where(or_(col(Outbox.id) == pause, col(Outbox.method).in_(self.slack_free)))

    def _claim(self, share: Share | None = None) -> list[Claimed]:
        now = self.clock.now()
        with Session(self.engine, expire_on_commit=False) as s:
            heads = lane_heads(self.engine.dialect.name).subquery()
            query = (
                select(Outbox)
                .where(col(Outbox.id).in_(select(heads.c.id)))
                .where(
                    or_(
                        (col(Outbox.status) == OutboxStatus.pending) & (col(Outbox.next_attempt_at) <= now),
                        (col(Outbox.status) == OutboxStatus.sending) & (col(Outbox.leased_until) <= now),
                    )
                )
                .order_by(*pass_order())
                .limit(self.batch)
            )
            query = self._while_paused(s, in_share(query, share))
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
                        # A lease ran out (a worker died mid-call), or the last try timed out.
                        in_doubt=row.status == OutboxStatus.sending or (row.last_error or "").startswith(IN_DOUBT),
                        created_at=row.created_at,
                        mention_id=row.mention_id,
                        last_error=row.last_error,
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
        # The Slack channel the call names (a card's lane "card:12" resolves to its message's channel).
        target = str(args.get("channel") or row.channel)
        if row.kind == PROBE_KIND:
            args = {}  # its "channel" is only its lane
        in_doubt = row.in_doubt and row.method == POST
        try:
            if in_doubt:
                ts = look_for(self.gateway, row, args)
                if ts is not None:
                    self.stats.reconciled += 1
                    log.info("outbox_reconciled", outbox_id=row.id, ts=ts)
                    self._mark_sent(row, {"ts": ts, "channel": row.channel}, target)
                    return
                in_doubt = False  # looked: not there, so this post is the first to arrive
            deliverer = self.registry.deliverer(row.method)
            answer = deliverer(args) if deliverer else self.gateway.call(row.method, **args)
        except SlackCallError as exc:
            self._on_error(row, exc, target, in_doubt=in_doubt)
            return
        self._mark_sent(row, answer, target)

    def _resolve_args(self, row: Claimed) -> dict[str, Any] | None:
        args = dict(row.payload)
        render = args.pop("_render", None)
        if render is not None:
            args = {**self.registry.renderer(render)(args), **{k: v for k, v in args.items() if k == "_channel_id"}}
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

    def _mark_sent(self, row: Claimed, answer: dict[str, Any], target: str | None = None) -> None:
        now = self.clock.now()
        ts = answer.get("ts") or answer.get("message_ts")
        channel_id = answer.get("channel") or row.channel
        woke_others = False
        with session_scope(self.engine) as s:
            db_row = s.get(Outbox, row.id)
            assert db_row is not None
            db_row.status = OutboxStatus.sent
            db_row.sent_at = now
            db_row.ts = str(ts) if ts else None
            db_row.leased_until = None
            db_row.last_error = None
            if channel_id != row.channel:
                db_row.payload = {**db_row.payload, "_channel_id": channel_id}
            if row.kind == PROBE_KIND:
                db_row.dedupe_key = f"{PAUSE_KEY}:{row.id}"  # the episode is over; the next refusal opens one
            s.add(db_row)
            if row.kind == "relay" and row.mention_id is not None:
                mention = s.get(Mention, row.mention_id)
                if mention is not None:
                    mention.relay_ts = db_row.ts
                    mention.channel = channel_id
                    mention.status = MentionStatus.relayed
                    s.add(mention)
            if row.method == POST and self.channel_interval:
                pace_next_head(s, lane=row.channel, after=row.id, ready=now + self.channel_interval)
            if row.kind == PROBE_KIND:
                self._token_accepted(s, row, now)
                woke_others = True
            elif held_in(row.last_error) is not None:
                self._channel_resumed(s, row, target or row.channel, now)
                woke_others = True
            if self._backing_off and row.method not in self.slack_free:
                woke_others |= self._slack_is_back(s, now)
        self.stats.sent += 1
        if row.method == POST:
            self._channel_ready[row.channel] = now + self.channel_interval
        if woke_others:
            self.wake()

    def _slack_is_back(self, s: Session, now: datetime) -> bool:
        """Slack answered: rows that were backing off after transient failures (5xx, connection failures) are
        due now, instead of waiting out a backoff that grew during the outage (up to `MAX_BACKOFF`: a channel
        once waited 218 s after Slack had recovered). A post in doubt is looked for in the channel before it is
        sent again, so bringing it forward is safe; one that got no answer at all still waits twice the
        gateway's timeout (Slack may still be working on it). Rows waiting for a reason of their own keep
        waiting: a Retry-After (Slack said how long), a held channel, a paused token."""
        self._backing_off = False
        pending = (col(Outbox.status) == OutboxStatus.pending, col(Outbox.attempts) > 0,
                   col(Outbox.last_error).is_not(None), col(Outbox.method).not_in(self.slack_free or {""}))
        no_answer = [f"{IN_DOUBT}{error}" for error in NO_ANSWER]
        patience = now + timedelta(seconds=2.0 * getattr(self.gateway, "timeout", 10))
        conn = s.connection()
        moved = conn.execute(update(Outbox).where(
            *pending, col(Outbox.next_attempt_at) > now,
            col(Outbox.last_error).not_in(["ratelimited", f"{IN_DOUBT}ratelimited", "waiting_for_target", *no_answer]),
            ~col(Outbox.last_error).startswith(HELD), ~col(Outbox.last_error).startswith(PAUSED),
        ).values(next_attempt_at=now)).rowcount
        moved += conn.execute(update(Outbox).where(
            *pending, col(Outbox.next_attempt_at) > patience, col(Outbox.last_error).in_(no_answer),
        ).values(next_attempt_at=patience)).rowcount
        if moved:
            log.info("outbox_slack_back", rows_brought_forward=moved)
        return bool(moved)

    def _on_error(self, row: Claimed, exc: SlackCallError, target: str | None = None, *,
                  in_doubt: bool = False) -> None:
        self.stats.errors[exc.error] = self.stats.errors.get(exc.error, 0) + 1
        log.warning("outbox_delivery_failed", outbox_id=row.id, method=row.method, error=exc.error,
                    failure=exc.failure.value, attempts=row.attempts)
        now = self.clock.now()
        # Slack may have posted (or the row was in doubt and we could not look): say so on the row, so the next
        # attempt looks in the channel first; and the channel counts as posted to, for pacing.
        doubt = row.method == POST and (in_doubt or exc.in_doubt)
        marker = IN_DOUBT if doubt else ""
        if exc.error in TOKEN_REFUSED:
            self._pause(row, exc, now, marker=marker)
        elif exc.error in CHANNEL_UNAVAILABLE and row.kind != PROBE_KIND:
            self._hold(row, exc, target or row.channel, now)
        elif exc.failure is Failure.rate_limited:
            self.stats.rate_limited += 1
            if exc.retry_after is not None:
                wait = min(exc.retry_after, MAX_RETRY_AFTER)
            else:  # without Retry-After, back off as for any transient failure, further each time
                wait = backoff_seconds(row.attempts, self.rng)
            self._channel_ready[row.channel] = now + timedelta(seconds=wait)
            # Written on the head, so every instance waits (the lane is FIFO: nothing passes its head).
            self._reschedule(row, seconds=wait, error=marker + exc.error, count_attempt=exc.retry_after is None)
        elif exc.failure is Failure.retryable:
            self.stats.retried += 1
            if row.method not in self.slack_free:
                self._backing_off = True
            wait = backoff_seconds(row.attempts, self.rng)
            if doubt and exc.error in NO_ANSWER:
                # Slack may still be working on it: give it twice our own patience before looking.
                wait = max(wait, 2.0 * getattr(self.gateway, "timeout", 10))
            if doubt:  # it may have been posted: the channel's pace counts it
                wait = max(wait, self.channel_interval.total_seconds())
                self._channel_ready[row.channel] = now + self.channel_interval
            self._reschedule(row, seconds=wait, error=marker + exc.error)
        else:
            self._fail(row, f"{exc.error} ({exc.failure})")
            if self.on_failure:
                self.on_failure(row, exc)

    # --- what needs a person ----------------------------------------------------------------------

    def _hold(self, row: Claimed, exc: SlackCallError, channel: str, now: datetime) -> None:
        """The channel refuses the bot: keep the lane's head (and so the lane) waiting, try again slowly, and
        tell the managers once. Other lanes of the same channel (card updates) are held by their own heads but
        not announced again."""
        self.stats.held += 1
        first = held_in(row.last_error) is None
        with session_scope(self.engine) as s:
            db_row = s.get(Outbox, row.id)
            assert db_row is not None
            db_row.status = OutboxStatus.pending
            db_row.leased_until = None
            db_row.attempts = max(0, db_row.attempts - 1)  # not the message's fault
            db_row.next_attempt_at = now + HOLD_RETRY
            db_row.last_error = f"{HELD}{exc.error} in {channel}"[:500]
            s.add(db_row)
            if first and not other_held(s, channel, row.id):
                log.error("outbox_channel_held", channel=channel, error=exc.error, outbox_id=row.id,
                          hint="invite the bot again, or fix the channel in the protocol; then `vigie outbox retry`")
                if self.tell is not None:
                    # One text per cause, as each has its own fix (archived covers both spellings).
                    cause = exc.error if exc.error in ("not_in_channel", "channel_not_found") else "is_archived"
                    self.tell(s, Notice(
                        key=f"outbox-held:{row.id}", text=f"outbox.held.{cause}", avoid=channel,
                        params={"channel": channel_ref(channel), "count": waiting(s, (row.channel, channel)),
                                "minutes": int(HOLD_RETRY.total_seconds() // 60)},
                    ), now)

    def _channel_resumed(self, s: Session, row: Claimed, channel: str, now: datetime) -> None:
        """The held head went through: the bot is back. Release the channel's other held lanes now (without a
        notice of their own) and say it once."""
        channel = held_in(row.last_error) or channel
        for other in s.exec(select(Outbox).where(
            col(Outbox.status) == OutboxStatus.pending, col(Outbox.last_error).like(f"{HELD}%")
        )).all():
            if held_in(other.last_error) == channel:
                other.next_attempt_at = now
                other.last_error = None
                s.add(other)
        log.info("outbox_channel_resumed", channel=channel, outbox_id=row.id)
        if self.tell is not None:
            self.tell(s, Notice(key=f"outbox-resumed:{row.id}", text="outbox.channel_resumed",
                                params={"channel": channel_ref(channel),
                                        "count": waiting(s, (row.channel, channel))}), now)

    def _pause(self, row: Claimed, exc: SlackCallError, now: datetime, *, marker: str) -> None:
        """Slack refuses the token: every Slack delivery waits (rows untouched, nothing lost) and one probe row
        asks `auth.test` every TOKEN_PROBE. Nobody can be told in Slack while the token is refused (every post
        would be refused too): the log and /healthz say it now, the managers are told when it works again."""
        self._pass.refused = True
        self.stats.paused += 1
        with session_scope(self.engine) as s:
            db_row = given_back(s, row.id)
            if row.kind == PROBE_KIND:
                db_row.next_attempt_at = now + TOKEN_PROBE
                db_row.last_error = PAUSED + exc.error
            else:
                db_row.last_error = (marker or PAUSED) + exc.error  # a row in doubt stays in doubt
            s.add(db_row)
            opened = s.exec(select(Outbox.id).where(col(Outbox.dedupe_key) == PAUSE_KEY)).first() is None
            if opened:
                enqueue(s, kind=PROBE_KIND, method="auth.test", now=now, dedupe_key=PAUSE_KEY,
                        args={"channel": PROBE_LANE}, due=now + TOKEN_PROBE)
                s.connection().execute(update(Outbox).where(col(Outbox.dedupe_key) == PAUSE_KEY)
                                       .values(last_error=PAUSED + exc.error))
        if opened:
            log.error("slack_token_refused", error=exc.error, method=row.method,
                      hint="Slack deliveries are paused (nothing is lost); rotate SLACK_BOT_TOKEN and restart")

    def _token_accepted(self, s: Session, row: Claimed, now: datetime) -> None:
        since = row.created_at
        error = (row.last_error or "").removeprefix(PAUSED) or "?"
        log.warning("slack_token_accepted_again", paused_since=since.isoformat(), error=error)
        if self.tell is not None:
            self.tell(s, Notice(key=f"slack-token-back:{row.id}", text="outbox.token_resumed",
                                params={"since": f"{since:%Y-%m-%d %H:%M} UTC", "until": f"{now:%Y-%m-%d %H:%M} UTC",
                                        "error": escape(error), "count": waiting(s)}), now)

    def _release(self, row: Claimed) -> None:
        """Give a claimed row back untried."""
        with session_scope(self.engine) as s:
            s.add(given_back(s, row.id))

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
            db_row.last_error = error[:500]
            if not count_attempt:
                db_row.attempts = max(0, db_row.attempts - 1)
            s.add(db_row)
            s.commit()
