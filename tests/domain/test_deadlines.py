"""Which deadline a mention races, crisis factor included (bot.domain.deadlines): the one rule behind the
deadline stored at intake, the reminders and the card."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.deadlines import STAGES, Race, due, race, stage_of
from bot.domain.sla import BusinessCalendar

PARIS = ZoneInfo("Europe/Paris")
# 09:00-12:30 (3h30) + 14:00-18:00 (4h) = 7h30 a day, Monday to Friday.
OFFICE = BusinessCalendar.from_strings(
    "Europe/Paris", {day: ["09:00-12:30", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    [date(2026, 12, 25)])
H = timedelta(hours=1)
MONDAY_10 = datetime(2026, 11, 23, 10, tzinfo=PARIS)
DURATIONS = {"first_response": 2 * H, "approved": 4 * H, "published": 6 * H}


def test_stages_in_order() -> None:
    assert STAGES == ("first_response", "approved", "published")
    assert stage_of(responded=False, approved=False) == "first_response"
    assert stage_of(responded=False, approved=True) == "first_response"  # a first response comes first
    assert stage_of(responded=True, approved=False) == "approved"
    assert stage_of(responded=True, approved=True) == "published"


def test_no_crisis_is_the_plain_sla() -> None:
    assert due(MONDAY_10, 2 * H, OFFICE, round_the_clock=False, crisis_factor=None) == MONDAY_10 + 2 * H
    # 4h of business time from Monday 10:00: 2h30 to 12:30, then 1h30 from 14:00.
    assert due(MONDAY_10, 4 * H, OFFICE, round_the_clock=False, crisis_factor=None) == \
        datetime(2026, 11, 23, 15, 30, tzinfo=PARIS)


def test_crisis_factor_shortens_every_deadline() -> None:
    assert due(MONDAY_10, 4 * H, OFFICE, round_the_clock=False, crisis_factor=0.5) == MONDAY_10 + 2 * H
    assert due(MONDAY_10, 4 * H, OFFICE, round_the_clock=True, crisis_factor=0.25) == MONDAY_10 + H


def test_business_time_applies_after_the_factor() -> None:
    # 10h of business time, halved: 5h, from Monday 10:00 = 2h30 before lunch and 2h30 after: 16:30.
    assert due(MONDAY_10, 10 * H, OFFICE, round_the_clock=False, crisis_factor=0.5) == \
        datetime(2026, 11, 23, 16, 30, tzinfo=PARIS)
    # Round the clock: the night counts.
    assert due(MONDAY_10, 20 * H, OFFICE, round_the_clock=True, crisis_factor=0.5) == MONDAY_10 + 10 * H


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("factor", [None, 0.5])
def test_race_is_due_of_its_stage(stage: str, factor: float | None) -> None:
    found = race(stage=stage, start=MONDAY_10, durations=DURATIONS, calendar=OFFICE, round_the_clock=True,
                 crisis_factor=factor)
    assert found == Race(stage, MONDAY_10, due(MONDAY_10, DURATIONS[stage], OFFICE, round_the_clock=True,
                                               crisis_factor=factor), True)
    assert found.deadline == MONDAY_10 + DURATIONS[stage] * (factor or 1)


def test_ladder_plan_catches_up_in_order_and_says_when_to_look_again() -> None:
    """After downtime every step due comes at once, in firing order (ladder order for equal times); the sweep
    looks again at the first step not sent that falls later; nothing left (or closed): never."""
    from bot.domain.deadlines import ladder_plan
    from bot.domain.sla import LadderStep

    CAL = BusinessCalendar.from_strings("Europe/Paris", {d: ["09:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")})
    start = datetime(2026, 11, 23, 9, 0, tzinfo=PARIS)  # a Monday, 8 business hours: due 17:00
    r = race(stage="first_response", start=start, durations={s: timedelta(hours=8) for s in STAGES},
             calendar=CAL, round_the_clock=False, crisis_factor=None)
    ladder = [LadderStep("late", None, timedelta(minutes=30)), LadderStep("100%", 1.0, None),
              LadderStep("50%", 0.5, None), LadderStep("also-100%", 1.0, None)]
    due, later = ladder_plan(r, ladder, CAL, now=datetime(2026, 11, 23, 17, 0, tzinfo=PARIS), sent={"50%"})
    assert [step.key for _, step in due] == ["100%", "also-100%"]
    assert later == datetime(2026, 11, 23, 17, 30, tzinfo=PARIS)
    due, later = ladder_plan(r, ladder, CAL, now=datetime(2026, 11, 23, 12, 0, tzinfo=PARIS), sent=set())
    assert due == [] and later == datetime(2026, 11, 23, 13, 0, tzinfo=PARIS)
    assert ladder_plan(r, ladder, CAL, now=start, sent={s.key for s in ladder}) == ([], None)
    assert ladder_plan(None, ladder, CAL, now=start, sent=set()) == ([], None)
