"""The daily digest and the weekly summary: figures that measure the quality of the response (times,
deadlines kept, escalations, what is still waiting), not vanity counts.

`compute_period` reads a `Period` of LOCAL days (in the protocol's timezone: one day for the daily digest, seven
for the weekly summary) for one team or the whole company, and `compute_digest` is its one-day case. SQL
aggregates only: counts and GROUP BY, durations as epoch differences and percentiles computed by the database
(``percentile_disc`` on PostgreSQL, the k-th value by ``row_number()`` on SQLite). Only the
short lists shown to people (breaches, the oldest open items, waiting drafts) come back as rows.

Definitions, for a period [local midnight of its first day, local midnight after its last day); "that day"
below reads "in the period":

* received: mentions received that day; published: replies published that day; dismissed: mentions
  dismissed (closed) that day; handled = published + dismissed.
* cutoff = min(now, end of the period). still_open: mentions received before the cutoff and neither published nor
  closed by then (milestones, not the current state, so a past day always gives the same answer).
* first response / publication times: ``first_response_at - received_at`` and ``published_at_reply -
  received_at`` for the mentions whose milestone happened that day; p50/p90 are ``percentile_disc``.
* sla_kept: share of the milestones that happened that day (with a due) that met it; sla_total: how many.
* breaches: a milestone that happened that day after its due ("late"), and a due that passed that day with
  its milestone still missing at the cutoff ("overdue"; not counted in sla_total, which counts milestones).
* escalations: Reminder rows sent that day; at_deadline: those whose step was at or after the deadline.
* grown sources/themes: count in the period >= 1.5 x its average over the baseline periods and at least
  3 mentions above it.
* baseline: the same core figures over the periods of the same length just before (the 7 previous days for
  the daily digest, the 4 previous weeks for the weekly summary); counts are averages per period, shares
  and percentiles are pooled over the whole baseline (an average of percentiles means nothing).
* per-team lines (weekly company-wide summary): the core figures above for each team, and its late mentions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

from babel.core import Locale
from babel.dates import format_date, format_datetime, format_interval, format_time, format_timedelta
from babel.numbers import format_decimal, format_percent
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    extract,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.engine import Connection, Engine

from bot.i18n import normalise, t
from bot.protocol.schema import Protocol
from bot.slack.ids import CONVERSATION_ID
from bot.slack.text import escape
from bot.store.models import Crisis, Draft, Mention, Reminder, UTCDateTime

TERMINAL_STATES = ("published", "dismissed")
LIST_LIMIT = 10  # oldest open items and waiting drafts kept in the figures
GROWTH_FACTOR_NUM, GROWTH_FACTOR_DEN = 3, 2  # >= 150 % of the baseline average (per day, or per week)
GROWTH_MIN_EXTRA = 3  # and at least 3 mentions above it
BASELINE_DAYS = 7  # the daily digest is compared with the 7 previous days
# The weekly summary is compared with the average of the 4 previous weeks rather than with last week alone: a
# week already holds every weekday, and 4 weeks damp one unusual week (after a crisis week, a comparison
# with that week alone would flatter everything).
BASELINE_WEEKS = 4

# Slack limits (chat.postMessage / Block Kit).
MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
FIELD_TEXT_MAX = 2000
MAX_FIELDS = 10
HEADER_MAX = 150
CONTEXT_TEXT_MAX = 2000
LINES_PER_SECTION = 15

_TS_RE = re.compile(r"^\d{1,12}\.\d{1,9}$")


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
class Growth:
    key: str  # the source or the tag
    count: int  # in the period
    average: float  # average per period over the baseline


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


def _seconds(conn: Connection, later: Any, earlier: Any) -> ColumnElement[Any]:
    """`later - earlier` in seconds, computed by the database."""
    if conn.dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _td(seconds: Any) -> timedelta | None:
    return None if seconds is None else timedelta(seconds=round(float(seconds)))


def _percentiles(conn: Connection, value: ColumnElement[Any], keys: list[Any], where: list[Any]
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
        return {tuple(row[:-2]): (_td(row[-2]), _td(row[-1])) for row in found}
    ranked = select(*group, rows.c.v, func.row_number().over(partition_by=group, order_by=rows.c.v).label("rn"),
                    func.count().over(partition_by=group).label("n")).subquery()
    k50, k90 = ((pct * ranked.c.n + 99) // 100 for pct in (50, 90))  # ceil(p * n), in integers
    out: dict[tuple[Any, ...], tuple[timedelta | None, timedelta | None]] = {}
    for *key, v, is50, is90 in conn.execute(
            select(*(ranked.c[f"k{i}"] for i in range(len(keys))), ranked.c.v, ranked.c.rn == k50,
                   ranked.c.rn == k90).where(or_(ranked.c.rn == k50, ranked.c.rn == k90))):
        p50, p90 = out.get(tuple(key), (None, None))
        out[tuple(key)] = (_td(v) if is50 else p50, _td(v) if is90 else p90)
    return out


def _team(team: str | None) -> list[Any]:
    return [] if team is None else [Mention.team == team]


def _between(column: Any, start: datetime, end: datetime) -> list[Any]:
    return [column >= start, column < end]


def _bucket(column: Any, bounds: list[datetime]) -> ColumnElement[Any]:
    """The index i of the period [bounds[i], bounds[i+1]) holding `column` (filtered to the whole span)."""
    if len(bounds) == 2:
        return literal(0)
    return case(*((column < upper, i) for i, upper in enumerate(bounds[1:-1])), else_=len(bounds) - 2)


def _deadline_reached() -> ColumnElement[Any]:
    """1 for a reminder whose step was at or after its deadline."""
    return case(
        (and_(Reminder.stage == "first_response", Mention.first_response_due.is_not(None)),
         case((Reminder.due_at >= Mention.first_response_due, 1), else_=0)),
        (and_(Reminder.stage == "published", Mention.published_due.is_not(None)),
         case((Reminder.due_at >= Mention.published_due, 1), else_=0)),
        # No stored deadline (the approval stage): the ladder's own keys, "100%" or "+30m".
        (or_(Reminder.step == "100%", Reminder.step.like("+%")), 1),
        else_=0,
    )


def _blank() -> dict[str, Any]:
    return {"received": 0, "published": 0, "dismissed": 0, "handled": 0, "first_response_p50": None,
            "first_response_p90": None, "publication_p50": None, "publication_p90": None, "sla_kept": None,
            "sla_total": 0, "escalations": 0, "at_deadline": 0}


def _core(conn: Connection, bounds: list[datetime], team: str | None, *, by_team: bool = False
          ) -> dict[tuple[str | None, int], dict[str, Any]]:
    """The core figures of each period [bounds[i], bounds[i+1]), keyed (team, i): `team` (None: the company)
    or, with `by_team`, each team's key. The counts and SLA shares of every period in one pass over the
    mentions (a FILTER per period), the percentiles of each duration in one statement grouped by period, the
    reminders in one per period: 5 statements for a digest and its baseline, where one per figure and
    period made 16 (and 112 more for the chart's 14 days)."""
    tw = _team(team)
    first, last = bounds[0], bounds[-1]
    periods = list(pairwise(bounds))
    by = [Mention.team] if by_team else []
    figures: dict[tuple[str | None, int], dict[str, Any]] = {(team, i): _blank() for i in range(len(periods))}

    def figure(row_key: list[Any]) -> dict[str, Any]:
        return figures.setdefault((row_key[0], row_key[1]) if by_team else (team, row_key[0]), _blank())

    stages = ((Mention.first_response_at, Mention.first_response_due),
              (Mention.published_at_reply, Mention.published_due))
    counts = []
    for lo, hi in periods:
        counts += [func.count().filter(*_between(Mention.received_at, lo, hi)),
                   func.count().filter(*_between(Mention.published_at_reply, lo, hi)),
                   func.count().filter(Mention.state == "dismissed", *_between(Mention.closed_at, lo, hi))]
        for at, due in stages:  # milestones with a due in the period, then those that met it
            counts += [func.count().filter(*_between(at, lo, hi), due.is_not(None)),
                       func.count().filter(*_between(at, lo, hi), due.is_not(None), at <= due)]
    # Each mention with any milestone in the span is read once (PostgreSQL ORs the four columns' indexes).
    in_span = or_(*(and_(*_between(column, first, last)) for column in (
        Mention.received_at, Mention.published_at_reply, Mention.closed_at, Mention.first_response_at)))
    for row in conn.execute(select(*by, *counts).where(in_span, *tw).group_by(*by)):
        values = row[len(by):]
        for i in range(len(periods)):
            received, published, dismissed, fr_n, fr_met, pub_n, pub_met = (int(v) for v in values[7 * i:7 * i + 7])
            total = fr_n + pub_n
            figure([*row[:len(by)], i]).update(
                received=received, published=published, dismissed=dismissed, handled=published + dismissed,
                sla_kept=(fr_met + pub_met) / total if total else None, sla_total=total)
    for name, at in (("first_response", Mention.first_response_at), ("publication", Mention.published_at_reply)):
        found = _percentiles(conn, _seconds(conn, at, Mention.received_at), [*by, _bucket(at, bounds)],
                             [*_between(at, first, last), *tw])
        for row_key, (p50, p90) in found.items():
            figure(list(row_key)).update({f"{name}_p50": p50, f"{name}_p90": p90})
    for i, (lo, hi) in enumerate(periods):
        # Only the reported (last) period needs each reminder's deadline: a company-wide baseline is a count
        # of the reminders alone (joined to every mention, PostgreSQL chose to scan them all).
        with_due = i == len(periods) - 1
        query = select(*by, func.count(), func.sum(_deadline_reached()) if with_due else literal(0)).select_from(Reminder)
        if by or tw or with_due:
            query = query.join(Mention, Mention.id == Reminder.mention_id)
        for row in conn.execute(query.where(*_between(Reminder.sent_at, lo, hi), *tw).group_by(*by)):
            figure([*row[:-2], i]).update(escalations=int(row[-2]), at_deadline=int(row[-1] or 0))
    return figures


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


def _growth(rows: Any, baseline: int) -> tuple[Growth, ...]:
    out = []
    for key, count, before in rows:
        count, before = int(count or 0), int(before or 0)
        # count >= 1.5 * before / baseline  and  count - before / baseline >= 3, in integers
        if (2 * baseline * count >= GROWTH_FACTOR_NUM * before
                and baseline * count - before >= GROWTH_MIN_EXTRA * baseline):
            out.append(Growth(str(key), count, before / baseline))
    out.sort(key=lambda g: (-(g.count - g.average), g.key))
    return tuple(out)


def _grown_sources(conn: Connection, start7: datetime, start: datetime, end: datetime,
                   team: str | None, baseline: int) -> tuple[Growth, ...]:
    today = func.sum(case((Mention.received_at >= start, 1), else_=0))
    before = func.sum(case((Mention.received_at < start, 1), else_=0))
    rows = conn.execute(select(Mention.source, today, before)
                        .where(*_between(Mention.received_at, start7, end), *_team(team))
                        .group_by(Mention.source))
    return _growth(rows, baseline)


def _grown_themes(conn: Connection, start7: datetime, start: datetime, end: datetime,
                  team: str | None, baseline: int) -> tuple[Growth, ...]:
    if conn.dialect.name == "postgresql":
        source = "mention AS m CROSS JOIN LATERAL json_array_elements_text(m.tags) AS j(value)"
    else:
        source = "mention AS m, json_each(m.tags) AS j"
    sql = (
        "SELECT j.value AS tag,"
        " COUNT(DISTINCT CASE WHEN m.received_at >= :start THEN m.id END),"
        " COUNT(DISTINCT CASE WHEN m.received_at < :start THEN m.id END)"
        f" FROM {source}"
        " WHERE m.received_at >= :start7 AND m.received_at < :end"
        + ("" if team is None else " AND m.team = :team")
        + " GROUP BY j.value"
    )
    params: dict[str, Any] = {"start": start, "start7": start7, "end": end}
    stmt = text(sql).bindparams(*(bindparam(k, type_=UTCDateTime()) for k in ("start", "start7", "end")))
    if team is not None:
        params["team"] = team
    return _growth(conn.execute(stmt, params), baseline)


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
        received = select(_bucket(Mention.received_at, bounds).label("day")).where(
            *_between(Mention.received_at, bounds[0], bounds[-1]), *tw).subquery()
        counts = dict(conn.execute(select(received.c.day, func.count()).group_by(received.c.day)).all())
        at = Mention.first_response_at
        medians = _percentiles(conn, _seconds(conn, at, Mention.received_at), [_bucket(at, bounds)],
                               [*_between(at, bounds[0], bounds[-1]), *tw])
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
        figures = _core(conn, [start7, start, end], team)
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
        grown_sources = _grown_sources(conn, start7, start, end, team, period.baseline)
        grown_themes = _grown_themes(conn, start7, start, end, team, period.baseline)
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
        teams = _team_lines(conn, protocol, start, end, cutoff, breaches) if per_team and team is None else ()
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


def _team_lines(conn: Connection, protocol: Protocol, start: datetime, end: datetime, cutoff: datetime,
                breaches: tuple[Breach, ...]) -> tuple[TeamLine, ...]:
    """The protocol's teams in its order, then any other team key found among the period's mentions (a team
    removed from the protocol still counts in the totals, so it keeps its line)."""
    cases = union_all(*(select(Mention.team).where(*case_) for case_ in _open_cases(cutoff, None))).subquery()
    open_by_team = dict(conn.execute(select(cases.c.team, func.count()).group_by(cases.c.team)).all())
    seen = conn.execute(select(Mention.team).where(*_between(Mention.received_at, start, end)).distinct()).scalars()
    keys = list(dict.fromkeys([*protocol.teams, *sorted(seen), *sorted(open_by_team)]))
    late: dict[str, set[int]] = {}
    for b in breaches:
        late.setdefault(b.team, set()).add(b.mention_id)
    by_team = _core(conn, [start, end], None, by_team=True)
    lines = []
    for key in keys:
        core = by_team.get((key, 0), _blank())
        lines.append(TeamLine(key, core["received"], core["handled"], int(open_by_team.get(key, 0)),
                              core["sla_kept"], core["sla_total"], core["first_response_p50"],
                              len(late.get(key, ()))))
    return tuple(lines)


# ---------------------------------------------------------------------------- text


def _plural(key: str, n: float, lang: str, **params: Any) -> str:
    """`key.one` or `key.other` by the language's plural rule (French: 0 and 1 are singular)."""
    form = "one" if Locale.parse(lang).plural_form(n) == "one" else "other"
    return t(f"{key}.{form}", lang, n=format_decimal(n, locale=lang), **params)


def duration_words(value: timedelta | None, lang: str) -> str:
    """A duration in the two largest units, such as "2 j 14 h" / "2 days 14 hr" or "1 h 30 min"."""
    if value is None:
        return t("digest.none", lang)
    seconds = max(round(value.total_seconds()), 0)
    units = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
    parts: list[str] = []
    for unit, size in units:
        amount, seconds = divmod(seconds, size)
        if amount and len(parts) < 2:
            parts.append(format_timedelta(timedelta(seconds=amount * size), granularity=unit, threshold=1,
                                          format="short", locale=lang))
        elif parts:
            break  # "2 j 0 h 5 min" reads better as "2 j"
    return " ".join(parts) or format_timedelta(timedelta(0), granularity="second", format="short", locale=lang)


def _avg(value: float, lang: str) -> str:
    return format_decimal(round(value, 1), format="#,##0.#", locale=lang)


def mention_ref(mention_id: int, channel: str | None, ts: str | None, lang: str) -> str:
    label = t("digest.item", lang, id=mention_id)
    if channel and ts and CONVERSATION_ID.fullmatch(channel) and _TS_RE.match(ts):
        return f"<https://slack.com/archives/{channel}/p{ts.replace('.', '')}|{escape(label)}>"
    return escape(label)


def _team_label(key: str, team_names: Mapping[str, str] | None) -> str:
    return escape((team_names or {}).get(key, key))


def interpretation(fig: DigestFigures, *, lang: str, team_name: str | None = None,
                   team_names: Mapping[str, str] | None = None) -> str:
    """One short, rule-based line that leads the digest. `team_name` is the digest's team (None: company);
    `team_names` (key -> display name) lets a company-wide line say which team the late answers are in.
    A weekly summary adds the share of deadlines kept against the previous weeks'.
    The result is plain text (not escaped)."""
    lang = normalise(lang)
    line = _lead(fig, lang, team_names)
    prev = fig.previous.sla_kept
    if fig.period.weekly and fig.sla_kept is not None and prev is not None:
        line += t("weekly.interp.sla_trend", lang, kept=_pct(fig.sla_kept, lang), before=_pct(prev, lang),
                  weeks=format_decimal(fig.period.baseline, locale=lang))
    return line


def _lead(fig: DigestFigures, lang: str, team_names: Mapping[str, str] | None) -> str:
    tz = _zone(fig.timezone)
    weekly = fig.period.weekly
    declared = [c for c in fig.crises if c.declared_in_period and c.ended_at is None]
    if declared:
        c = declared[0]
        at = format_time(c.declared_at, format="short", tzinfo=tz, locale=lang)
        if weekly:
            day = format_date(c.declared_at.astimezone(tz), "EEEE", locale=lang)
            if c.reason:
                return t("weekly.interp.crisis", lang, day=day, time=at, reason=c.reason)
            return t("weekly.interp.crisis_no_reason", lang, day=day, time=at)
        if c.reason:
            return t("digest.interp.crisis", lang, time=at, reason=c.reason)
        return t("digest.interp.crisis_no_reason", lang, time=at)
    late_ids = fig.late_mentions
    if late_ids:
        n = len(late_ids)
        lead = _plural("digest.interp.late", n, lang)
        state_of = {b.mention_id: b.state for b in fig.breaches}
        team_of = {b.mention_id: b.team for b in fig.breaches}
        waiting = sum(1 for mid in late_ids if state_of[mid] == "in_review")
        if n > 1 and waiting == n:
            return lead + t("digest.interp.all_waiting", lang)
        if waiting:
            return lead + _plural("digest.interp.some_waiting", waiting, lang)
        teams = set(team_of.values())
        if n > 1 and fig.team is None and len(teams) == 1:
            return lead + t("digest.interp.all_team", lang, team=(team_names or {}).get(teams.pop(), "") or "?")
        return lead
    suffix = ""
    if fig.grown_sources:
        g = fig.grown_sources[0]
        count, avg = format_decimal(g.count, locale=lang), _avg(g.average, lang)
        suffix = (t("weekly.interp.growth", lang, source=g.key, count=count, avg=avg) if weekly
                  else t("digest.interp.growth", lang, source=g.key, today=count, avg=avg))
    if fig.received == 0 and fig.still_open == 0 and fig.sla_total == 0:
        return (t("weekly.interp.quiet", lang) if weekly else t("digest.interp.quiet", lang)) + suffix
    if fig.still_open:
        return t("digest.interp.on_time", lang) + _plural("digest.interp.still_open", fig.still_open, lang) + suffix
    return t("digest.interp.all_clear", lang) + suffix


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


# ---------------------------------------------------------------------------- Block Kit


def _list_text(title: str, lines: list[str], total: int, lang: str, *, limit: int = SECTION_TEXT_MAX,
               max_lines: int = LINES_PER_SECTION) -> str:
    """`title` then the lines, cut so that the text stays under `limit`; "… and N more" for the rest."""
    kept: list[str] = []
    for i, line in enumerate(lines[:max_lines]):
        rest = total - i - 1
        candidate = "\n".join([title, *kept, line])
        more = "\n" + _plural("digest.more", rest, lang) if rest > 0 else ""
        if len(candidate) + len(more) > limit:
            break
        kept.append(line)
    rest = total - len(kept)
    body = "\n".join([title, *kept])
    if rest > 0:
        body += "\n" + _plural("digest.more", rest, lang)
    return body[:limit]


def _field(label: str, value: str, compare: str | None) -> dict[str, Any]:
    body = f"*{label}*\n{value}"
    if compare:
        body += "\n" + compare
    return {"type": "mrkdwn", "text": body[:FIELD_TEXT_MAX]}


def _pct(value: float | None, lang: str) -> str:
    return t("digest.none", lang) if value is None else format_percent(value, locale=lang)


def _pair(p50: timedelta | None, p90: timedelta | None, lang: str) -> str:
    if p50 is None:
        return t("digest.none", lang)
    return t("digest.p50_p90", lang, p50=duration_words(p50, lang), p90=duration_words(p90, lang))


def digest_blocks(fig: DigestFigures, *, protocol: Protocol, lang: str, title: str) -> list[dict[str, Any]]:
    """The digest (or the weekly summary) as Block Kit blocks for a message (within Slack's limits)."""
    lang = normalise(lang)
    tz = protocol.tz
    weekly = fig.period.weekly
    names = {key: team.name.get(lang) for key, team in protocol.teams.items()}
    team_name = names.get(fig.team, fig.team) if fig.team else None
    prev = fig.previous
    num = lambda n: format_decimal(n, locale=lang)

    def hm(d: datetime) -> str:  # a day of the week: a time alone; a week: the day too
        at = format_time(d, format="short", tzinfo=tz, locale=lang)
        if not weekly:
            return at
        return t("weekly.when", lang, day=format_date(d.astimezone(tz), "EEE d", locale=lang), time=at)

    def compare(value: str) -> str:
        if weekly:
            return t("weekly.compare", lang, value=value, weeks=num(fig.period.baseline))
        return t("digest.compare", lang, value=value)

    when = (format_interval(fig.period.first, fig.period.last, "yMMMMEEEEd", locale=lang) if weekly
            else format_date(fig.day, format="full", locale=lang))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": (title or t("digest.title", lang))[:HEADER_MAX]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*" + escape(
            interpretation(fig, lang=lang, team_name=team_name, team_names=names))[:SECTION_TEXT_MAX - 2] + "*"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t(
            "digest.scope", lang, date=when,
            team=escape(team_name) if team_name else t("digest.all_teams", lang),
            timezone=escape(protocol.timezone))[:CONTEXT_TEXT_MAX]}]},
    ]
    sla_value = _pct(fig.sla_kept, lang)
    if fig.sla_total:
        sla_value += " " + t("digest.sla_of", lang, kept=num(round((fig.sla_kept or 0) * fig.sla_total)),
                             total=num(fig.sla_total))
    fields = [
        _field(t("digest.f.received", lang), num(fig.received), compare(_avg(prev.received, lang))),
        _field(t("digest.f.handled", lang),
               t("digest.handled_detail", lang, handled=num(fig.handled), published=num(fig.published),
                 dismissed=num(fig.dismissed)), compare(_avg(prev.handled, lang))),
        _field(t("digest.f.still_open", lang), num(fig.still_open), None),
        _field(t("digest.f.sla", lang), sla_value, compare(_pct(prev.sla_kept, lang))),
        _field(t("digest.f.first_response", lang), _pair(fig.first_response_p50, fig.first_response_p90, lang),
               compare(_pair(prev.first_response_p50, prev.first_response_p90, lang))),
        _field(t("digest.f.publication", lang), _pair(fig.publication_p50, fig.publication_p90, lang),
               compare(_pair(prev.publication_p50, prev.publication_p90, lang))),
        _field(t("digest.f.escalations", lang),
               t("digest.escalations_detail", lang, sent=num(fig.escalations.sent),
                 at_deadline=num(fig.escalations.at_deadline)), compare(_avg(prev.escalations, lang))),
        _field(t("digest.f.waiting_drafts", lang), num(fig.waiting_drafts_count), None),
    ]
    blocks.append({"type": "section", "fields": fields[:MAX_FIELDS]})

    if fig.teams:
        lines = [t("weekly.team_line", lang, team=_team_label(line.team, names), received=num(line.received),
                   handled=num(line.handled), still_open=num(line.still_open), sla=_pct(line.sla_kept, lang),
                   first_response=duration_words(line.first_response_p50, lang), late=num(line.late))
                 for line in fig.teams]
        blocks.append(_section(_list_text("*" + t("weekly.s.teams", lang) + "*", lines, len(lines), lang)))
    if fig.breaches:
        lines = []
        for b in fig.breaches[:LINES_PER_SECTION]:  # the rest is only counted (thousands on a bad day)
            ref = mention_ref(b.mention_id, b.channel, b.relay_ts, lang)
            stage = t(f"digest.stage.{b.stage}", lang)
            team = _team_label(b.team, names)
            if b.kind == "late" and b.at is not None:
                delay = duration_words(b.at - b.due, lang)
                lines.append(
                    t("weekly.breach.late", lang, ref=ref, stage=stage, due=hm(b.due), at=hm(b.at), delay=delay,
                      team=team) if weekly
                    else t("digest.breach.late", lang, ref=ref, stage=stage, due=hm(b.due), at=hm(b.at),
                           delay=delay, team=team))
            else:
                lines.append(t("weekly.breach.overdue", lang, ref=ref, stage=stage, due=hm(b.due), team=team)
                             if weekly else
                             t("digest.breach.overdue", lang, ref=ref, stage=stage, due=hm(b.due), team=team))
        blocks.append(_section(_list_text("*" + t("digest.s.breaches", lang) + "*", lines, len(fig.breaches), lang)))
    if fig.still_open:
        lines = [t("digest.open_line", lang, ref=mention_ref(o.mention_id, o.channel, o.relay_ts, lang),
                   age=duration_words(o.age, lang), team=_team_label(o.team, names),
                   state=t(f"digest.state.{o.state}", lang)) for o in fig.oldest_open]
        blocks.append(_section(_list_text("*" + t("digest.s.oldest_open", lang) + "*", lines, fig.still_open, lang)))
    if fig.waiting_drafts_count:
        lines = [t("digest.draft_line", lang, ref=mention_ref(d.mention_id, None, None, lang),
                   version=num(d.version), age=duration_words(d.age, lang), author=escape(d.author))
                 for d in fig.waiting_drafts]
        blocks.append(_section(_list_text("*" + t("digest.s.waiting_drafts", lang) + "*", lines,
                                          fig.waiting_drafts_count, lang)))
    for key, items in (("digest.s.grown_sources", fig.grown_sources), ("digest.s.grown_themes", fig.grown_themes)):
        if items:
            lines = [t("weekly.growth_line", lang, key=escape(g.key), count=num(g.count), avg=_avg(g.average, lang),
                       weeks=num(fig.period.baseline)) if weekly
                     else t("digest.growth_line", lang, key=escape(g.key), today=num(g.count),
                            avg=_avg(g.average, lang))
                     for g in items]
            blocks.append(_section(_list_text("*" + t(key, lang) + "*", lines, len(lines), lang)))
    if fig.crises:
        lines = []
        for c in fig.crises:
            reason = escape(c.reason) if c.reason else t("digest.no_reason", lang)
            declared = format_datetime(c.declared_at, format="short", tzinfo=tz, locale=lang)
            if c.ended_at is not None:
                ended = format_datetime(c.ended_at, format="short", tzinfo=tz, locale=lang)
                lines.append(t("digest.crisis_ended", lang, declared=declared, ended=ended, reason=reason))
            else:
                lines.append(t("digest.crisis_ongoing", lang, declared=declared, reason=reason))
        blocks.append(_section(_list_text("*" + t("digest.s.crises", lang) + "*", lines, len(lines), lang)))
    cutoff = format_datetime(fig.cutoff, format="short", tzinfo=tz, locale=lang)
    footer = (t("weekly.footer", lang, weeks=num(fig.period.baseline), cutoff=cutoff) if weekly
              else t("digest.footer", lang, days=num(fig.period.baseline), cutoff=cutoff))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer[:CONTEXT_TEXT_MAX]}]})
    return blocks[:MAX_BLOCKS]


def _section(body: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": body[:SECTION_TEXT_MAX]}}


def fallback_text(fig: DigestFigures, *, protocol: Protocol, lang: str, title: str) -> str:
    """The notification text that goes with the blocks (chat.postMessage `text`)."""
    lang = normalise(lang)
    names = {key: team.name.get(lang) for key, team in protocol.teams.items()}
    team_name = names.get(fig.team, fig.team) if fig.team else None
    return escape(f"{title} — {interpretation(fig, lang=lang, team_name=team_name, team_names=names)}")


__all__ = [
    "Breach", "CoreFigures", "CrisisItem", "DigestFigures", "Escalations", "Growth", "OpenItem", "Period", "TeamLine",
    "WaitingDraft", "compute_digest", "compute_period", "day_bounds", "digest_blocks", "fallback_text",
    "interpretation", "one_day", "period_bounds", "week_ending",
]

