"""Counters the sweep keeps so that reports read a few hundred rows instead of the mentions themselves.

* `count_volume`: mentions received per 5-minute bucket (`VolumeBucket`), for spike detection. From the
  last bucket counted on (what changed since the last sweep), counted by the database in one grouped
  statement, then written in one short transaction (on SQLite the write lock is held for that only). It
  used to fetch every timestamp since a week ago at the first sweep after a start, then read and write a
  week of buckets one statement each (2,016 of them) holding the write lock for seconds.
* `roll_up_days`: the daily rollup (`DailyRollup`: day, team, source, theme, received) of every finished
  local day not rolled up yet, one day per transaction; the digest reads it (`bot.reports.digest`). Each
  team's total row (team, "", "") and the day's total row ("", "", "") also hold the digest's counters
  (`COUNTERS`): replies published, mentions dismissed, milestones with a deadline and those that met it,
  escalations. Each is counted on the day its event happened (a reply, a closing, a reminder sent), so a
  finished day's counters do not change and a period's are the sum of its days'. What does not add up is
  left to the mentions: overdue deadlines (judged at the period's cutoff) and the percentiles.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from bot.store.models import DailyRollup, Mention, Reminder, UTCDateTime, VolumeBucket

BUCKET_SECONDS = 300
VOLUME = VolumeBucket.__table__  # type: ignore[attr-defined]
ROLLUP = DailyRollup.__table__  # type: ignore[attr-defined]
MENTION = Mention.__table__  # type: ignore[attr-defined]
TOTAL = ""  # team, source and theme of a day's total row, which also marks the day as rolled up
# The counters of a team's total row and of the day's total row (0 on the others).
COUNTERS = ("received", "published", "dismissed", "first_response_n", "first_response_met", "published_n",
            "published_met", "escalations", "at_deadline")
HISTORY_DAYS = 35  # how far back the first rollup goes: the weekly summary's 4 baseline weeks, and its own


def bucket_of(at: datetime) -> datetime:
    return datetime.fromtimestamp(int(at.timestamp()) // BUCKET_SECONDS * BUCKET_SECONDS, tz=at.tzinfo)


def _bucket_number(dialect: str) -> str:
    if dialect == "postgresql":
        return f"CAST(floor(extract(epoch FROM received_at) / {BUCKET_SECONDS}) AS BIGINT)"
    return f"CAST(strftime('%s', received_at) AS INTEGER) / {BUCKET_SECONDS}"


def count_volume(engine: Engine, *, now: datetime, since: datetime) -> int:
    """Bring the 5-minute counters up to date (see the module's docstring); a SET of exact counts, so running
    it twice, or on two instances, is harmless. History (`vigie import --history`) is not counted: it
    arrives all at once but was published long ago. Returns how many buckets were written."""
    tz = now.tzinfo
    first = bucket_of(since)
    with engine.connect() as conn:
        latest = conn.execute(select(func.max(VOLUME.c.start))).scalar()
        start = first if latest is None else max(first, min(latest, bucket_of(now) - timedelta(seconds=BUCKET_SECONDS)))
        grouped = text(f"SELECT {_bucket_number(conn.dialect.name)} AS b, COUNT(*) FROM mention"
                       " WHERE received_at >= :start AND state <> 'archived' GROUP BY 1"
                       ).bindparams(bindparam("start", type_=UTCDateTime()))
        counts = {datetime.fromtimestamp(int(b) * BUCKET_SECONDS, tz=tz): int(n)
                  for b, n in conn.execute(grouped, {"start": start})}
        stored = dict(conn.execute(select(VOLUME.c.start, VOLUME.c.count).where(VOLUME.c.start >= start)).all())
    wanted: dict[datetime, int] = {}
    bucket = start
    while bucket <= now:
        wanted[bucket] = counts.get(bucket, 0)
        bucket += timedelta(seconds=BUCKET_SECONDS)
    new = [{"start": b, "count": n} for b, n in wanted.items() if b not in stored]
    changed = [{"b": b, "n": n} for b, n in wanted.items() if b in stored and stored[b] != n]
    with engine.begin() as conn:
        conn.execute(delete(VOLUME).where(VOLUME.c.start < first))
        if new:
            conn.execute(_insert_ignore(conn), new)
        if changed:
            conn.execute(update(VOLUME).where(VOLUME.c.start == bindparam("b")).values(count=bindparam("n")), changed)
    return len(new) + len(changed)


def _insert_ignore(conn: Connection, table: Any = VOLUME) -> Any:
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[conn.dialect.name]
    return insert(table).on_conflict_do_nothing()


# --- the daily rollup ------------------------------------------------------------------------------

SETTLE = timedelta(minutes=5)  # a day is rolled up this long after its end (transactions still committing)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day as aware UTC datetimes (= bot.reports.digest.day_bounds)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def rolled_up_days(conn: Connection, first: date, last: date) -> set[date]:
    return set(conn.execute(select(ROLLUP.c.day).where(
        ROLLUP.c.day >= first, ROLLUP.c.day <= last, ROLLUP.c.team == TOTAL, ROLLUP.c.source == TOTAL,
        ROLLUP.c.theme == TOTAL)).scalars())


def roll_up_days(engine: Engine, *, tz: ZoneInfo, now: datetime, history: int = HISTORY_DAYS) -> list[date]:
    """Roll up each finished local day not rolled up yet (from `history` days back at the first run), one
    short transaction a day; returns the days written. Its cost is the days that ended since the last run,
    not what is stored."""
    last = (now - SETTLE).astimezone(tz).date() - timedelta(days=1)
    first = last - timedelta(days=history - 1)
    with engine.connect() as conn:
        done = rolled_up_days(conn, first, last)
    written = []
    day = first
    while day <= last:
        if day not in done:
            roll_up_day(engine, day, tz=tz)
            written.append(day)
        day += timedelta(days=1)
    return written


def _themes_sql(dialect: str) -> str:
    source = ("mention AS m CROSS JOIN LATERAL json_array_elements_text(m.tags) AS j(value)"
              if dialect == "postgresql" else "mention AS m, json_each(m.tags) AS j")
    return (f"SELECT m.team, j.value, COUNT(DISTINCT m.id) FROM {source}"
            " WHERE m.received_at >= :lo AND m.received_at < :hi GROUP BY m.team, j.value")


def day_counts(conn: Connection, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    """The rollup rows of the mentions received in [lo, hi) (the day itself is added by the caller)."""
    by_source = conn.execute(select(MENTION.c.team, MENTION.c.source, func.count())
                             .where(MENTION.c.received_at >= lo, MENTION.c.received_at < hi)
                             .group_by(MENTION.c.team, MENTION.c.source)).all()
    themes = conn.execute(text(_themes_sql(conn.dialect.name)).bindparams(
        bindparam("lo", type_=UTCDateTime()), bindparam("hi", type_=UTCDateTime())), {"lo": lo, "hi": hi}).all()
    rows = [{"team": team, "source": source, "theme": TOTAL, "received": int(n)} for team, source, n in by_source]
    rows += [{"team": team, "source": TOTAL, "theme": str(theme), "received": int(n)} for team, theme, n in themes]
    rows.append({"team": TOTAL, "source": TOTAL, "theme": TOTAL, "received": sum(int(n) for *_, n in by_source)})
    return rows


def deadline_reached() -> ColumnElement[Any]:
    """1 for a reminder whose step was at or after its deadline (the digest's escalations "at deadline")."""
    return case(
        (and_(Reminder.stage == "first_response", Mention.first_response_due.is_not(None)),
         case((Reminder.due_at >= Mention.first_response_due, 1), else_=0)),
        (and_(Reminder.stage == "published", Mention.published_due.is_not(None)),
         case((Reminder.due_at >= Mention.published_due, 1), else_=0)),
        # No stored deadline (the approval stage): the ladder's own keys, "100%" or "+30m".
        (or_(Reminder.step == "100%", Reminder.step.like("+%")), 1),
        else_=0,
    )


def day_counters(conn: Connection, lo: datetime, hi: datetime) -> dict[str, dict[str, int]]:
    """Each team's `COUNTERS` for [lo, hi), every one counted on the day its event happened, each statement
    read from the index of its own timestamp (the same definitions as bot.reports.digest's counting pass)."""
    m = MENTION.c
    out: dict[str, dict[str, int]] = {}

    def add(query: Any, *names: str) -> None:
        for team, *values in conn.execute(query.group_by(m.team)):
            counters = out.setdefault(team, dict.fromkeys(COUNTERS, 0))
            for name, value in zip(names, values, strict=True):
                counters[name] += int(value or 0)

    def between(column: Any) -> list[Any]:
        return [column >= lo, column < hi]

    add(select(m.team, func.count()).where(*between(m.received_at)), "received")
    add(select(m.team, func.count()).where(m.state == "dismissed", *between(m.closed_at)), "dismissed")
    add(select(m.team, func.count(), func.count().filter(m.published_due.is_not(None)),
               func.count().filter(m.published_due.is_not(None), m.published_at_reply <= m.published_due))
        .where(*between(m.published_at_reply)), "published", "published_n", "published_met")
    add(select(m.team, func.count().filter(m.first_response_due.is_not(None)),
               func.count().filter(m.first_response_due.is_not(None), m.first_response_at <= m.first_response_due))
        .where(*between(m.first_response_at)), "first_response_n", "first_response_met")
    add(select(m.team, func.count(), func.sum(deadline_reached())).select_from(Reminder)
        .join(MENTION, m.id == Reminder.mention_id).where(*between(Reminder.sent_at)), "escalations", "at_deadline")
    return out


def roll_up_day(engine: Engine, day: date, *, tz: ZoneInfo) -> None:
    """Count one local day and write its rows, its total row with them (which marks the day done), in one
    transaction. Two instances rolling the same day write the same rows: the second one's are ignored."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL jit = off")  # see bot.reports.digest._no_jit
        conn.execute(_insert_ignore(conn, ROLLUP), day_rows(conn, day, tz=tz))


def day_rows(conn: Connection, day: date, *, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Every rollup row of the local day `day`, its total row last."""
    lo, hi = local_day_bounds(day, tz)
    *rows, total = [{"day": day, **dict.fromkeys(COUNTERS, 0), **row} for row in day_counts(conn, lo, hi)]
    counters = day_counters(conn, lo, hi)
    rows += [{"day": day, "team": team, "source": TOTAL, "theme": TOTAL, **c} for team, c in counters.items()]
    total.update({name: sum(c[name] for c in counters.values()) for name in COUNTERS})
    return [*rows, total]
