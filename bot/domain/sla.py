"""Service-level deadlines: business hours, holidays, daylight saving, escalation ladders. Pure rules.

No I/O and no clock reads: every moment is passed in. Every datetime taken must be aware (ValueError
otherwise) and every datetime returned is aware and in UTC.

A `BusinessCalendar` gives opening intervals in LOCAL wall-clock time per weekday. Each interval is turned
into a real (UTC) interval for each local date, so on a daylight-saving day an interval that spans the change
is one hour shorter (spring forward) or longer (fall back) in real time. Ambiguous local times (fall back)
take the first occurrence (fold=0); nonexistent local times (spring forward) move forward to the first real
instant after the gap.

A round-the-clock SLA is plain physical time: UTC arithmetic, no calendar.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BusinessCalendar",
    "LadderStep",
    "add_business_time",
    "business_time_between",
    "deadline",
    "due_steps",
    "is_open",
    "local_to_utc",
    "next_open",
    "parse_duration",
    "step_due_at",
    "time_left",
    "who_hears",
]

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The search for the next open interval gives up after this many consecutive closed local dates.
MAX_CLOSED_DAYS = 366
_ZERO = timedelta(0)
_MIDNIGHT = time(0)

Interval = tuple[time, time]


def require_aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def local_to_utc(day: date, at: time, tz: tzinfo) -> datetime:
    """The UTC instant of local wall-clock `day at` in `tz`.

    Ambiguous times (fall back) take the first occurrence (fold=0). Nonexistent times (spring forward) move
    forward to the first real instant after the gap, i.e. the moment of the change (02:30 on the Paris
    spring-forward day -> 03:00 local = 01:00 UTC).
    """
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first
    # In a gap: fold=0 maps with the offset before the change (too late), fold=1 with the offset after
    # (too early). The change is between them: find the first instant whose wall clock is >= naive.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = first
    if low > high:
        low, high = high, low
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + timedelta(seconds=mid)).astimezone(tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid + 1
    return low + timedelta(seconds=lo)


def _parse_clock(text: str, *, is_end: bool) -> time:
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text)
    if not match:
        raise ValueError(f"bad time {text!r}: expected HH:MM")
    hour, minute = int(match[1]), int(match[2])
    if is_end and (hour, minute) == (24, 0):
        return _MIDNIGHT  # end of day
    if hour > 23 or minute > 59:
        raise ValueError(f"bad time {text!r}: out of range" + ("" if is_end else " (24:00 is only an end)"))
    return time(hour, minute)


def _parse_interval(text: str) -> Interval:
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"bad opening interval {text!r}: expected 'HH:MM-HH:MM', e.g. '09:00-12:30'")
    start, end = _parse_clock(parts[0], is_end=False), _parse_clock(parts[1], is_end=True)
    if end == _MIDNIGHT and parts[1].strip() != "24:00":
        raise ValueError(f"bad opening interval {text!r}: write the end of day as 24:00")
    return start, end


def _end_minutes(end: time) -> float:
    """Position of an interval end in the day; 00:00 as an end means 24:00."""
    if end == _MIDNIGHT:
        return 24 * 3600
    return end.hour * 3600 + end.minute * 60 + end.second + end.microsecond / 1e6


def _start_minutes(start: time) -> float:
    return start.hour * 3600 + start.minute * 60 + start.second + start.microsecond / 1e6


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in local wall-clock time.

    `week` maps a weekday (0 = Monday ... 6 = Sunday) to sorted, non-overlapping `(start, end)` intervals;
    a missing or empty weekday is closed; an end of `time(0)` means midnight at the end of the day (24:00).
    `holidays` are local dates closed all day; `public_holiday` (optional) says whether a local date is a
    public holiday by rule (e.g. a country's calendar, every year), so nobody lists dates each year.
    """

    tz: ZoneInfo
    week: Mapping[int, tuple[tuple[time, time], ...]]
    holidays: frozenset[date] = frozenset()
    public_holiday: Callable[[date], bool] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.tz, tzinfo):
            raise TypeError(f"tz must be a ZoneInfo, got {type(self.tz).__name__}")
        week: dict[int, tuple[Interval, ...]] = {}
        for weekday, intervals in dict(self.week).items():
            if weekday not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
            cleaned: list[Interval] = []
            previous_end = -1.0
            for start, end in intervals:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise ValueError("opening intervals are local wall-clock times: give naive times")
                s, e = _start_minutes(start), _end_minutes(end)
                if not s < e:
                    raise ValueError(
                        f"{DAY_KEYS[weekday]}: interval {start}-{end} does not end after it starts"
                    )
                if s < previous_end:
                    raise ValueError(f"{DAY_KEYS[weekday]}: intervals must be sorted and must not overlap")
                previous_end = e
                cleaned.append((start, end))
            week[weekday] = tuple(cleaned)
        if not any(week.values()):
            raise ValueError("business calendar has no open time at all")
        object.__setattr__(self, "week", MappingProxyType(week))
        holidays = frozenset(self.holidays)
        if not all(isinstance(day, date) and not isinstance(day, datetime) for day in holidays):
            raise TypeError("holidays must be dates")
        object.__setattr__(self, "holidays", holidays)
        if self.public_holiday is not None and not callable(self.public_holiday):
            raise TypeError("public_holiday must be a function of a date")

    def is_holiday(self, day: date) -> bool:
        """Whether local date `day` is closed all day: listed by hand or a public holiday by rule."""
        return day in self.holidays or (self.public_holiday is not None and bool(self.public_holiday(day)))

    @classmethod
    def from_strings(
        cls,
        tz: str,
        week: Mapping[str, Sequence[str] | str],
        holidays: Iterable[date | str] = (),
        public_holiday: Callable[[date], bool] | None = None,
    ) -> BusinessCalendar:
        """`from_strings("Europe/Paris", {"mon": ["09:00-12:30", "14:00-18:00"], ...}, ["2026-12-25"])`.

        Keys are mon..sun (missing = closed); "24:00" is accepted as an end of day.
        """
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        parsed: dict[int, tuple[Interval, ...]] = {}
        for key, intervals in week.items():
            name = str(key).strip().lower()
            if name not in DAY_KEYS:
                raise ValueError(f"unknown weekday {key!r}: expected one of {', '.join(DAY_KEYS)}")
            if isinstance(intervals, str):
                intervals = [intervals]
            parsed[DAY_KEYS.index(name)] = tuple(_parse_interval(text) for text in intervals)
        days: set[date] = set()
        for holiday in holidays:
            if isinstance(holiday, datetime):
                raise TypeError(f"holiday {holiday!r} must be a date, not a datetime")
            if isinstance(holiday, date):
                days.add(holiday)
            else:
                try:
                    days.add(date.fromisoformat(str(holiday).strip()))
                except ValueError as exc:
                    raise ValueError(f"bad holiday {holiday!r}: expected YYYY-MM-DD") from exc
        return cls(tz=zone, week=parsed, holidays=frozenset(days), public_holiday=public_holiday)

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """Real (UTC) opening intervals of local date `day`; empty ones (inside a DST gap) are dropped."""
        if self.is_holiday(day):
            return []
        result = []
        for start, end in self.week.get(day.weekday(), ()):
            utc_start = local_to_utc(day, start, self.tz)
            end_day = day + timedelta(days=1) if end == _MIDNIGHT else day
            utc_end = local_to_utc(end_day, end, self.tz)
            if utc_start < utc_end:
                result.append((utc_start, utc_end))
        return result


def _intervals_from(at: datetime, cal: BusinessCalendar) -> Iterator[tuple[datetime, datetime]]:
    """Merged UTC open intervals ending after `at` (UTC), in order. Raises ValueError after MAX_CLOSED_DAYS
    closed local dates in a row."""
    day = at.astimezone(cal.tz).date() - timedelta(days=1)
    closed_days = 0
    pending: tuple[datetime, datetime] | None = None
    while True:
        intervals = cal.intervals_on(day)
        if intervals:
            closed_days = 0
        else:
            closed_days += 1
            if closed_days > MAX_CLOSED_DAYS:
                raise ValueError(f"no open business time within {MAX_CLOSED_DAYS} days after {day}")
        for start, end in intervals:
            if end <= at:
                continue
            if pending is None:
                pending = (start, end)
            elif start <= pending[1]:
                pending = (pending[0], max(pending[1], end))
            else:
                yield pending
                pending = (start, end)
        # Later dates open at or after the next local midnight; yield what cannot grow any more.
        day += timedelta(days=1)
        if pending is not None and pending[1] < local_to_utc(day, _MIDNIGHT, cal.tz):
            yield pending
            pending = None


def is_open(at: datetime, cal: BusinessCalendar) -> bool:
    """True when `at` falls inside an opening interval (start included, end excluded)."""
    at = require_aware("at", at)
    start, _ = next(_intervals_from(at, cal))
    return start <= at


def next_open(at: datetime, cal: BusinessCalendar) -> datetime:
    """`at` (in UTC) if open, else the start of the next opening interval."""
    at = require_aware("at", at)
    start, _ = next(_intervals_from(at, cal))
    return max(start, at)


def add_business_time(start: datetime, duration: timedelta, cal: BusinessCalendar) -> datetime:
    """The moment when `duration` of open time has elapsed, counting from `next_open(start)`.

    The result is open or exactly the end of an interval (a 2h SLA started at 16:00 with a 18:00 close
    ends at 18:00, not at the next opening).
    """
    start = require_aware("start", start)
    if duration < _ZERO:
        raise ValueError(f"duration must not be negative, got {duration}")
    remaining = duration
    for open_at, close_at in _intervals_from(start, cal):
        open_at = max(open_at, start)
        available = close_at - open_at
        if remaining <= available:
            return open_at + remaining
        remaining -= available
    raise AssertionError("unreachable: _intervals_from is infinite or raises")


def business_time_between(a: datetime, b: datetime, cal: BusinessCalendar) -> timedelta:
    """Open time between `a` and `b`; negative when `b` is before `a`."""
    a, b = require_aware("a", a), require_aware("b", b)
    if b < a:
        return -business_time_between(b, a, cal)
    total = _ZERO
    for open_at, close_at in _intervals_from(a, cal):
        if open_at >= b:
            break
        total += min(close_at, b) - max(open_at, a)
    return total


def deadline(
    start: datetime, duration: timedelta, cal: BusinessCalendar, *, round_the_clock: bool
) -> datetime:
    """When an SLA of `duration` started at `start` is due: physical time if round the clock, else open
    time."""
    if round_the_clock:
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative, got {duration}")
        return require_aware("start", start) + duration
    return add_business_time(start, duration, cal)


def time_left(
    now: datetime, deadline_at: datetime, cal: BusinessCalendar, *, round_the_clock: bool
) -> timedelta:
    """Time until `deadline_at`: physical if round the clock, else open time.

    Negative as soon as `now` is past `deadline_at`. In business time, the lateness is the open time since
    the deadline; a deadline that passed only during closed time (due Friday 18:00, now Saturday) is late by
    no open time at all and gives -1 microsecond, so `time_left(...) < timedelta(0)` is always "late".
    """
    now, deadline_at = require_aware("now", now), require_aware("deadline_at", deadline_at)
    if round_the_clock:
        return deadline_at - now
    left = business_time_between(now, deadline_at, cal)
    if now > deadline_at and left == _ZERO:
        return -timedelta(microseconds=1)
    return left


@dataclass(frozen=True)
class LadderStep:
    """One escalation step: at a fraction of the SLA (0.5 = half-time) or some time after the deadline."""

    key: str
    at_fraction: float | None
    after_deadline: timedelta | None
    notify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("ladder step needs a key")
        if (self.at_fraction is None) == (self.after_deadline is None):
            raise ValueError(f"ladder step {self.key!r}: give exactly one of at_fraction and after_deadline")
        if self.at_fraction is not None and not (math.isfinite(self.at_fraction) and self.at_fraction >= 0):
            raise ValueError(f"ladder step {self.key!r}: at_fraction must be a finite number >= 0")
        if self.after_deadline is not None and self.after_deadline < _ZERO:
            raise ValueError(f"ladder step {self.key!r}: after_deadline must not be negative")
        object.__setattr__(self, "notify", tuple(self.notify))


def who_hears(
    notify: Iterable[str],
    *,
    owner: str | None,
    team_lead: str | None,
    team_experts: Sequence[str],
    community_managers: Sequence[str],
    decision_makers: Sequence[str],
    on_call: Callable[[str], Sequence[str]],
) -> tuple[list[str], list[str]]:
    """Who a ladder step's `notify` targets reach: (people named in the mention's thread, people written to directly).

    owner_or_team: the owner, or the team's lead and experts while nobody owns it; team_lead; community_managers
    (in the thread); decision_makers (directly); oncall_community_manager / oncall_decision_maker: `on_call(role)`
    for "community_managers" / "decision_makers", asked only when a step names it (it reads the overrides).
    Each person once, and nobody told twice: someone named in the thread gets no direct message.
    """
    in_thread: list[str] = []
    direct: list[str] = []
    for item in notify:
        if item == "owner_or_team":
            in_thread += [owner] if owner else [*([team_lead] if team_lead else []), *team_experts]
        elif item == "team_lead" and team_lead:
            in_thread.append(team_lead)
        elif item == "community_managers":
            in_thread += community_managers
        elif item == "decision_makers":
            direct += decision_makers
        elif item == "oncall_community_manager":
            direct += on_call("community_managers")
        elif item == "oncall_decision_maker":
            direct += on_call("decision_makers")
    return list(dict.fromkeys(in_thread)), [u for u in dict.fromkeys(direct) if u not in in_thread]


def step_due_at(
    step: LadderStep,
    *,
    start: datetime,
    deadline_at: datetime,
    cal: BusinessCalendar,
    round_the_clock: bool,
) -> datetime:
    """When `step` fires.

    A fraction is of the SLA's business time (of physical time if round the clock); `after_deadline` is
    counted from the deadline in business time (physical if round the clock).
    """
    start, deadline_at = require_aware("start", start), require_aware("deadline_at", deadline_at)
    if step.at_fraction is not None:
        if round_the_clock:
            return start + (deadline_at - start) * step.at_fraction
        return add_business_time(
            start, business_time_between(start, deadline_at, cal) * step.at_fraction, cal
        )
    assert step.after_deadline is not None
    if round_the_clock:
        return deadline_at + step.after_deadline
    return add_business_time(deadline_at, step.after_deadline, cal)


def due_steps(
    *,
    now: datetime,
    start: datetime,
    deadline_at: datetime,
    ladder: Sequence[LadderStep],
    cal: BusinessCalendar,
    round_the_clock: bool,
    already_sent: set[str] | frozenset[str],
) -> list[LadderStep]:
    """Steps due at `now` and not yet sent, in firing order (ladder order for equal times), so a sweep after
    downtime catches up on all of them at once."""
    now = require_aware("now", now)
    due = []
    for index, step in enumerate(ladder):
        if step.key in already_sent:
            continue
        at = step_due_at(step, start=start, deadline_at=deadline_at, cal=cal, round_the_clock=round_the_clock)
        if at <= now:
            due.append((at, index, step))
    due.sort(key=lambda item: (item[0], item[1]))
    return [step for _, _, step in due]


_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def parse_duration(text: str) -> timedelta:
    """ "30m", "2h", "1d" (24 hours), "1h30m", "90s", in the order d, h, m, s; case and spaces around are
    ignored."""
    cleaned = text.strip().lower() if isinstance(text, str) else ""
    match = _DURATION.fullmatch(cleaned)
    if not cleaned or not match:
        raise ValueError(
            f"bad duration {text!r}: expected a number with units d/h/m/s in that order, "
            "e.g. '30m', '2h', '1d', '1h30m', '90s'"
        )
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
