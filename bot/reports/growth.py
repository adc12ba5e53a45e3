"""The digest's grown sources and themes, and its chart's daily counts: from the daily rollup the sweep keeps
(`bot.store.rollups`, a few hundred rows) for the days it covers, from the mentions otherwise (today, or a
database whose rollup has not caught up yet). Both give the same figures (tests/reports/test_rollup.py).

grown: count in the period >= 1.5 x its average over the baseline periods and at least 3 mentions above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select, text
from sqlalchemy.engine import Connection

from bot.store.models import DailyRollup, Mention, UTCDateTime
from bot.store.rollups import ROLLUP, TOTAL, rolled_up_days

GROWTH_FACTOR_NUM, GROWTH_FACTOR_DEN = 3, 2  # >= 150 % of the baseline average (per day, or per week)
GROWTH_MIN_EXTRA = 3  # and at least 3 mentions above it


@dataclass(frozen=True)
class Growth:
    key: str  # the source or the tag
    count: int  # in the period
    average: float  # average per period over the baseline


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


def _covered(conn: Connection, first: date, last: date) -> bool:
    """Is every day of [first, last] rolled up?"""
    return len(rolled_up_days(conn, first, last)) == (last - first).days + 1


def _from_rollup(conn: Connection, column: Any, days: tuple[date, date, date], team: str | None,
                 other: Any) -> tuple[Growth, ...] | None:
    first7, first, last = days
    if not _covered(conn, first7, last):
        return None
    r = DailyRollup
    today = func.sum(case((r.day >= first, r.received), else_=0))  # type: ignore[operator]
    before = func.sum(case((r.day < first, r.received), else_=0))  # type: ignore[operator]
    where = [r.day >= first7, r.day <= last, column != TOTAL, other == TOTAL,  # type: ignore[operator]
             (r.team == team) if team is not None else (r.team != TOTAL)]
    return tuple(conn.execute(select(column, today, before).where(*where).group_by(column)))  # type: ignore[arg-type]


def grown_sources(conn: Connection, start7: datetime, start: datetime, end: datetime, team: str | None,
                  baseline: int, *, days: tuple[date, date, date]) -> tuple[Growth, ...]:
    """`days`: the baseline's first day, the period's first and last (local days of [start7, start, end))."""
    rows = _from_rollup(conn, ROLLUP.c.source, days, team, ROLLUP.c.theme)
    if rows is None:
        today = func.sum(case((Mention.received_at >= start, 1), else_=0))
        before = func.sum(case((Mention.received_at < start, 1), else_=0))
        rows = conn.execute(select(Mention.source, today, before)
                            .where(Mention.received_at >= start7, Mention.received_at < end,
                                   *([Mention.team == team] if team is not None else []))
                            .group_by(Mention.source))
    return _growth(rows, baseline)


def grown_themes(conn: Connection, start7: datetime, start: datetime, end: datetime, team: str | None,
                 baseline: int, *, days: tuple[date, date, date]) -> tuple[Growth, ...]:
    rows = _from_rollup(conn, ROLLUP.c.theme, days, team, ROLLUP.c.source)
    if rows is not None:
        return _growth(rows, baseline)
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


def rolled_up_counts(conn: Connection, days: list[date], team: str | None) -> dict[date, int]:
    """Mentions received on each of `days` that is rolled up (the others are left out)."""
    if not days:
        return {}
    first, last = min(days), max(days)
    covered = rolled_up_days(conn, first, last)
    if not covered:
        return {}
    r = DailyRollup
    if team is None:  # the day's total row
        where = [r.team == TOTAL, r.source == TOTAL, r.theme == TOTAL]
    else:  # the team's rows by source
        where = [r.team == team, r.source != TOTAL, r.theme == TOTAL]
    got = dict(conn.execute(select(r.day, func.sum(r.received)).where(  # type: ignore[arg-type]
        r.day >= first, r.day <= last, *where).group_by(r.day)).all())  # type: ignore[operator]
    return {day: int(got.get(day, 0)) for day in covered if day in days}


__all__ = ["GROWTH_FACTOR_DEN", "GROWTH_FACTOR_NUM", "GROWTH_MIN_EXTRA", "Growth", "grown_sources", "grown_themes",
           "rolled_up_counts"]
