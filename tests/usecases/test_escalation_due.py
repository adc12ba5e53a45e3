"""The escalation sweep reads only what it must look at (issue 16): the mentions whose next step is due, those
changed since the last sweep, and those worked out under another basis (a crisis declared or ended). Its cost
follows them, not the open mentions; every step is still sent once, on time, in order, with two instances
sweeping at once. Both databases; a manual clock; mentions stored directly (no Slack needed to climb a ladder)."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, text
from sqlmodel import Session, col, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.domain import deadlines as deadline_rules
from bot.domain.workflow import OPEN_STATES
from bot.store import queries as q
from bot.store.db import session_scope
from bot.store.locks import compare_and_set, lock_mention
from bot.store.models import UNSCHEDULED, Crisis, Mention, Outbox, Reminder
from bot.usecases.escalation import Escalation

PARIS = ZoneInfo("Europe/Paris")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)  # the test protocol: Monday-Friday 09:00-18:00


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def store(engine, received: list[datetime], *, severity: str = "low", first: int = 0, state: str = "open") -> list[int]:
    """Open mentions of the general team (low: a first response within 8 business hours, ladder 50 %, 100 %,
    +30 min), stored in one statement."""
    rows = [{"source": "rss", "external_id": f"e{first + k}", "url": "https://x.example/", "author": "@a",
             "text": f"mention {first + k}", "published_at": at, "received_at": at, "team": "general",
             "severity": severity, "tags": [], "reasons": [], "status": "relayed", "state": state,
             "language_detected": False, "reroutes": 0} for k, at in enumerate(received)]
    with engine.begin() as conn:
        conn.execute(Mention.__table__.insert(), rows)  # type: ignore[attr-defined]
        ids = conn.execute(select(Mention.id).where(col(Mention.external_id).in_([r["external_id"] for r in rows]))
                           ).scalars().all()
    return sorted(ids)


def reminders(engine, mention_id: int | None = None) -> list[tuple[str, str]]:
    with Session(engine) as s:
        query = select(Reminder).order_by(col(Reminder.id))
        if mention_id is not None:
            query = query.where(Reminder.mention_id == mention_id)
        return [(r.stage, r.step) for r in s.exec(query).all()]


class Reads:
    """Counts the mention rows the ORM loads and the statements sent, while active."""

    def __init__(self, engine) -> None:
        self.engine, self.loaded, self.statements = engine, 0, 0

    def _load(self, target, context) -> None:  # type: ignore[no-untyped-def]
        self.loaded += 1

    def _statement(self, *args) -> None:  # type: ignore[no-untyped-def]
        self.statements += 1

    def __enter__(self) -> Reads:
        event.listen(Mention, "load", self._load)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        event.remove(Mention, "load", self._load)
        event.remove(self.engine, "before_cursor_execute", self._statement)


@pytest.fixture
def bot(engine, settings):
    clock = ManualClock(MONDAY_9)
    runtime = build_runtime(settings, clock=clock)
    yield runtime, clock
    runtime.engine.dispose()


def test_a_sweep_reads_the_mentions_due_not_the_open_ones(bot, engine):
    runtime, clock = bot
    far = store(engine, [MONDAY_9] * 5000)  # their first step falls at 13:00
    store(engine, [paris(2026, 11, 2, 9, 0)] * 5000, first=10_000, state="published")  # closed: never read
    due = store(engine, [paris(2026, 11, 20, 15, 0)] * 3, first=5000)  # Friday 15:00: 50 % falls Monday 10:00
    runtime.escalation.sweep()  # the first sweep after the upgrade works every open mention out: the back-fill
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Mention).where(col(Mention.next_step_at).is_(None),
                                                                      col(Mention.state).in_(OPEN_STATES))).one() == 0
    clock.set(paris(2026, 11, 23, 10, 0))
    with Reads(runtime.engine) as reads:
        assert runtime.escalation.sweep() == 3
    assert reads.loaded == 3  # the three due, out of 5,003 open mentions
    assert [reminders(engine, m) for m in due] == [[("first_response", "50%")]] * 3
    clock.set(paris(2026, 11, 23, 10, 0, 30))  # the next sweep: nothing due, nothing changed
    with Reads(runtime.engine) as reads:
        assert runtime.escalation.sweep() == 0
    assert (reads.loaded, reads.statements) == (0, 2)  # is a crisis declared, and the four ranges below in one
    assert reminders(engine, far[0]) == []
    # Each range the sweep asks for is read through an index, not by reading the mentions (and the partial index
    # of the mentions to work out holds the open ones only).
    assert UNSCHEDULED.endswith(f"state IN ({', '.join(repr(str(state)) for state in OPEN_STATES)})")
    basis = runtime.escalation.basis(False)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE mention"))
        indexes = ("ix_mention_next_step_at", "ix_mention_next_step_unset", "ix_mention_next_step_basis",
                   "ix_mention_next_step_basis")
        for query, index in zip(q.sweep_queries(now=clock.now(), basis=basis), indexes, strict=True):
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            plan = " ".join(str(row) for row in conn.execute(text(explain + str(compiled))).all())
            assert index in plan, (str(compiled), plan)


def test_a_crisis_declared_after_a_time_was_stored_brings_the_steps_forward(bot, engine):
    runtime, clock = bot
    [mid] = store(engine, [MONDAY_9])
    runtime.escalation.sweep()  # 50 % of 8 business hours: 13:00
    with session_scope(engine) as s:
        s.add(Crisis(declared_at=clock.now(), declared_by="U0CM00001"))
    clock.set(paris(2026, 11, 23, 11, 0))  # the crisis halves every deadline: 50 % of 4 hours
    runtime.escalation.sweep()
    assert reminders(engine, mid) == [("first_response", "50%")]
    with Session(engine) as s:
        assert s.get(Mention, mid).next_step_basis == runtime.escalation.basis(True)  # type: ignore[union-attr]


def test_a_write_that_moves_the_ladder_resets_the_stored_time(bot, engine):
    runtime, clock = bot
    [mid] = store(engine, [MONDAY_9])
    runtime.escalation.sweep()
    with session_scope(engine) as s:  # as a storm or a triage fix would: critical, 30 minutes round the clock
        mention = lock_mention(s, mid)
        assert mention is not None and mention.next_step_at is not None
        compare_and_set(s, mention, expect={"severity": "low"}, values={"severity": "critical"})
    with Session(engine) as s:
        stored = s.get(Mention, mid)
        assert stored is not None and (stored.next_step_at, stored.next_step_basis) == (None, None)
    clock.set(paris(2026, 11, 23, 9, 15))
    runtime.escalation.sweep()
    assert reminders(engine, mid) == [("first_response", "50%")]


def test_a_write_that_forgot_the_reset_is_caught_up_at_the_stale_time(bot, engine):
    runtime, clock = bot
    [mid] = store(engine, [MONDAY_9])
    runtime.escalation.sweep()  # next look at 13:00
    with session_scope(engine) as s:  # a path that changes the severity without the reset
        s.connection().execute(text("UPDATE mention SET severity = 'critical' WHERE id = :id"), {"id": mid})
    clock.set(paris(2026, 11, 23, 12, 59))
    runtime.escalation.sweep()
    assert reminders(engine, mid) == []  # slower than it should be...
    clock.set(paris(2026, 11, 23, 13, 0))
    runtime.escalation.sweep()  # ...but not missed: every critical step, in order
    assert reminders(engine, mid) == [("first_response", "50%"), ("first_response", "100%"),
                                      ("first_response", "+30m")]


def test_two_sweeps_at_once_with_a_claim_send_each_step_once(engine, settings):
    clock = ManualClock(MONDAY_9)
    one, two = build_runtime(settings, clock=clock), build_runtime(settings, clock=clock)
    sweepers = [Escalation(one.vigie), Escalation(two.vigie)]
    ids = store(engine, [MONDAY_9] * 12)
    claimed = ids[0]

    def claim() -> None:
        with session_scope(one.engine) as s:
            mention = lock_mention(s, claimed)
            assert mention is not None
            compare_and_set(s, mention, expect={"state": "open", "owner": None},
                            values={"state": "claimed", "owner": "U0GEN0001", "first_response_at": clock.now()})

    rounds = [(MONDAY_9, False), (paris(2026, 11, 23, 10, 0), True), (paris(2026, 11, 23, 13, 0), False),
              (paris(2026, 11, 23, 17, 0), False), (paris(2026, 11, 23, 17, 30), False),
              (paris(2026, 11, 23, 17, 30, 30), False)]
    try:
        for at, with_claim in rounds:
            clock.set(at)
            jobs = [sweeper.sweep for sweeper in sweepers] + ([claim] if with_claim else [])
            barrier = threading.Barrier(len(jobs))
            failures: list[BaseException] = []

            def run(job) -> None:  # type: ignore[no-untyped-def]
                barrier.wait()
                try:
                    job()
                except BaseException as exc:  # noqa: BLE001 - reported below
                    failures.append(exc)

            threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert failures == []
        expected = [("first_response", "50%"), ("first_response", "100%"), ("first_response", "+30m")]
        assert all(reminders(engine, m) == expected for m in ids[1:])
        assert reminders(engine, claimed) == []  # claimed at 10:00, before its first step
        with Session(engine) as s:
            posts = s.exec(select(Outbox.dedupe_key).where(Outbox.kind == "reminder")).all()
        assert len(posts) == len(set(posts)) == 3 * 11
        # What is stored is what a fresh sweep would work out (or a reset the next sweep works out).
        with Session(engine) as s:
            crisis = q.is_crisis_active(s)
            for mention in s.exec(select(Mention).where(col(Mention.state).in_(OPEN_STATES))).all():
                race = sweepers[0].race(mention, crisis=crisis)
                sent = {step for (_, stage, step) in q.reminders_of(s, mention_ids=[mention.id])  # type: ignore[list-item]
                        if race is not None and stage == race.stage}
                _, fresh = deadline_rules.ladder_plan(race, sweepers[0].ladder(mention.severity),
                                                      sweepers[0].calendar, now=clock.now(), sent=sent)
                assert (mention.next_step_at, mention.next_step_basis) in (
                    (fresh, sweepers[0].basis(crisis)), (None, None)), mention.id
    finally:
        one.engine.dispose()
        two.engine.dispose()


def test_a_time_worked_out_before_a_claim_does_not_overwrite_its_reset(bot, engine):
    """The sweep read the mention, a claim committed, then the sweep stores what it worked out: the claim's reset
    stays (the compare-and-set on what the time was computed from), so the next sweep works the claim out."""
    runtime, clock = bot
    [mid] = store(engine, [MONDAY_9])
    with Session(engine) as s:
        before_claim = s.get(Mention, mid)
    with session_scope(engine) as s:
        mention = lock_mention(s, mid)
        assert mention is not None
        compare_and_set(s, mention, expect={"state": "open", "owner": None},
                        values={"state": "claimed", "owner": "U0GEN0001", "first_response_at": clock.now()})
    with session_scope(engine) as s:
        assert q.set_next_steps(s, [(before_claim, paris(2026, 11, 23, 13, 0), runtime.escalation.basis(False))]) == 0
    with Session(engine) as s:
        stored = s.get(Mention, mid)
        assert stored is not None and (stored.next_step_at, stored.next_step_basis) == (None, None)
    with session_scope(engine) as s:  # unchanged since read: stored
        assert q.set_next_steps(s, [(stored, paris(2026, 11, 24, 12, 0), runtime.escalation.basis(False))]) == 1
