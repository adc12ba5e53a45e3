"""The daily digest and the weekly summary: figures that measure the quality of the response (times,
deadlines kept, escalations, what is still waiting), not vanity counts.

`compute_period` reads a `Period` of LOCAL days (in the protocol's timezone: one day for the daily digest, seven
for the weekly summary) for one team or the whole company, and `compute_digest` is its one-day case. SQL
aggregates only: counts and GROUP BY, durations as epoch differences and percentiles computed by the database
(``percentile_disc`` on PostgreSQL, the k-th value by ``row_number()`` on SQLite). Only the
short lists shown to people (breaches, the oldest open items, waiting drafts) come back as rows. A period whose
days are all rolled up by the sweep (bot.store.rollups) reads its counts from the rollup (and, for one day,
its percentiles); overdue deadlines, longer periods' percentiles and today read the mentions.

Definitions, for a period [local midnight of its first day, local midnight after its last day); "that day"
below reads "in the period":

* received: mentions received that day; published: replies published that day; dismissed: mentions
  dismissed (closed) that day; handled = published + dismissed.
* cutoff = min(now, end of the period). still_open: mentions received before the cutoff and neither published nor
  closed by then (milestones, not the current state, so a past day always gives the same answer).
* first response / publication times: ``first_response_at - received_at`` and ``published_at_reply -
  received_at`` for the mentions whose milestone happened that day; p50/p90 are ``percentile_disc``.
* sla_kept: share of the deadlines settled that day that were kept; sla_total: how many. A deadline is settled
  by its milestone happening that day (kept when at or before its due), or by its due passing that day with the
  milestone still missing at the cutoff (overdue: missed, so a day of unanswered mentions never reads 100 %).
* breaches: a milestone that happened that day after its due ("late"), and a due that passed that day with
  its milestone still missing at the cutoff ("overdue"); both count as missed in sla_kept.
* escalations: Reminder rows sent that day; at_deadline: those whose step was at or after the deadline.
* grown sources/themes: count in the period >= 1.5 x its average over the baseline periods and at least
  3 mentions above it.
* baseline: the same core figures over the periods of the same length just before (the 7 previous days for
  the daily digest, the 4 previous weeks for the weekly summary); counts are averages per period, shares
  and percentiles are pooled over the whole baseline (an average of percentiles means nothing).
* per-team lines (weekly company-wide summary): the core figures above for each team, and its late mentions.

Figures only: the words and the Block Kit blocks are drawn from them by `bot/slack/views/digest.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from bot.protocol.schema import Protocol
from bot.reports import growth
from bot.reports.growth import Growth
from bot.store import rollups
from bot.store.rollups import percentiles, seconds_between
from bot.store.models import Crisis, DailyRollup, Draft, Mention, Reminder

TERMINAL_STATES = ("published", "dismissed")
LIST_LIMIT = 10  # oldest open items and waiting drafts kept in the figures
BASELINE_DAYS = 7  # the daily digest is compared with the 7 previous days
# The weekly summary is compared with the average of the 4 previous weeks rather than with last week alone: a
# week already holds every weekday, and 4 weeks damp one unusual week (after a crisis week, a comparison
# with that week alone would flatter everything).
BASELINE_WEEKS = 4


# ---------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Period:
    """`days` local days from `first`, compared with the `baseline` periods of the same length just before."""

    first: date
    days: int = 1
    baseline: int = BASELINE_DAYS

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)

    @property
    def weekly(self) -> bool:
        return self.days > 1


def one_day(day: date) -> Period:
    return Period(day, 1, BASELINE_DAYS)


def week_ending(last: date) -> Period:
    """The 7 local days ending on `last` (included), against the 4 weeks before them."""
    return Period(last - timedelta(days=6), 7, BASELINE_WEEKS)


@dataclass(frozen=True)
class OpenItem:
    mention_id: int
    age: timedelta
    team: str
    state: str
    channel: str | None = None
    relay_ts: str | None = None


@dataclass(frozen=True)
class Breach:
    mention_id: int
    stage: str  # first_response | published
    kind: str  # late (milestone after its due) | overdue (due passed, milestone still missing)
    due: datetime
    at: datetime | None  # the milestone, None when still missing
    team: str
    state: str
    channel: str | None = None
    relay_ts: str | None = None


@dataclass(frozen=True)
class Escalations:
    sent: int
    at_deadline: int  # steps at or after the deadline


@dataclass(frozen=True)
class CrisisItem:
    crisis_id: int
    declared_at: datetime
    ended_at: datetime | None
    reason: str | None
    declared_in_period: bool
    ended_in_period: bool


@dataclass(frozen=True)
class WaitingDraft:
    mention_id: int
    version: int
    age: timedelta
    author: str
    team: str


@dataclass(frozen=True)
class TeamLine:
    """One team's line in the company-wide weekly summary."""

    team: str
    received: int
    handled: int
    still_open: int
    sla_kept: float | None
    sla_total: int
    first_response_p50: timedelta | None
    late: int  # distinct mentions with a missed deadline in the period


@dataclass(frozen=True)
class CoreFigures:
    """The comparable figures: for the period itself, or averages per period over the baseline."""

    received: float
    published: float
    dismissed: float
    handled: float
    first_response_p50: timedelta | None
    first_response_p90: timedelta | None
    publication_p50: timedelta | None
    publication_p90: timedelta | None
    sla_kept: float | None
    sla_total: float
    escalations: float


@dataclass(frozen=True)
class DigestFigures:
    period: Period
    team: str | None
    timezone: str
    cutoff: datetime  # min(now, end of day): open items and overdue dues are judged at this instant
    received: int
    published: int
    dismissed: int
    handled: int
    still_open: int
    oldest_open: tuple[OpenItem, ...]
    first_response_p50: timedelta | None
    first_response_p90: timedelta | None
    publication_p50: timedelta | None
    publication_p90: timedelta | None
    sla_kept: float | None
    sla_total: int
    breaches: tuple[Breach, ...]
    escalations: Escalations
    crises: tuple[CrisisItem, ...]
    grown_sources: tuple[Growth, ...]
    grown_themes: tuple[Growth, ...]
    waiting_drafts_count: int
    waiting_drafts: tuple[WaitingDraft, ...]
    previous: CoreFigures
    teams: tuple[TeamLine, ...] = ()

    @property
    def day(self) -> date:
        """The period's first day (the day itself for a daily digest)."""
        return self.period.first

    @property
    def late_mentions(self) -> tuple[int, ...]:
        """Distinct mention ids among the breaches, in order."""
        return tuple(dict.fromkeys(b.mention_id for b in self.breaches))


# ---------------------------------------------------------------------------- SQL helpers


def day_bounds(day: date, tz: Any) -> tuple[datetime, datetime]:
    """[start, end) of the local day `day`, as aware UTC datetimes (23 or 25 hours on DST days)."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return start, end


def period_bounds(period: Period, tz: Any) -> tuple[datetime, datetime]:
    """[start, end) of the period's local days, as aware UTC datetimes (a week holding a DST change is 167 or
    169 hours)."""
    return day_bounds(period.first, tz)[0], day_bounds(period.last, tz)[1]


def _team(team: str | None) -> list[Any]:
    return [] if team is None else [Mention.team == team]


def _between(column: Any, start: datetime, end: datetime) -> list[Any]:
    return [column >= start, column < end]


def _bucket(column: Any, bounds: list[datetime]) -> ColumnElement[Any]:
    """The index i of the period [bounds[i], bounds[i+1]) holding `column` (filtered to the whole span)."""
    if len(bounds) == 2:
        return literal(0)
    return case(*((column < upper, i) for i, upper in enumerate(bounds[1:-1])), else_=len(bounds) - 2)


def _blank() -> dict[str, Any]:
    return {"received": 0, "published": 0, "dismissed": 0, "handled": 0, "first_response_p50": None,
            "first_response_p90": None, "publication_p50": None, "publication_p90": None, "sla_kept": None,
            "sla_total": 0, "escalations": 0, "at_deadline": 0}


def _overdue(at: Any, due: Any, lo: datetime, hi: datetime, cutoff: datetime) -> list[Any]:
    """A due that passed in [lo, hi) by `cutoff`, its milestone still missing then, the mention not closed
    before it (the same rule as the "overdue" breaches, and the rollup's)."""
    return rollups.overdue(at, due, lo, hi, cutoff)


def _core(conn: Connection, bounds: list[datetime], team: str | None, *, cutoff: datetime, days: list[date],
          by_team: bool = False) -> dict[tuple[str | None, int], dict[str, Any]]:
    """The core figures of each period [bounds[i], bounds[i+1]) (the local days [days[i], days[i+1])), keyed
    (team, i): `team` (None: the company) or, with `by_team`, each team's key.

    The counts of a period whose days are all rolled up (bot.store.rollups) are the sums of its days' rows;
    the others' are counted from the mentions in one pass (a FILTER per period). Overdue deadlines are judged
    at the period's cutoff, so they do not add up day by day: a rolled-up day's are its rollup rows' own, the
    other periods' are counted from the mentions, from the two deadline indexes. The percentiles of each
    duration come from the mentions too, in one statement grouped by period (a median of medians is not a
    median)."""
    periods = list(pairwise(bounds))
    counted: dict[tuple[str | None, int], dict[str, int]] = {}

    def part(key: str | None, i: int) -> dict[str, int]:
        return counted.setdefault((key if by_team else team, i), dict.fromkeys((*rollups.COUNTERS, "over"), 0))

    covered = rollups.rolled_up_days(conn, days[0], days[-1] - timedelta(days=1))
    rolled = [i for i in range(len(periods))
              if all(days[i] + timedelta(days=k) in covered for k in range((days[i + 1] - days[i]).days))]
    raw = [i for i in range(len(periods)) if i not in rolled]
    if rolled:
        _rolled_counts(conn, [(days[i], days[i + 1], i) for i in rolled], team, by_team, part)
    if raw:
        _raw_counts(conn, [(i, *periods[i]) for i in raw], team, by_team, part)
    one_day = {i for i in rolled if (days[i + 1] - days[i]).days == 1}  # percentiles from the rollup
    judged = _rolled_overdue(conn, {days[i]: i for i in one_day}, team, by_team, part) if one_day else set()
    unjudged = [(i, *periods[i]) for i in range(len(periods)) if i not in judged]
    if unjudged:
        _overdue_counts(conn, unjudged, team, by_team, cutoff, part)
    figures: dict[tuple[str | None, int], dict[str, Any]] = {(team, i): _blank() for i in range(len(periods))}
    for key, c in counted.items():
        if key[1] in one_day:
            figures.setdefault(key, _blank()).update({name: c.get(name) for name in rollups.PERCENTILES})
        total = c["first_response_n"] + c["published_n"] + c["over"]
        figures.setdefault(key, _blank()).update(
            received=c["received"], published=c["published"], dismissed=c["dismissed"],
            handled=c["published"] + c["dismissed"], escalations=c["escalations"], at_deadline=c["at_deadline"],
            sla_kept=(c["first_response_met"] + c["published_met"]) / total if total else None, sla_total=total)
    tw = _team(team)
    by = [Mention.team] if by_team else []
    rest = [i for i in range(len(periods)) if i not in one_day]
    for name, at in (("first_response", Mention.first_response_at), ("publication", Mention.published_at_reply)):
        if not rest:
            break
        found = percentiles(conn, seconds_between(conn, at, Mention.received_at), [*by, _bucket(at, bounds)],
                            [*_between(at, bounds[rest[0]], bounds[rest[-1] + 1]), *tw])
        for row_key, (p50, p90) in found.items():
            key = (row_key[0], row_key[1]) if by_team else (team, row_key[0])
            if key[1] in rest:
                figures.setdefault(key, _blank()).update({f"{name}_p50": p50, f"{name}_p90": p90})
    return figures


def _rolled_counts(conn: Connection, spans: list[tuple[date, date, int]], team: str | None, by_team: bool,
                   part: Any) -> None:
    """Sum the rollup's total rows (the team's, or the day's) over each span of local days [first, after)."""
    r = DailyRollup
    which = case(*((and_(r.day >= first, r.day < after), i) for first, after, i in spans))  # type: ignore[operator]
    if by_team:
        keys: list[Any] = [r.team]
        rows = [r.team != rollups.TOTAL]  # type: ignore[comparison-overlap]
    else:
        keys, rows = [], [r.team == (rollups.TOTAL if team is None else team)]
    # A one-day span's percentiles are its row's own (max() of one row); a longer span's are not kept.
    sums = [*(func.sum(getattr(r, name)) for name in rollups.COUNTERS),
            *(func.max(getattr(r, name)) for name in rollups.PERCENTILES)]
    found = select(*keys, which.label("period"), *sums).where(
        r.source == rollups.TOTAL, r.theme == rollups.TOTAL, *rows,  # type: ignore[arg-type]
        or_(*(and_(r.day >= first, r.day < after) for first, after, _ in spans))  # type: ignore[operator]
    ).group_by(*keys, "period")
    for row in conn.execute(found):
        key = row[0] if by_team else None
        values = row[len(keys) + 1:]
        n = len(rollups.COUNTERS)
        part(key, row[len(keys)]).update(
            {**{name: int(v or 0) for name, v in zip(rollups.COUNTERS, values[:n], strict=True)},
             **{name: None if v is None else timedelta(seconds=int(v))
                for name, v in zip(rollups.PERCENTILES, values[n:], strict=True)}})


def _raw_counts(conn: Connection, periods: list[tuple[int, datetime, datetime]], team: str | None, by_team: bool,
                part: Any) -> None:
    """The counters of periods not rolled up, from the mentions: one pass over them (a FILTER per period and
    counter; each mention with a milestone in the span read once: PostgreSQL ORs the columns' indexes), and
    the reminders."""
    tw = _team(team)
    by = [Mention.team] if by_team else []
    counts = []
    for _, lo, hi in periods:
        counts += [func.count().filter(*_between(Mention.received_at, lo, hi)),
                   func.count().filter(*_between(Mention.published_at_reply, lo, hi)),
                   func.count().filter(Mention.state == "dismissed", *_between(Mention.closed_at, lo, hi))]
        for at, due in ((Mention.first_response_at, Mention.first_response_due),
                        (Mention.published_at_reply, Mention.published_due)):
            counts += [func.count().filter(*_between(at, lo, hi), due.is_not(None)),
                       func.count().filter(*_between(at, lo, hi), due.is_not(None), at <= due)]
    first, last = min(p[1] for p in periods), max(p[2] for p in periods)
    in_span = or_(*(and_(*_between(column, first, last)) for column in (
        Mention.received_at, Mention.published_at_reply, Mention.closed_at, Mention.first_response_at)))
    names = ("received", "published", "dismissed", "first_response_n", "first_response_met", "published_n",
             "published_met")
    for row in conn.execute(select(*by, *counts).where(in_span, *tw).group_by(*by)):
        values = row[len(by):]
        for k, (i, _, _) in enumerate(periods):
            part(row[0] if by_team else None, i).update(
                {n: int(v) for n, v in zip(names, values[len(names) * k:len(names) * (k + 1)], strict=True)})
    for i, lo, hi in periods:
        query = select(*by, func.count(), func.sum(rollups.deadline_reached())).select_from(Reminder).join(
            Mention, Mention.id == Reminder.mention_id)
        for row in conn.execute(query.where(*_between(Reminder.sent_at, lo, hi), *tw).group_by(*by)):
            part(row[0] if by_team else None, i).update(escalations=int(row[-2]), at_deadline=int(row[-1] or 0))


def _rolled_overdue(conn: Connection, day_of: dict[date, int], team: str | None, by_team: bool, part: Any) -> set[int]:
    """The overdue deadlines of one-day periods that are rolled up (`day_of`: each day's period index), from the
    rollup's total rows (a few per day); returns the periods read. A day rolled up before the rollup kept them
    has NULL there: its period is left to the mentions."""
    r = DailyRollup
    rows = conn.execute(select(r.day, r.team, r.overdue).where(
        col(r.day).in_(list(day_of)), r.source == rollups.TOTAL, r.theme == rollups.TOTAL)).all()
    kept = {day for day, key, n in rows if key == rollups.TOTAL and n is not None}
    wanted = rollups.TOTAL if team is None else team
    for day, key, n in rows:
        if day in kept and n and (key != rollups.TOTAL if by_team else key == wanted):
            part(key if by_team else None, day_of[day])["over"] += int(n)
    return {day_of[day] for day in kept}


def _overdue_counts(conn: Connection, periods: list[tuple[int, datetime, datetime]], team: str | None,
                    by_team: bool, cutoff: datetime, part: Any) -> None:
    """Deadlines whose due passed in each period (index, start, end) with their milestone still missing at its
    cutoff (the period's end, or `cutoff` if sooner): one statement per stage, each on its deadline's index."""
    by = [Mention.team] if by_team else []
    for at, due in ((Mention.first_response_at, Mention.first_response_due),
                    (Mention.published_at_reply, Mention.published_due)):
        counts = [func.count().filter(*_overdue(at, due, lo, hi, min(cutoff, hi))) for _, lo, hi in periods]
        query = select(*by, *counts).where(*_between(due, min(p[1] for p in periods), max(p[2] for p in periods)),
                                           *_team(team))
        for row in conn.execute(query.group_by(*by)):
            for (i, _, _), n in zip(periods, row[len(by):], strict=True):
                part(row[0] if by_team else None, i)["over"] += int(n)


def _open_cases(cutoff: datetime, team: str | None) -> list[list[Any]]:
    """Received before `cutoff` and neither published nor closed by then, as three disjoint cases, each read
    from its own index: never replied nor closed (the partial index ix_mention_unhandled; a closed state
    without its milestone recorded, from older rows, is not open), replied after the cutoff, closed after
    the cutoff without a reply. One condition with ORs read every mention received before the cutoff."""
    reply, closed = Mention.published_at_reply, Mention.closed_at
    before = [Mention.received_at < cutoff, *_team(team)]
    return [[*before, reply.is_(None), closed.is_(None), Mention.state.not_in(TERMINAL_STATES)],
            [*before, reply >= cutoff, or_(closed.is_(None), closed >= cutoff)],
            [*before, closed >= cutoff, reply.is_(None)]]


def _still_open(conn: Connection, cutoff: datetime, team: str | None) -> int:
    # Selecting a constant leaves every column the count needs in the indexes (index-only scans).
    cases = union_all(*(select(literal(1).label("one")).where(*case_) for case_ in _open_cases(cutoff, team)))
    return int(conn.execute(select(func.count()).select_from(cases.subquery())).scalar_one())


def _oldest_open(conn: Connection, cutoff: datetime, team: str | None) -> tuple[OpenItem, ...]:
    never, *later = _open_cases(cutoff, team)
    cols = (Mention.id, Mention.received_at, Mention.team, Mention.state, Mention.channel, Mention.relay_ts)
    oldest_never = select(*cols).where(*never).order_by(Mention.received_at, Mention.id).limit(LIST_LIMIT).subquery()
    # The mentions handled after the cutoff are few (since the end of the day) and read from the milestones'
    # indexes. OFFSET keeps them a subquery of their own: merged into the ORDER BY ... LIMIT, PostgreSQL
    # walked received_at from the oldest mention of all, hoping to meet ten of them early (0.5 s).
    handled_later = select(*cols).where(or_(*(and_(*case_) for case_ in later))).offset(0).subquery()
    merged = union_all(select(*oldest_never.c), select(*handled_later.c)).subquery()
    return tuple(
        OpenItem(mid, cutoff - received, team_key, state, channel, ts)
        for mid, received, team_key, state, channel, ts in conn.execute(
            select(*merged.c).order_by(merged.c.received_at, merged.c.id).limit(LIST_LIMIT)))


def _breaches(conn: Connection, start: datetime, end: datetime, cutoff: datetime, team: str | None) -> list[Breach]:
    out: list[Breach] = []
    cols = (Mention.id, Mention.team, Mention.state, Mention.channel, Mention.relay_ts)
    for stage, at, due in (("first_response", Mention.first_response_at, Mention.first_response_due),
                           ("published", Mention.published_at_reply, Mention.published_due)):
        late = select(*cols, due, at).where(*_between(at, start, end), due.is_not(None), at > due, *_team(team))
        overdue = select(*cols, due, at).where(
            *_between(due, start, end), due <= cutoff, or_(at.is_(None), at > cutoff),
            or_(Mention.closed_at.is_(None), Mention.closed_at > due), *_team(team))
        for kind, query in (("late", late), ("overdue", overdue)):
            for mid, team_key, state, channel, ts, due_at, at_value in conn.execute(query):
                out.append(Breach(mid, stage, kind, due_at, at_value if kind == "late" else None, team_key, state,
                                  channel, ts))
    out.sort(key=lambda b: (b.due, b.mention_id, b.stage))
    return out


def _no_jit(conn: Connection) -> None:
    """PostgreSQL compiles a statement it estimates costly (JIT); the planner takes each json_array_elements_text
    call for 100 tags, so the grown themes looked costly enough, and compiling took 0.4 s of a 0.2 s query.
    The digest's statements are short reads: off for this transaction only."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")


def daily_series(engine: Engine, *, protocol: Protocol, last_day: date, days: int,
                 team: str | None) -> list[tuple[date, int, timedelta | None]]:
    """(day, mentions received, median time to first response) for `days` local days ending on `last_day`:
    the same figures as the digest of each day, in two statements grouped by day, for the digest's chart."""
    chart_days = [last_day - timedelta(days=back) for back in range(days - 1, -1, -1)]
    # Local midnights computed here, not by the database: SQLite knows no timezones, and DST days differ.
    bounds = [day_bounds(day, protocol.tz)[0] for day in chart_days] + [day_bounds(last_day, protocol.tz)[1]]
    tw = _team(team)
    with engine.connect() as conn:
        _no_jit(conn)
        # Finished days from the daily rollup (a few rows each), the others (today) from the mentions.
        rolled = growth.rolled_up_counts(conn, chart_days, team)
        missing = [i for i, day in enumerate(chart_days) if day not in rolled]
        counts = {i: rolled[day] for i, day in enumerate(chart_days) if day in rolled}
        if missing:
            lo, hi = bounds[missing[0]], bounds[missing[-1] + 1]
            received = select(_bucket(Mention.received_at, bounds).label("day")).where(
                *_between(Mention.received_at, lo, hi), *tw).subquery()
            for i, n in conn.execute(select(received.c.day, func.count()).group_by(received.c.day)).all():
                if i in missing:
                    counts[i] = n
        # The medians of the rolled-up days are their total rows' (the team's, or the day's).
        r = DailyRollup
        kept = dict(conn.execute(select(r.day, r.first_response_p50).where(  # type: ignore[call-overload]
            r.day >= chart_days[0], r.day <= last_day, r.team == (rollups.TOTAL if team is None else team),
            r.source == rollups.TOTAL, r.theme == rollups.TOTAL)).all())  # type: ignore[arg-type]
        medians = {(i,): (None if kept.get(day) is None else timedelta(seconds=kept[day]), None)
                   for i, day in enumerate(chart_days) if day in rolled}
        if missing:
            at = Mention.first_response_at
            found = percentiles(conn, seconds_between(conn, at, Mention.received_at), [_bucket(at, bounds)],
                                [*_between(at, bounds[missing[0]], bounds[missing[-1] + 1]), *tw])
            medians.update({key: value for key, value in found.items() if key[0] in missing})
    return [(day, int(counts.get(i, 0)), medians.get((i,), (None, None))[0]) for i, day in enumerate(chart_days)]


def compute_digest(engine: Engine, *, protocol: Protocol, day: date, team: str | None,
                   now: datetime) -> DigestFigures:
    """The figures of the local day `day` (protocol timezone) for `team`, or company-wide when None."""
    return compute_period(engine, protocol=protocol, period=one_day(day), team=team, now=now)


def compute_period(engine: Engine, *, protocol: Protocol, period: Period, team: str | None, now: datetime,
                   per_team: bool = False) -> DigestFigures:
    """The figures of `period` (local days, protocol timezone) for `team`, or company-wide when None; with
    `per_team` (company-wide only), one line per team as well."""
    tz = protocol.tz
    start, end = period_bounds(period, tz)
    start7, _ = day_bounds(period.first - timedelta(days=period.days * period.baseline), tz)
    cutoff = min(now.astimezone(UTC), end)
    tw = _team(team)
    with engine.connect() as conn:
        _no_jit(conn)
        figures = _core(conn, [start7, start, end], team, cutoff=cutoff,
                        days=[period.first - timedelta(days=period.days * period.baseline), period.first,
                              period.last + timedelta(days=1)])
        prev, core = figures[(team, 0)], figures[(team, 1)]
        still_open = _still_open(conn, cutoff, team)
        oldest = _oldest_open(conn, cutoff, team)
        breaches = tuple(_breaches(conn, start, end, cutoff, team))
        escalations = Escalations(core["escalations"], core["at_deadline"])
        crises = tuple(
            CrisisItem(cid, declared, ended, reason, start <= declared < end, ended is not None and start <= ended < end)
            for cid, declared, ended, reason in conn.execute(
                select(Crisis.id, Crisis.declared_at, Crisis.ended_at, Crisis.reason)
                .where(or_(and_(Crisis.declared_at >= start, Crisis.declared_at < end),
                           and_(Crisis.ended_at >= start, Crisis.ended_at < end)))
                .order_by(Crisis.declared_at, Crisis.id))
        )
        days = (period.first - timedelta(days=period.days * period.baseline), period.first, period.last)
        grown_sources = growth.grown_sources(conn, start7, start, end, team, period.baseline, days=days)
        grown_themes = growth.grown_themes(conn, start7, start, end, team, period.baseline, days=days)
        pending = [Draft.state == "pending", *tw]
        counted = select(func.count()).select_from(Draft)
        if team is not None:  # company-wide, every draft counts: no need to read its mention
            counted = counted.join(Mention, Mention.id == Draft.mention_id)
        waiting_count = conn.execute(counted.where(*pending)).scalar_one()
        waiting = tuple(
            WaitingDraft(mid, version, max(now.astimezone(UTC) - created, timedelta(0)), author, team_key)
            for mid, version, created, author, team_key in conn.execute(
                select(Draft.mention_id, Draft.version, Draft.created_at, Draft.author, Mention.team)
                .join(Mention, Mention.id == Draft.mention_id).where(*pending)
                .order_by(Draft.created_at, Draft.id).limit(LIST_LIMIT))
        )
        teams = _team_lines(conn, protocol, period, start, end, cutoff, breaches) if per_team and team is None else ()
    n = period.baseline
    previous = CoreFigures(
        received=prev["received"] / n, published=prev["published"] / n, dismissed=prev["dismissed"] / n,
        handled=prev["handled"] / n, first_response_p50=prev["first_response_p50"],
        first_response_p90=prev["first_response_p90"], publication_p50=prev["publication_p50"],
        publication_p90=prev["publication_p90"], sla_kept=prev["sla_kept"], sla_total=prev["sla_total"] / n,
        escalations=prev["escalations"] / n,
    )
    return DigestFigures(
        period=period, team=team, timezone=protocol.timezone, cutoff=cutoff,
        received=core["received"], published=core["published"], dismissed=core["dismissed"],
        handled=core["handled"], still_open=still_open, oldest_open=oldest,
        first_response_p50=core["first_response_p50"], first_response_p90=core["first_response_p90"],
        publication_p50=core["publication_p50"], publication_p90=core["publication_p90"],
        sla_kept=core["sla_kept"], sla_total=core["sla_total"], breaches=breaches, escalations=escalations,
        crises=crises, grown_sources=grown_sources, grown_themes=grown_themes,
        waiting_drafts_count=waiting_count, waiting_drafts=waiting, previous=previous, teams=teams,
    )


def _team_lines(conn: Connection, protocol: Protocol, period: Period, start: datetime, end: datetime,
                cutoff: datetime, breaches: tuple[Breach, ...]) -> tuple[TeamLine, ...]:
    """The protocol's teams in its order, then any other team key found among the period's mentions (a team
    removed from the protocol still counts in the totals, so it keeps its line)."""
    cases = union_all(*(select(Mention.team).where(*case_) for case_ in _open_cases(cutoff, None))).subquery()
    open_by_team = dict(conn.execute(select(cases.c.team, func.count()).group_by(cases.c.team)).all())
    seen = conn.execute(select(Mention.team).where(*_between(Mention.received_at, start, end)).distinct()).scalars()
    keys = list(dict.fromkeys([*protocol.teams, *sorted(seen), *sorted(open_by_team)]))
    late: dict[str, set[int]] = {}
    for b in breaches:
        late.setdefault(b.team, set()).add(b.mention_id)
    by_team = _core(conn, [start, end], None, cutoff=cutoff, days=[period.first, period.last + timedelta(days=1)],
                    by_team=True)
    lines = []
    for key in keys:
        core = by_team.get((key, 0), _blank())
        lines.append(TeamLine(key, core["received"], core["handled"], int(open_by_team.get(key, 0)),
                              core["sla_kept"], core["sla_total"], core["first_response_p50"],
                              len(late.get(key, ()))))
    return tuple(lines)


__all__ = [
    "BASELINE_DAYS", "BASELINE_WEEKS", "Breach", "CoreFigures", "CrisisItem", "DigestFigures", "Escalations",
    "Growth", "OpenItem", "Period", "TeamLine", "WaitingDraft", "compute_digest", "compute_period", "daily_series",
    "day_bounds", "one_day", "period_bounds", "week_ending",
]
