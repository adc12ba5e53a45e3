"""On-call rotation and overrides. Expectations are hand-computed; the arithmetic is in the comments. Paris is
UTC+1 in winter (CET), UTC+2 in summer (CEST); clocks change on 2026-03-29 and 2026-10-25."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.oncall import (
    Override,
    Rotation,
    next_handover,
    on_call,
    on_call_or_everyone,
    swap,
    weekend_of,
)

PARIS = ZoneInfo("Europe/Paris")
PEOPLE = ("alice", "bob", "carol")


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Monday 2026-03-23 09:00 CET = 08:00 UTC; the clocks go forward during the first week.
SPRING = Rotation(PEOPLE, starts=paris(2026, 3, 23, 9))
# Monday 2026-10-19 09:00 CEST = 07:00 UTC; the clocks go back during the first week.
AUTUMN = Rotation(PEOPLE, starts=paris(2026, 10, 19, 9))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 3, 23, 8, 59), None),  # before the rotation starts
        (paris(2026, 3, 23, 9), "alice"),  # the first handover
        (paris(2026, 3, 29, 12), "alice"),  # Sunday, after the change
        # Next handover Monday 2026-03-30 09:00 CEST = 07:00 UTC, i.e. 167h after the start (not 168h).
        (paris(2026, 3, 30, 8, 59), "alice"),
        (paris(2026, 3, 30, 9), "bob"),
        (utc(2026, 3, 30, 7), "bob"),
        # A plain 168h would put the handover at 08:00 UTC = 10:00 CEST: at 09:30 it is already bob.
        (paris(2026, 3, 30, 9, 30), "bob"),
        (paris(2026, 4, 6, 9), "carol"),  # week 2
        (paris(2026, 4, 13, 9), "alice"),  # week 3 wraps around
        (paris(2026, 4, 20, 8, 59), "alice"),
        (paris(2026, 4, 20, 9), "bob"),  # week 4
        # 2027-06-07 is 52 weeks (to 2027-03-22) + 11 weeks (77 days: 9 + 30 + 31 + 7) = week 63; 63 % 3 = 0.
        (paris(2027, 6, 7, 8, 59), "carol"),  # week 62: 62 % 3 = 2
        (paris(2027, 6, 7, 9), "alice"),
    ],
)
def test_on_call_spring(at: datetime, expected: str | None) -> None:
    assert on_call(at, SPRING) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 10, 19, 9), "alice"),
        # Next handover Monday 2026-10-26 09:00 CET = 08:00 UTC, 169h after 07:00 UTC on the 19th.
        # A plain 168h would be 07:00 UTC = 08:00 CET: at 08:30 CET it is still alice.
        (paris(2026, 10, 26, 8, 30), "alice"),
        (utc(2026, 10, 26, 7, 59), "alice"),
        (utc(2026, 10, 26, 8), "bob"),
        (paris(2026, 10, 26, 9), "bob"),
    ],
)
def test_on_call_autumn(at: datetime, expected: str | None) -> None:
    assert on_call(at, AUTUMN) == expected


def test_rotation_tz_overrides_the_zone_of_starts() -> None:
    # The same instant given in UTC, but handovers follow Paris wall-clock time.
    rotation = Rotation(PEOPLE, starts=utc(2026, 3, 23, 8), tz=PARIS)
    assert on_call(paris(2026, 3, 30, 9), rotation) == "bob"
    assert next_handover(paris(2026, 3, 25), rotation) == utc(2026, 3, 30, 7)
    # Without tz, a UTC start means physical weeks: 08:00 UTC = 10:00 CEST.
    physical = Rotation(PEOPLE, starts=utc(2026, 3, 23, 8))
    assert on_call(paris(2026, 3, 30, 9), physical) == "alice"
    assert next_handover(paris(2026, 3, 25), physical) == utc(2026, 3, 30, 8)
    # tz as a string is accepted.
    assert Rotation(PEOPLE, starts=utc(2026, 3, 23, 8), tz="Europe/Paris").zone == PARIS  # type: ignore[arg-type]


def test_next_handover() -> None:
    assert next_handover(paris(2026, 3, 25, 12), SPRING) == utc(2026, 3, 30, 7)
    # Exactly at a handover: the following one, Monday 2026-04-06 09:00 CEST = 07:00 UTC.
    assert next_handover(paris(2026, 3, 30, 9), SPRING) == utc(2026, 4, 6, 7)
    # Before the start: the start itself.
    assert next_handover(paris(2026, 3, 1), SPRING) == utc(2026, 3, 23, 8)
    assert next_handover(paris(2026, 10, 20), AUTUMN) == utc(2026, 10, 26, 8)
    assert next_handover(paris(2026, 10, 20), AUTUMN).tzinfo is UTC


def test_custom_period() -> None:
    # Daily handover at 09:00 local, two people.
    daily = Rotation(("alice", "bob"), starts=paris(2026, 3, 28, 9), period=timedelta(days=1))
    assert on_call(paris(2026, 3, 29, 8, 59), daily) == "alice"
    assert on_call(paris(2026, 3, 29, 9), daily) == "bob"  # 23h after the start, across the change
    assert on_call(paris(2026, 3, 30, 9), daily) == "alice"


# --- overrides -----------------------------------------------------------------------------------------


def test_override_takes_a_weekend() -> None:
    # Week of 2026-04-06 is carol's; dave takes the weekend Sat 11 00:00 -> Mon 13 00:00.
    start, end = weekend_of(paris(2026, 4, 8, 15), PARIS)
    overrides = [Override("dave", start, end)]
    assert on_call(paris(2026, 4, 10, 23, 59), SPRING, overrides) == "carol"
    assert on_call(paris(2026, 4, 11, 0), SPRING, overrides) == "dave"
    assert on_call(paris(2026, 4, 12, 23, 59), SPRING, overrides) == "dave"
    assert on_call(paris(2026, 4, 13, 0), SPRING, overrides) == "carol"  # end excluded; carol until 09:00
    assert on_call(paris(2026, 4, 13, 9), SPRING, overrides) == "alice"


def test_latest_override_wins() -> None:
    first = Override("dave", paris(2026, 4, 11), paris(2026, 4, 13))
    second = Override("erin", paris(2026, 4, 12), paris(2026, 4, 12, 12))
    assert on_call(paris(2026, 4, 12, 10), SPRING, [first, second]) == "erin"
    assert on_call(paris(2026, 4, 12, 10), SPRING, [second, first]) == "dave"
    assert on_call(paris(2026, 4, 12, 13), SPRING, [first, second]) == "dave"
    assert on_call(paris(2026, 4, 11, 10), SPRING, [first, second]) == "dave"


def test_override_before_the_rotation_starts() -> None:
    early = Override("dave", paris(2026, 3, 20), paris(2026, 3, 23, 9))
    assert on_call(paris(2026, 3, 21), SPRING, [early]) == "dave"
    assert on_call(paris(2026, 3, 19), SPRING, [early]) is None


# --- weekends ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "saturday", "monday"),
    [
        # Wednesday 2026-11-18 -> Sat 21 00:00 CET (Fri 20 23:00 UTC) -> Mon 23 00:00 CET (Sun 22 23:00 UTC).
        (paris(2026, 11, 18, 15), utc(2026, 11, 20, 23), utc(2026, 11, 22, 23)),
        (paris(2026, 11, 20, 23, 59), utc(2026, 11, 20, 23), utc(2026, 11, 22, 23)),  # Friday night
        (paris(2026, 11, 21, 0), utc(2026, 11, 20, 23), utc(2026, 11, 22, 23)),  # Saturday: this weekend
        (paris(2026, 11, 22, 23, 59), utc(2026, 11, 20, 23), utc(2026, 11, 22, 23)),  # Sunday: this weekend
        (paris(2026, 11, 23, 0), utc(2026, 11, 27, 23), utc(2026, 11, 29, 23)),  # Monday: the next one
        # Saturday 2026-11-21 00:30 Paris is still Friday 23:30 UTC: the local date decides.
        (utc(2026, 11, 20, 23, 30), utc(2026, 11, 20, 23), utc(2026, 11, 22, 23)),
        # Spring forward weekend: Sat 28 Mar 00:00 CET = 27th 23:00 UTC; Mon 30 00:00 CEST = 29th 22:00 UTC (47h).
        (paris(2026, 3, 25), utc(2026, 3, 27, 23), utc(2026, 3, 29, 22)),
        # Fall back weekend: Sat 24 Oct 00:00 CEST = 23rd 22:00 UTC; Mon 26 00:00 CET = 25th 23:00 UTC (49h).
        (paris(2026, 10, 24, 12), utc(2026, 10, 23, 22), utc(2026, 10, 25, 23)),
    ],
)
def test_weekend_of(at: datetime, saturday: datetime, monday: datetime) -> None:
    start, end = weekend_of(at, "Europe/Paris")
    assert (start, end) == (saturday, monday)
    assert start.tzinfo is UTC and end.tzinfo is UTC


# --- swap and validation -------------------------------------------------------------------------------


def test_swap_exchanges_positions() -> None:
    swapped = swap(SPRING, "alice", "carol")
    assert swapped.people == ("carol", "bob", "alice")
    assert swapped.starts == SPRING.starts and swapped.period == SPRING.period
    assert on_call(paris(2026, 3, 24), swapped) == "carol"
    assert on_call(paris(2026, 4, 7), swapped) == "alice"
    assert SPRING.people == PEOPLE  # the original is unchanged
    with pytest.raises(ValueError, match="not in the rotation"):
        swap(SPRING, "alice", "mallory")


def test_validation() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Rotation((), starts=paris(2026, 3, 23, 9))
    with pytest.raises(ValueError, match="aware"):
        Rotation(PEOPLE, starts=datetime(2026, 3, 23, 9))
    with pytest.raises(ValueError, match="positive"):
        Rotation(PEOPLE, starts=paris(2026, 3, 23, 9), period=timedelta(0))
    with pytest.raises(ValueError, match="after start"):
        Override("dave", paris(2026, 4, 12), paris(2026, 4, 12))
    with pytest.raises(ValueError, match="aware"):
        on_call(datetime(2026, 4, 12), SPRING)


# --- properties ----------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(week=st.integers(min_value=-60, max_value=300))
def test_handovers_stay_at_monday_09_00_local(week: int) -> None:
    handover = SPRING.handover(week)
    local = handover.astimezone(PARIS)
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert SPRING.period_index(handover) == week
    assert SPRING.period_index(handover - timedelta(microseconds=1)) == week - 1
    # Just before a handover, it is the next one; before the rotation starts, the start itself.
    expected = handover if week >= 0 else SPRING.handover(0)
    assert next_handover(handover - timedelta(microseconds=1), SPRING) == expected


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(
        min_value=datetime(2026, 3, 23, 9), max_value=datetime(2030, 1, 1), timezones=st.just(PARIS)
    )
)
def test_on_call_is_the_person_of_the_local_week(at: datetime) -> None:
    # Whole weeks since Monday 2026-03-23, counted on the local calendar (09:00 Monday is the boundary).
    local = at.astimezone(PARIS).replace(tzinfo=None)
    weeks = (local - datetime(2026, 3, 23, 9)) // timedelta(days=7)
    assert on_call(at, SPRING) == PEOPLE[weeks % 3]


# --- who hears an on-call alert ------------------------------------------------------------------------------

EVERYONE = ("alice", "bob", "carol", "dave")


def test_on_call_or_everyone_names_the_person_on_call() -> None:
    rotation = Rotation(people=PEOPLE, starts=paris(2026, 1, 5, 9), tz=PARIS)
    assert on_call_or_everyone(paris(2026, 1, 12, 9), rotation, (), EVERYONE) == ("bob",)
    taken = Override("dave", paris(2026, 1, 12), paris(2026, 1, 13))
    assert on_call_or_everyone(paris(2026, 1, 12, 10), rotation, (taken,), EVERYONE) == ("dave",)


def test_on_call_or_everyone_falls_back_to_everyone_before_the_rotation_starts() -> None:
    rotation = Rotation(people=PEOPLE, starts=paris(2026, 1, 5, 9), tz=PARIS)
    assert on_call_or_everyone(paris(2026, 1, 5, 8, 59), rotation, (), EVERYONE) == EVERYONE


def test_on_call_or_everyone_without_a_rotation_honours_overrides() -> None:
    first = Override("alice", utc(2026, 1, 1), utc(2026, 1, 10))
    later = Override("carol", utc(2026, 1, 5), utc(2026, 1, 6))
    assert on_call_or_everyone(utc(2026, 1, 5, 12), None, (first, later), EVERYONE) == ("carol",)  # latest wins
    assert on_call_or_everyone(utc(2026, 1, 7), None, (first, later), EVERYONE) == ("alice",)
    assert on_call_or_everyone(utc(2026, 1, 11), None, (first, later), EVERYONE) == EVERYONE
