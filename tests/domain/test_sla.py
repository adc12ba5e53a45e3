"""SLA rules: business hours, holidays, daylight saving, escalation ladder. Expectations are hand-computed;
the arithmetic is in the comments. Paris is UTC+1 in winter (CET) and UTC+2 in summer (CEST); in 2026 the
clocks go 02:00 -> 03:00 on 2026-03-29 and 03:00 -> 02:00 on 2026-10-25."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.sla import (
    BusinessCalendar,
    LadderStep,
    add_business_time,
    business_time_between,
    deadline,
    due_steps,
    is_open,
    local_to_utc,
    next_open,
    parse_duration,
    step_due_at,
    time_left,
    who_hears,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# 09:00-12:30 (3h30) + 14:00-18:00 (4h) = 7h30 a day, Monday to Friday.
OFFICE = BusinessCalendar.from_strings(
    "Europe/Paris",
    {day: ["09:00-12:30", "14:00-18:00"] for day in WEEKDAYS},
    ["2026-12-25", date(2027, 1, 1)],
)
# Open on Sundays around the night-time clock changes, plus Monday mornings.
NIGHT = BusinessCalendar.from_strings("Europe/Paris", {"sun": ["01:00-05:00"], "mon": ["09:00-18:00"]}, [])
H = timedelta(hours=1)
M = timedelta(minutes=1)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- calendar construction -------------------------------------------------------------------------------


def test_from_strings_parses_week_and_holidays() -> None:
    assert OFFICE.week[0] == ((time(9), time(12, 30)), (time(14), time(18)))
    assert OFFICE.week.get(5, ()) == ()
    assert OFFICE.holidays == frozenset({date(2026, 12, 25), date(2027, 1, 1)})
    assert OFFICE.tz == PARIS


def test_end_of_day_24_00_is_accepted_and_joins_the_next_day() -> None:
    cal = BusinessCalendar.from_strings("Europe/Paris", {"fri": ["20:00-24:00"], "sat": ["00:00-02:00"]})
    # Friday 2026-11-20 20:00 CET -> Saturday 02:00 CET is one 6h stretch.
    assert business_time_between(paris(2026, 11, 20, 12), paris(2026, 11, 21, 12), cal) == 6 * H
    assert is_open(paris(2026, 11, 21, 0), cal)
    assert add_business_time(paris(2026, 11, 20, 23), 2 * H, cal) == paris(2026, 11, 21, 1)


@pytest.mark.parametrize(
    ("tz", "week", "holidays", "message"),
    [
        ("Europe/Paris", {"mon": ["9:00-12:00"], "funday": ["09:00-10:00"]}, [], "unknown weekday"),
        ("Europe/Paris", {"mon": ["09:00"]}, [], "bad opening interval"),
        ("Europe/Paris", {"mon": ["12:00-09:00"]}, [], "does not end after"),
        ("Europe/Paris", {"mon": ["09:00-12:00", "11:00-13:00"]}, [], "overlap"),
        ("Europe/Paris", {"mon": ["25:00-26:00"]}, [], "out of range"),
        ("Europe/Paris", {"mon": ["09:00-00:00"]}, [], "24:00"),
        ("Europe/Paris", {"mon": [], "tue": []}, [], "no open time"),
        ("Europe/Parys", {"mon": ["09:00-10:00"]}, [], "unknown time zone"),
        ("Europe/Paris", {"mon": ["09:00-10:00"]}, ["25/12/2026"], "bad holiday"),
    ],
)
def test_from_strings_rejects_bad_input(tz: str, week: dict, holidays: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_strings(tz, week, holidays)


def test_closed_for_more_than_a_year_raises_instead_of_looping() -> None:
    # Open on Mondays only, and every Monday of 2026-2027 is a holiday.
    mondays = [date(2026, 1, 5) + timedelta(weeks=k) for k in range(110)]
    cal = BusinessCalendar.from_strings("Europe/Paris", {"mon": ["09:00-10:00"]}, mondays)
    with pytest.raises(ValueError, match="no open business time"):
        add_business_time(paris(2026, 1, 1), H, cal)
    with pytest.raises(ValueError, match="no open business time"):
        next_open(paris(2026, 1, 1), cal)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(datetime(2026, 11, 23, 10), OFFICE)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2026, 11, 23, 10), H, OFFICE)


# --- open / closed -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 11, 23, 9), True),  # Monday opening, start included
        (paris(2026, 11, 23, 8, 59), False),  # before opening
        (paris(2026, 11, 23, 12, 29), True),
        (paris(2026, 11, 23, 12, 30), False),  # lunch break, end excluded
        (paris(2026, 11, 23, 13, 0), False),  # lunch break
        (paris(2026, 11, 23, 14, 0), True),  # afternoon
        (paris(2026, 11, 23, 18, 0), False),  # evening
        (paris(2026, 11, 23, 22, 0), False),  # evening
        (paris(2026, 11, 21, 11, 0), False),  # Saturday
        (paris(2026, 11, 22, 11, 0), False),  # Sunday
        (paris(2026, 12, 25, 10, 0), False),  # Christmas, a Friday
        (paris(2027, 1, 1, 10, 0), False),  # New Year's Day, a Friday
        (paris(2026, 12, 24, 10, 0), True),  # the day before is a normal Thursday
        (utc(2026, 11, 23, 8, 0), True),  # 08:00 UTC = 09:00 CET
        (utc(2026, 7, 6, 7, 30), True),  # 07:30 UTC = 09:30 CEST, a Monday
        (utc(2026, 7, 6, 6, 30), False),  # 06:30 UTC = 08:30 CEST
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert is_open(at, OFFICE) is expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 11, 23, 10), paris(2026, 11, 23, 10)),  # open: itself
        (paris(2026, 11, 23, 12, 45), paris(2026, 11, 23, 14)),  # lunch -> afternoon
        (paris(2026, 11, 23, 19), paris(2026, 11, 24, 9)),  # evening -> next morning
        (paris(2026, 11, 20, 18, 30), paris(2026, 11, 23, 9)),  # Friday evening -> Monday
        (paris(2026, 12, 24, 19), paris(2026, 12, 28, 9)),  # Thu evening, Fri 25 holiday, weekend -> Mon 28
        (paris(2026, 12, 31, 18), paris(2027, 1, 4, 9)),  # Thu close, Fri 1 Jan holiday, weekend -> Mon 4
    ],
)
def test_next_open(at: datetime, expected: datetime) -> None:
    result = next_open(at, OFFICE)
    assert result == expected
    assert result.tzinfo is UTC


# --- adding business time ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        # Friday 17:00: 1h until 18:00, weekend closed, Monday 09:00 + 1h = 10:00.
        (paris(2026, 11, 20, 17), 2 * H, paris(2026, 11, 23, 10)),
        # 12:00 + 1h: 30m until 12:30, lunch, 14:00 + 30m = 14:30.
        (paris(2026, 11, 23, 12), H, paris(2026, 11, 23, 14, 30)),
        # 16:00 + 2h ends exactly at the 18:00 close, not at the next opening.
        (paris(2026, 11, 23, 16), 2 * H, paris(2026, 11, 23, 18)),
        # Evening 20:00 + 30m: counting starts Tuesday 09:00 -> 09:30.
        (paris(2026, 11, 23, 20), 30 * M, paris(2026, 11, 24, 9, 30)),
        # Saturday + 0 = next opening, Monday 09:00.
        (paris(2026, 11, 21, 10), timedelta(0), paris(2026, 11, 23, 9)),
        # Thursday 24 Dec 17:00 + 3h: 1h on Thursday, Fri 25 holiday, weekend, Mon 28 09:00 + 2h = 11:00.
        (paris(2026, 12, 24, 17), 3 * H, paris(2026, 12, 28, 11)),
        # Thursday 31 Dec 17:30 + 1h: 30m on Thursday, Fri 1 Jan holiday, weekend, Mon 4 Jan 09:30.
        (paris(2026, 12, 31, 17, 30), H, paris(2027, 1, 4, 9, 30)),
        # A whole week: Monday 09:00 + 5 x 7h30 = 37h30 ends Friday 18:00.
        (paris(2026, 11, 23, 9), timedelta(hours=37, minutes=30), paris(2026, 11, 27, 18)),
        # Same + 1m -> the next Monday 09:01.
        (paris(2026, 11, 23, 9), timedelta(hours=37, minutes=31), paris(2026, 11, 30, 9, 1)),
    ],
)
def test_add_business_time(start: datetime, duration: timedelta, expected: datetime) -> None:
    result = add_business_time(start, duration, OFFICE)
    assert result == expected
    assert result.tzinfo is UTC
    assert business_time_between(start, result, OFFICE) == duration


def test_add_business_time_refuses_negative_durations() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(paris(2026, 11, 23, 10), -H, OFFICE)


def test_business_time_between() -> None:
    # A day: 3h30 + 4h.
    assert business_time_between(paris(2026, 11, 23, 9), paris(2026, 11, 23, 18), OFFICE) == 7.5 * H
    # A week Monday 09:00 -> Monday 09:00: 5 x 7h30.
    assert business_time_between(paris(2026, 11, 23, 9), paris(2026, 11, 30, 9), OFFICE) == 37.5 * H
    # Christmas week: Mon 21 .. Thu 24 only, 4 x 7h30.
    assert business_time_between(paris(2026, 12, 21, 0), paris(2026, 12, 28, 0), OFFICE) == 30 * H
    # Within lunch: nothing.
    assert business_time_between(paris(2026, 11, 23, 12, 30), paris(2026, 11, 23, 14), OFFICE) == timedelta(0)
    # Reversed: negative.
    assert business_time_between(paris(2026, 11, 23, 18), paris(2026, 11, 23, 9), OFFICE) == -7.5 * H


# --- daylight saving -----------------------------------------------------------------------------------


def test_local_to_utc_ambiguous_and_nonexistent() -> None:
    # Spring forward: 02:30 does not exist; moved forward to 03:00 CEST = 01:00 UTC.
    assert local_to_utc(date(2026, 3, 29), time(2, 30), PARIS) == utc(2026, 3, 29, 1)
    # Fall back: 02:30 happens twice; the first (CEST) is 00:30 UTC.
    assert local_to_utc(date(2026, 10, 25), time(2, 30), PARIS) == utc(2026, 10, 25, 0, 30)
    # Ordinary days.
    assert local_to_utc(date(2026, 1, 5), time(9), PARIS) == utc(2026, 1, 5, 8)
    assert local_to_utc(date(2026, 7, 6), time(9), PARIS) == utc(2026, 7, 6, 7)


def test_interval_spanning_spring_forward_is_one_hour_shorter() -> None:
    # Sunday 2026-03-29 01:00 CET (00:00 UTC) -> 05:00 CEST (03:00 UTC): 3h of real time, not 4h.
    day = (paris(2026, 3, 29, 0), paris(2026, 3, 29, 23))
    assert business_time_between(*day, NIGHT) == 3 * H
    # The Sunday before is an ordinary 4h.
    assert business_time_between(paris(2026, 3, 22, 0), paris(2026, 3, 22, 23), NIGHT) == 4 * H
    # 01:00 + 3h lands on the 05:00 close; 3h30 spills over to Monday 2026-03-30 09:30 CEST.
    assert add_business_time(paris(2026, 3, 29, 1), 3 * H, NIGHT) == paris(2026, 3, 29, 5)
    assert add_business_time(paris(2026, 3, 29, 1), 3.5 * H, NIGHT) == utc(2026, 3, 30, 7, 30)


def test_interval_spanning_fall_back_is_one_hour_longer() -> None:
    # Sunday 2026-10-25 01:00 CEST (23:00 UTC on the 24th) -> 05:00 CET (04:00 UTC): 5h of real time.
    assert business_time_between(paris(2026, 10, 25, 0), paris(2026, 10, 25, 23), NIGHT) == 5 * H
    # 01:00 CEST + 4h = 04:00 UTC = 05:00 CET: the close, not 04:00 local.
    assert add_business_time(paris(2026, 10, 25, 1), 4 * H, NIGHT) == utc(2026, 10, 25, 3)
    assert add_business_time(paris(2026, 10, 25, 1), 5 * H, NIGHT) == utc(2026, 10, 25, 4)
    assert add_business_time(paris(2026, 10, 25, 1), 5 * H, NIGHT) == paris(2026, 10, 25, 5)


def test_interval_edges_inside_the_changes() -> None:
    gap = BusinessCalendar.from_strings("Europe/Paris", {"sun": ["02:30-04:00"]})
    # 02:30 does not exist on 2026-03-29: opens at 03:00 CEST -> 04:00 CEST = 1h.
    assert business_time_between(paris(2026, 3, 29, 0), paris(2026, 3, 29, 12), gap) == H
    assert next_open(paris(2026, 3, 29, 0), gap) == utc(2026, 3, 29, 1)
    overlap = BusinessCalendar.from_strings("Europe/Paris", {"sun": ["02:30-03:00"]})
    # 2026-10-25: 02:30 is the first one (CEST, 00:30 UTC) and 03:00 CET is 02:00 UTC: 1h30.
    assert business_time_between(paris(2026, 10, 25, 0), paris(2026, 10, 25, 12), overlap) == 1.5 * H
    # An interval wholly inside the spring gap is empty: nothing that day, next is 2026-04-05 02:00 CEST.
    inside = BusinessCalendar.from_strings("Europe/Paris", {"sun": ["02:10-02:50"]})
    assert business_time_between(paris(2026, 3, 29, 0), paris(2026, 3, 29, 12), inside) == timedelta(0)
    assert next_open(paris(2026, 3, 29, 0), inside) == paris(2026, 4, 5, 2, 10)


def test_office_weekend_spanning_spring_forward() -> None:
    # Friday 2026-03-27 17:00 CET (16:00 UTC) + 2h business -> Monday 2026-03-30 10:00 CEST (08:00 UTC).
    start = paris(2026, 3, 27, 17)
    end = add_business_time(start, 2 * H, OFFICE)
    assert end == utc(2026, 3, 30, 8)
    assert end.astimezone(PARIS).hour == 10
    # Physically 64h passed (16:00 UTC Fri -> 08:00 UTC Mon), but only 2h of business time.
    assert end - start == 64 * H
    assert business_time_between(start, end, OFFICE) == 2 * H


def test_round_the_clock_deadline_is_physical_time_across_spring_forward() -> None:
    # 2026-03-29 00:30 CET = 23:30 UTC on the 28th; + 4h = 03:30 UTC = 05:30 CEST (wall clock shows +5h).
    start = paris(2026, 3, 29, 0, 30)
    result = deadline(start, 4 * H, OFFICE, round_the_clock=True)
    assert result == utc(2026, 3, 29, 3, 30)
    assert result.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 3, 29, 5, 30)
    assert result.tzinfo is UTC


def test_round_the_clock_deadline_is_physical_time_across_fall_back() -> None:
    # 2026-10-25 00:30 CEST = 22:30 UTC on the 24th; + 4h = 02:30 UTC = 03:30 CET (wall clock shows +3h).
    result = deadline(paris(2026, 10, 25, 0, 30), 4 * H, OFFICE, round_the_clock=True)
    assert result.astimezone(PARIS).replace(tzinfo=None) == datetime(2026, 10, 25, 3, 30)


def test_business_deadline_uses_the_calendar() -> None:
    # Saturday: round the clock just adds 2h; business waits for Monday 09:00 + 2h.
    start = paris(2026, 11, 21, 10)
    assert deadline(start, 2 * H, OFFICE, round_the_clock=True) == paris(2026, 11, 21, 12)
    assert deadline(start, 2 * H, OFFICE, round_the_clock=False) == paris(2026, 11, 23, 11)


# --- time left -----------------------------------------------------------------------------------------


def test_time_left_business_and_round_the_clock() -> None:
    due = paris(2026, 11, 23, 15)
    # 10:00 -> 12:30 = 2h30, lunch, 14:00 -> 15:00 = 1h: 3h30 of business time; 5h of physical time.
    assert time_left(paris(2026, 11, 23, 10), due, OFFICE, round_the_clock=False) == 3.5 * H
    assert time_left(paris(2026, 11, 23, 10), due, OFFICE, round_the_clock=True) == 5 * H


def test_time_left_is_negative_when_late() -> None:
    due = paris(2026, 11, 23, 15)
    # One business hour late at 16:00.
    assert time_left(paris(2026, 11, 23, 16), due, OFFICE, round_the_clock=False) == -H
    assert time_left(paris(2026, 11, 23, 16), due, OFFICE, round_the_clock=True) == -H
    # Late across the evening: 15:00 -> 18:00 (3h) + Tuesday 09:00 -> 10:00 (1h) = 4h business; 19h physical.
    assert time_left(paris(2026, 11, 24, 10), due, OFFICE, round_the_clock=False) == -4 * H
    assert time_left(paris(2026, 11, 24, 10), due, OFFICE, round_the_clock=True) == -19 * H
    # Due Friday 18:00, seen on Saturday: no business time has passed, but it is late all the same.
    late = time_left(paris(2026, 11, 21, 10), paris(2026, 11, 20, 18), OFFICE, round_the_clock=False)
    assert timedelta(0) > late > -M
    # Exactly at the deadline: zero, not late.
    assert time_left(due, due, OFFICE, round_the_clock=False) == timedelta(0)


# --- escalation ladder ---------------------------------------------------------------------------------

HALF = LadderStep("half", at_fraction=0.5, after_deadline=None, notify=("lead",))
DUE = LadderStep("due", at_fraction=1.0, after_deadline=None, notify=("lead", "manager"))
LATE = LadderStep("late", at_fraction=None, after_deadline=30 * M, notify=("director",))
LADDER = (HALF, DUE, LATE)
# 2h SLA from Monday 11:00: 11:00 -> 12:30 = 1h30, then 14:00 + 30m = 14:30.
START = paris(2026, 11, 23, 11)
DEADLINE = paris(2026, 11, 23, 14, 30)


def test_sla_deadline_for_ladder_tests() -> None:
    assert deadline(START, 2 * H, OFFICE, round_the_clock=False) == DEADLINE


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        # 50% of 2h business = 1h: 11:00 + 1h = 12:00 (physical half-way 12:45 would be in the lunch break).
        (HALF, paris(2026, 11, 23, 12)),
        (DUE, DEADLINE),
        # 14:30 + 30m business = 15:00.
        (LATE, paris(2026, 11, 23, 15)),
        # 25% = 30m -> 11:30; 75% = 1h30 -> 12:30 (end of the morning interval).
        (LadderStep("q1", 0.25, None), paris(2026, 11, 23, 11, 30)),
        (LadderStep("q3", 0.75, None), paris(2026, 11, 23, 12, 30)),
    ],
)
def test_step_due_at_business(step: LadderStep, expected: datetime) -> None:
    assert step_due_at(step, start=START, deadline_at=DEADLINE, cal=OFFICE, round_the_clock=False) == expected


def test_step_due_at_after_deadline_counts_business_time() -> None:
    # 2h SLA from Monday 16:00 is due at the 18:00 close; +30m business = Tuesday 09:30.
    start = paris(2026, 11, 23, 16)
    due = deadline(start, 2 * H, OFFICE, round_the_clock=False)
    assert due == paris(2026, 11, 23, 18)
    assert step_due_at(LATE, start=start, deadline_at=due, cal=OFFICE, round_the_clock=False) == paris(
        2026, 11, 24, 9, 30
    )


def test_step_due_at_round_the_clock() -> None:
    # Saturday 10:00 + 2h round the clock = 12:00; 50% = 11:00; +30m = 12:30, weekend or not.
    start = paris(2026, 11, 21, 10)
    due = deadline(start, 2 * H, OFFICE, round_the_clock=True)
    kwargs = {"start": start, "deadline_at": due, "cal": OFFICE, "round_the_clock": True}
    assert step_due_at(HALF, **kwargs) == paris(2026, 11, 21, 11)
    assert step_due_at(DUE, **kwargs) == paris(2026, 11, 21, 12)
    assert step_due_at(LATE, **kwargs) == paris(2026, 11, 21, 12, 30)


def test_due_steps_after_downtime_are_all_due_at_once_in_order() -> None:
    # The bot was down from 11:30 to 16:00: half (12:00), due (14:30) and late (15:00) have all come.
    kwargs = {"start": START, "deadline_at": DEADLINE, "cal": OFFICE, "round_the_clock": False}
    now = paris(2026, 11, 23, 16)
    assert due_steps(now=now, ladder=LADDER, already_sent=set(), **kwargs) == [HALF, DUE, LATE]
    # Ladder order in the configuration does not matter: firing order does.
    assert due_steps(now=now, ladder=(LATE, HALF, DUE), already_sent=set(), **kwargs) == [HALF, DUE, LATE]
    # Already sent steps are not sent again.
    assert due_steps(now=now, ladder=LADDER, already_sent={"half"}, **kwargs) == [DUE, LATE]
    assert due_steps(now=now, ladder=LADDER, already_sent={"half", "due", "late"}, **kwargs) == []


def test_due_steps_only_what_has_come() -> None:
    kwargs = {"start": START, "deadline_at": DEADLINE, "cal": OFFICE, "round_the_clock": False}
    assert due_steps(now=paris(2026, 11, 23, 11, 59), ladder=LADDER, already_sent=set(), **kwargs) == []
    # Exactly at 12:00 the half-way step is due.
    assert due_steps(now=paris(2026, 11, 23, 12), ladder=LADDER, already_sent=set(), **kwargs) == [HALF]
    # During lunch, past the physical half-way point but not the deadline.
    assert due_steps(now=paris(2026, 11, 23, 13), ladder=LADDER, already_sent=set(), **kwargs) == [HALF]
    assert due_steps(now=paris(2026, 11, 23, 14, 45), ladder=LADDER, already_sent={"half"}, **kwargs) == [DUE]


@pytest.mark.parametrize(
    ("fraction", "after", "message"),
    [
        (0.5, 30 * M, "exactly one"),
        (None, None, "exactly one"),
        (-0.1, None, "at_fraction"),
        (float("nan"), None, "at_fraction"),
        (None, -M, "negative"),
    ],
)
def test_ladder_step_validation(fraction: float | None, after: timedelta | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LadderStep("x", at_fraction=fraction, after_deadline=after)


# --- durations -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", 30 * M),
        ("2h", 2 * H),
        ("1d", timedelta(days=1)),
        ("1h30m", 90 * M),
        ("90s", timedelta(seconds=90)),
        (" 2H ", 2 * H),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "m", "1.5h", "30m1h", "-2h", "2 h", "2hours", "1h 30m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


# --- properties ----------------------------------------------------------------------------------------

# A calendar full of awkward edges: lunch, late nights across midnight, intervals in the DST hours.
AWKWARD = BusinessCalendar.from_strings(
    "Europe/Paris",
    {
        "mon": ["00:00-03:00", "09:00-12:30", "14:00-18:00"],
        "tue": ["09:00-12:30", "14:00-18:00"],
        "wed": ["09:00-12:30"],
        "fri": ["09:00-12:30", "14:00-24:00"],
        "sat": ["00:00-01:00"],
        "sun": ["01:00-02:15", "02:30-03:00", "03:30-24:00"],
    },
    ["2026-12-25", "2027-01-01", "2026-05-01"],
)
CALENDARS = st.sampled_from([OFFICE, NIGHT, AWKWARD])
MOMENTS = st.one_of(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(PARIS)),
    # Around the 2026 clock changes.
    st.datetimes(min_value=datetime(2026, 3, 27), max_value=datetime(2026, 3, 31), timezones=st.just(PARIS)),
    st.datetimes(
        min_value=datetime(2026, 10, 23), max_value=datetime(2026, 10, 27), timezones=st.just(PARIS)
    ),
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, a=DURATIONS, b=DURATIONS, cal=CALENDARS)
def test_add_business_time_is_monotonic_in_duration(start: datetime, a: timedelta, b: timedelta, cal) -> None:
    low, high = sorted((a, b))
    assert add_business_time(start, low, cal) <= add_business_time(start, high, cal)


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, duration=DURATIONS, cal=CALENDARS)
def test_business_time_between_inverts_add_business_time(start: datetime, duration: timedelta, cal) -> None:
    end = add_business_time(start, duration, cal)
    assert business_time_between(start, end, cal) == duration
    assert business_time_between(end, start, cal) == -duration


@settings(max_examples=150, deadline=None)
@given(start=MOMENTS, duration=DURATIONS, cal=CALENDARS)
def test_result_is_open_or_an_interval_end(start: datetime, duration: timedelta, cal) -> None:
    end = add_business_time(start, duration, cal)
    assert end >= next_open(start, cal) >= start
    assert is_open(end, cal) or is_open(end - timedelta(microseconds=1), cal)
    assert is_open(next_open(start, cal), cal)


@settings(max_examples=100, deadline=None)
@given(a=MOMENTS, b=MOMENTS, c=MOMENTS, cal=CALENDARS)
def test_business_time_between_is_additive(a: datetime, b: datetime, c: datetime, cal) -> None:
    # Sort in real time: same-zone aware datetimes compare by wall clock, and 02:00:00.000001 on the
    # spring-forward day (nonexistent, read as 03:00:00.000001 CEST) is after 03:00 CEST.
    a, b, c = sorted(moment.astimezone(UTC) for moment in (a, b, c))
    ab, bc = business_time_between(a, b, cal), business_time_between(b, c, cal)
    assert ab >= timedelta(0) and bc >= timedelta(0)
    assert ab + bc == business_time_between(a, c, cal)
    assert ab <= b - a


# --- who hears a ladder step ---------------------------------------------------------------------------------


def _hears(notify: tuple[str, ...], owner: str | None = None, lead: str | None = "ULEAD",
           asked: list[str] | None = None) -> tuple[list[str], list[str]]:
    oncall = {"community_managers": ["UCM2"], "decision_makers": ["UDM1"]}

    def on_call(role: str) -> list[str]:
        if asked is not None:
            asked.append(role)
        return oncall[role]

    return who_hears(notify, owner=owner, team_lead=lead, team_experts=["UEXP"], community_managers=["UCM1", "UCM2"],
                     decision_makers=["UDM1", "UDM2"], on_call=on_call)


def test_owner_or_team_is_the_owner_else_the_lead_and_experts() -> None:
    assert _hears(("owner_or_team",), owner="UOWNER") == (["UOWNER"], [])
    assert _hears(("owner_or_team",)) == (["ULEAD", "UEXP"], [])
    assert _hears(("owner_or_team",), lead=None) == (["UEXP"], [])


def test_team_lead_and_community_managers_are_named_in_the_thread() -> None:
    assert _hears(("team_lead", "community_managers")) == (["ULEAD", "UCM1", "UCM2"], [])
    assert _hears(("team_lead",), lead=None) == ([], [])


def test_decision_makers_and_on_call_are_written_to_directly_once() -> None:
    assert _hears(("decision_makers", "oncall_decision_maker")) == ([], ["UDM1", "UDM2"])
    # Someone already named in the thread gets no direct message as well.
    assert _hears(("community_managers", "oncall_community_manager")) == (["UCM1", "UCM2"], [])


def test_on_call_is_asked_only_when_a_step_names_it() -> None:
    asked: list[str] = []
    _hears(("owner_or_team", "team_lead"), asked=asked)
    assert asked == []
    _hears(("oncall_community_manager", "oncall_decision_maker"), asked=asked)
    assert asked == ["community_managers", "decision_makers"]
