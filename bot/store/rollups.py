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
  finished day's counters do not change and a period's are the sum of its days'. The same rows keep that
  day's response-time percentiles (`PERCENTILES`), exact for a one-day period and the chart but never
  combined. The same rows keep that day's overdue deadlines (`overdue`: a due that passed that day with its
  milestone still missing at the day's end), exact for a one-day period but not summed either (a week judges
  them at its own end). What does not add up is left to the mentions: overdue deadlines of longer periods and
  their percentiles (a baseline, a week).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, bindparam, case, delete, extract, func, literal, or_, select, text, update
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
# The percentiles of one day's response times (whole seconds, NULL when none), on the same rows: exact for a
# one-day period and for the chart, never summed (a median of medians is not a median).
PERCENTILES = ("first_response_p50", "first_response_p90", "publication_p50", "publication_p90")
STAGES = (("first_response", MENTION.c.first_response_at), ("publication", MENTION.c.published_at_reply))
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


# --- durations and their percentiles (the digest's, and the rollup's per day) ---


def seconds_between(conn: Connection, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, computed by the database."""
    if conn.dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def as_timedelta(seconds: Any) -> timedelta | None:
    """Whole seconds (rounding is monotonic: the k-th rounded value is the rounded k-th value)."""
    return None if seconds is None else timedelta(seconds=round(float(seconds)))


def percentiles(conn: Connection, value: ColumnElement[Any], keys: list[Any], where: list[Any]
                 ) -> dict[tuple[Any, ...], tuple[timedelta | None, timedelta | None]]:
    """p50 and p90 of `value` for each group of `keys`, in one statement (percentile_disc: the smallest value
    whose cumulative share is >= p). SQLite has no percentile_disc: each group's rows are numbered in order
    and the k-th kept, k = ceil(p * n)."""
    # The keys are computed in a subquery and grouped by name: PostgreSQL does not see two renderings of a
    # CASE with bound parameters as one expression.
    rows = select(*(k.label(f"k{i}") for i, k in enumerate(keys)), value.label("v")).where(*where).subquery()
    group = [rows.c[f"k{i}"] for i in range(len(keys))]
    if conn.dialect.name == "postgresql":
        found = conn.execute(select(*group, func.percentile_disc(0.5).within_group(rows.c.v),
                                    func.percentile_disc(0.9).within_group(rows.c.v)).group_by(*group))
        return {tuple(row[:-2]): (as_timedelta(row[-2]), as_timedelta(row[-1])) for row in found}
    ranked = select(*group, rows.c.v, func.row_number().over(partition_by=group, order_by=rows.c.v).label("rn"),
                    func.count().over(partition_by=group).label("n")).subquery()
    k50, k90 = ((pct * ranked.c.n + 99) // 100 for pct in (50, 90))  # ceil(p * n), in integers
    out: dict[tuple[Any, ...], tuple[timedelta | None, timedelta | None]] = {}
    for *key, v, is50, is90 in conn.execute(
            select(*(ranked.c[f"k{i}"] for i in range(len(keys))), ranked.c.v, ranked.c.rn == k50,
                   ranked.c.rn == k90).where(or_(ranked.c.rn == k50, ranked.c.rn == k90))):
        p50, p90 = out.get(tuple(key), (None, None))
        out[tuple(key)] = (as_timedelta(v) if is50 else p50, as_timedelta(v) if is90 else p90)
    return out


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


def overdue(at: Any, due: Any, lo: datetime, hi: datetime, cutoff: datetime) -> list[Any]:
    """A due that passed in [lo, hi) by `cutoff`, its milestone `at` still missing then, the mention not closed
    before it (the digest's "overdue" breaches and deadlines missed, and the rollup's `overdue`)."""
    return [due >= lo, due < hi, due <= cutoff, or_(at.is_(None), at > cutoff),
            or_(MENTION.c.closed_at.is_(None), MENTION.c.closed_at > due)]


def day_overdue(conn: Connection, lo: datetime, hi: datetime) -> dict[str, int]:
    """Each team's deadlines overdue at the end of [lo, hi) that fell due in it: one statement per stage, on
    its deadline's index."""
    m = MENTION.c
    out: dict[str, int] = {}
    for at, due in ((m.first_response_at, m.first_response_due), (m.published_at_reply, m.published_due)):
        for team, n in conn.execute(select(m.team, func.count()).where(*overdue(at, due, lo, hi, hi))
                                    .group_by(m.team)):
            out[team] = out.get(team, 0) + int(n)
    return out


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


def day_percentiles(conn: Connection, lo: datetime, hi: datetime) -> dict[str, dict[str, int | None]]:
    """Each team's `PERCENTILES` for the milestones in [lo, hi), and the whole day's under the key `TOTAL`."""
    m = MENTION.c
    out: dict[str, dict[str, int | None]] = {}
    for name, at in STAGES:
        for keys in ([m.team], [literal(TOTAL)]):
            found = percentiles(conn, seconds_between(conn, at, m.received_at), keys, [at >= lo, at < hi])
            for (team, *_), values in found.items():
                for suffix, value in zip(("p50", "p90"), values, strict=True):
                    out.setdefault(team, dict.fromkeys(PERCENTILES))[f"{name}_{suffix}"] = (
                        None if value is None else int(value.total_seconds()))
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
    *rows, total = [{"day": day, **dict.fromkeys(COUNTERS, 0), **dict.fromkeys(PERCENTILES), "overdue": None, **row}
                    for row in day_counts(conn, lo, hi)]
    counters, timing, late = day_counters(conn, lo, hi), day_percentiles(conn, lo, hi), day_overdue(conn, lo, hi)
    nothing = dict.fromkeys(PERCENTILES)
    teams = dict.fromkeys([*counters, *(team for team in timing if team != TOTAL), *late])
    rows += [{"day": day, "team": team, "source": TOTAL, "theme": TOTAL,
              **counters.get(team, dict.fromkeys(COUNTERS, 0)), **timing.get(team, nothing),
              "overdue": late.get(team, 0)} for team in teams]
    total.update({name: sum(c[name] for c in counters.values()) for name in COUNTERS})
    total.update(timing.get(TOTAL, nothing))
    total["overdue"] = sum(late.values())
    return [*rows, total]
