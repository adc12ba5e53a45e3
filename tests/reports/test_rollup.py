"""The daily rollup the sweep keeps: the digest's figures read from it equal the figures computed from the
mentions themselves, on a seeded history (both DBs: the `engine` fixture); the 5-minute volume counters
written in one batch equal a count by hand."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlmodel import Session

from bot.reports.digest import compute_digest, compute_period, daily_series, one_day, week_ending
from bot.store import rollups
from bot.store.models import DailyRollup, Mention, Reminder, VolumeBucket
from tests.reports.test_digest import NOW, PARIS, PROTOCOL, D, local

COLUMNS = list(DailyRollup.__table__.c)  # type: ignore[attr-defined]
SOURCES = ["twitter", "rss", "mention", "press"]
TAGS = ["greve", "prix", "livraison", "rappel", "service"]


def seed(engine, days: int = 36) -> int:
    rng = random.Random(16)
    rows = []
    for back in range(days):
        day = D - timedelta(days=back)
        # A source and a theme that grow on D, so there is something to find.
        count = 12 + rng.randint(0, 10) + (25 if back == 0 else 0)
        for k in range(count):
            received = local(day, rng.randint(0, 23), rng.randint(0, 59))
            source = "press" if back == 0 and k < 25 else rng.choice(SOURCES)
            tags = sorted(set(rng.sample(TAGS, rng.randint(0, 2)) + (["greve"] if back == 0 and k < 25 else [])))
            rows.append(Mention(source=source, external_id=f"r{back}-{k}", url="https://x.example/", author="@a",
                                text="t", published_at=received, received_at=received,
                                team=rng.choice(["general", "legal", "finance"]), severity="low", tags=tags))
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
    return len(rows)


def seed_work(engine, days: int = 36) -> None:
    """A history with every counter the rollup keeps: first responses and replies with deadlines met and missed
    (some answered days after their due, so a deadline overdue on one day is late on another), mentions
    dismissed, deadlines still missing, reminders at and before their deadline, at local midnights too."""
    rng = random.Random(5)
    mentions, reminders = [], []
    for back in range(days):
        day = D - timedelta(days=back)
        for k in range(30):
            received = local(day, rng.choice([0, 6, 11, 18, 23]), rng.choice([0, 1, 30, 59]))
            fr_due, pub_due = received + timedelta(hours=1), received + timedelta(hours=rng.choice([4, 20]))
            kind = rng.choice(["answered", "late", "days_late", "dismissed", "open", "published", "no_due"])
            fr_at = pub_at = closed = None
            state = "open"
            if kind in ("answered", "late", "days_late", "published", "no_due"):
                fr_at = received + {"late": timedelta(hours=3), "days_late": timedelta(days=2, hours=1)}.get(
                    kind, timedelta(minutes=rng.randint(1, 59)))
            if kind in ("published", "days_late", "late"):
                pub_at = fr_at + timedelta(hours=rng.choice([1, 5, 30]))
                closed, state = pub_at, "published"
            if kind == "dismissed":
                closed, state = received + timedelta(hours=rng.choice([0, 2, 26])), "dismissed"
            if kind == "no_due":
                fr_due = pub_due = None
            mentions.append(Mention(
                source=rng.choice(SOURCES), external_id=f"w{back}-{k}", url="https://x.example/", author="@a",
                text="t", published_at=received, received_at=received, team=rng.choice(["general", "legal", "finance"]),
                severity="low", tags=[], state=state, first_response_due=fr_due, published_due=pub_due,
                first_response_at=fr_at, published_at_reply=pub_at, closed_at=closed))
    with Session(engine) as s:
        s.add_all(mentions)
        s.flush()
        for m in mentions:
            if m.first_response_due is not None and (m.first_response_at is None or m.first_response_at > m.first_response_due):
                for step, at in (("50%", m.first_response_due - timedelta(minutes=30)), ("100%", m.first_response_due)):
                    reminders.append(Reminder(mention_id=m.id, stage="first_response", step=step, due_at=at, sent_at=at))
            elif m.first_response_due is None and m.first_response_at is not None:
                reminders.append(Reminder(mention_id=m.id, stage="approved", step="+30m", due_at=m.received_at,
                                          sent_at=m.received_at + timedelta(minutes=30)))
        s.add_all(reminders)
        s.commit()


CORE = ("received", "published", "dismissed", "handled", "first_response_p50", "first_response_p90",
        "publication_p50", "publication_p90", "sla_kept", "sla_total", "escalations", "still_open", "breaches",
        "previous", "teams", "grown_sources", "grown_themes")


def _core(figures) -> dict:
    return {name: getattr(figures, name) for name in CORE}


@pytest.mark.parametrize("team", [None, "legal"])
def test_every_counter_from_the_rollup_equals_the_mentions(engine, team):
    """The counting pass read from the rollup (finished periods) gives the figures counted from the mentions,
    for a day, a week with its team lines, and the days around a period that is not rolled up (today)."""
    seed_work(engine)
    asked = [dict(period=one_day(D)), dict(period=one_day(D - timedelta(days=3))),
             dict(period=week_ending(D), per_team=team is None)]
    raw = [compute_period(engine, protocol=PROTOCOL, team=team, now=NOW, **a) for a in asked]
    today = compute_digest(engine, protocol=PROTOCOL, day=D + timedelta(days=1), team=team, now=NOW)
    chart = daily_series(engine, protocol=PROTOCOL, last_day=D + timedelta(days=1), days=14, team=team)
    assert all(median is not None for _, _, median in chart[:-1]) and raw[0].publication_p90
    assert raw[0].sla_total and raw[0].sla_kept not in (None, 1.0) and raw[0].dismissed and raw[0].escalations.sent
    assert raw[0].escalations.at_deadline and raw[0].previous.escalations and raw[2].previous.sla_total
    rollups.roll_up_days(engine, tz=PARIS, now=NOW)
    for a, before in zip(asked, raw, strict=True):
        after = compute_period(engine, protocol=PROTOCOL, team=team, now=NOW, **a)
        assert _core(after) == _core(before), a
        assert after.escalations == before.escalations
    after_today = compute_digest(engine, protocol=PROTOCOL, day=D + timedelta(days=1), team=team, now=NOW)
    assert _core(after_today) == _core(today)
    assert daily_series(engine, protocol=PROTOCOL, last_day=D + timedelta(days=1), days=14, team=team) == chart
    # The rollup's counters are those of the day's mentions: the day's total row is the sum of the teams'.
    with engine.connect() as conn:
        rows = conn.execute(select(DailyRollup).where(DailyRollup.day == D, DailyRollup.source == "",
                                                      DailyRollup.theme == "")).all()
    total = next(r for r in rows if r.team == "")
    assert total.published == raw[0].published if team is None else True
    for name in rollups.COUNTERS:
        assert getattr(total, name) == sum(getattr(r, name) for r in rows if r.team != "")


def _without_rollup(engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(DailyRollup))


@pytest.mark.parametrize("team", [None, "legal"])
def test_digest_figures_from_the_rollup_equal_those_from_the_mentions(engine, team):
    seed(engine)
    raw_day = compute_digest(engine, protocol=PROTOCOL, day=D, team=team, now=NOW)
    raw_week = compute_period(engine, protocol=PROTOCOL, period=week_ending(D), team=team, now=NOW)
    raw_series = daily_series(engine, protocol=PROTOCOL, last_day=D, days=14, team=team)
    written = rollups.roll_up_days(engine, tz=PARIS, now=NOW)
    assert D in written and len(written) == rollups.HISTORY_DAYS
    assert rollups.roll_up_days(engine, tz=PARIS, now=NOW) == []  # nothing changed: nothing to do
    rolled_day = compute_digest(engine, protocol=PROTOCOL, day=D, team=team, now=NOW)
    rolled_week = compute_period(engine, protocol=PROTOCOL, period=week_ending(D), team=team, now=NOW)
    assert raw_day.grown_sources and raw_day.grown_themes  # the seed makes some grow
    assert (rolled_day.grown_sources, rolled_day.grown_themes) == (raw_day.grown_sources, raw_day.grown_themes)
    assert (rolled_week.grown_sources, rolled_week.grown_themes) == (raw_week.grown_sources, raw_week.grown_themes)
    assert daily_series(engine, protocol=PROTOCOL, last_day=D, days=14, team=team) == raw_series
    # The rollup's own rows: the day's total equals a count of that day's mentions.
    lo, hi = rollups.local_day_bounds(D, PARIS)
    with engine.connect() as conn:
        total = conn.execute(select(DailyRollup.received).where(
            DailyRollup.day == D, DailyRollup.team == "", DailyRollup.source == "", DailyRollup.theme == "")).scalar()
        counted = conn.execute(select(func.count()).select_from(Mention).where(
            Mention.received_at >= lo, Mention.received_at < hi)).scalar()
    assert total == counted == raw_day.received if team is None else total == counted


def test_the_rollup_reads_the_mentions_only_for_days_it_does_not_cover(engine):
    """A digest of today (not rolled up yet) still counts today's mentions: the chart mixes both."""
    seed(engine, days=10)
    rollups.roll_up_days(engine, tz=PARIS, now=NOW)
    today = D + timedelta(days=1)
    with Session(engine) as s:
        for k in range(4):
            at = local(today, 7, k)
            s.add(Mention(source="rss", external_id=f"today{k}", url="https://x.example/", author="@a", text="t",
                          published_at=at, received_at=at, team="general", severity="low", tags=[]))
        s.commit()
    series = daily_series(engine, protocol=PROTOCOL, last_day=today, days=3, team=None)
    assert series[-1][1] == 4
    _without_rollup(engine)
    assert daily_series(engine, protocol=PROTOCOL, last_day=today, days=3, team=None) == series


def test_volume_counters_are_written_in_one_batch_and_equal_a_count(engine):
    now = datetime(2026, 11, 21, 8, 2, tzinfo=UTC)
    rng = random.Random(3)
    times = [now - timedelta(minutes=rng.randint(0, 60 * 24 * 7)) for _ in range(500)]
    with Session(engine) as s:
        for k, at in enumerate(times):
            s.add(Mention(source="rss", external_id=f"v{k}", url="https://x.example/", author="@a", text="t",
                          published_at=at, received_at=at, team="general", severity="low", tags=[],
                          state="archived" if k % 10 == 0 else "open"))
        s.commit()
    since = now - timedelta(days=7)
    written = rollups.count_volume(engine, now=now, since=since)
    assert written == 7 * 24 * 12 + 1  # every bucket of the week, once
    with Session(engine) as s:
        stored = {b.start: b.count for b in s.exec(select(VolumeBucket)).scalars()}
    expected: dict[datetime, int] = {}
    for k, at in enumerate(times):
        if k % 10 and at >= rollups.bucket_of(since):
            expected[rollups.bucket_of(at)] = expected.get(rollups.bucket_of(at), 0) + 1
    assert {b: n for b, n in stored.items() if n} == expected
    # The next sweep recounts from the last bucket on only.
    assert rollups.count_volume(engine, now=now + timedelta(minutes=1), since=since + timedelta(minutes=1)) <= 2


def test_two_sweeps_rolling_up_and_counting_at_once_write_each_row_once(engine):
    """Two instances (a leader handover) may sweep at the same moment: the rollup and the volume counters they
    write are the same rows, each once, equal to one sweep's (threads on a barrier, several rounds)."""
    import threading

    seed(engine, days=6)
    now = datetime(2026, 11, 21, 8, 2, tzinfo=UTC)
    for round_ in range(3):
        _without_rollup(engine)
        with engine.begin() as conn:
            conn.execute(delete(VolumeBucket))
        barrier = threading.Barrier(3)
        errors: list[BaseException] = []

        def sweep() -> None:
            try:
                barrier.wait(timeout=30)
                rollups.roll_up_days(engine, tz=PARIS, now=NOW, history=6)
                rollups.count_volume(engine, now=now, since=now - timedelta(days=1))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=sweep) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not errors, (round_, errors)
        with engine.connect() as conn:
            rows = sorted(tuple(r) for r in conn.execute(select(*COLUMNS)))
            buckets = conn.execute(select(func.count()).select_from(VolumeBucket)).scalar()
            totals = conn.execute(select(func.count()).select_from(DailyRollup).where(DailyRollup.team == "")).scalar()
        assert totals == 6 and buckets == 24 * 12 + 1
        expected = []
        for back in range(6):
            with engine.connect() as conn:
                expected += [tuple(r[c.key] for c in COLUMNS)
                             for r in rollups.day_rows(conn, D - timedelta(days=back), tz=PARIS)]
        assert rows == sorted(expected)


@pytest.mark.parametrize("team", [None, "legal"])
def test_a_rolled_up_days_overdue_deadlines_are_read_from_the_rollup(engine, team):
    """Issue 16: the daily digest reads a finished day's overdue deadlines from its rollup rows, not from the
    mentions' deadline indexes. Shown by changing the mentions after the rollup: a rolled-up day's figures do
    not move; a day rolled up before the rollup kept them (NULL) is still counted from the mentions."""
    seed_work(engine)
    raw = compute_digest(engine, protocol=PROTOCOL, day=D, team=team, now=NOW)
    assert any(b.kind == "overdue" for b in raw.breaches)
    rollups.roll_up_days(engine, tz=PARIS, now=NOW)
    with engine.begin() as conn:  # rewrite the history: every missing first response given at its due
        conn.execute(update(Mention).where(Mention.first_response_at.is_(None), Mention.first_response_due.is_not(None))
                     .values(first_response_at=Mention.first_response_due))
    rolled = compute_digest(engine, protocol=PROTOCOL, day=D, team=team, now=NOW)
    assert (rolled.sla_total, rolled.sla_kept) == (raw.sla_total, raw.sla_kept)
    with engine.begin() as conn:
        conn.execute(update(DailyRollup).values(overdue=None))
    fallback = compute_digest(engine, protocol=PROTOCOL, day=D, team=team, now=NOW)
    assert fallback.sla_total < raw.sla_total  # the changed mentions' overdue deadlines were counted again
