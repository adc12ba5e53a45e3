"""Public holidays by rule: `business_hours.holidays_country` (the `holidays` package) closes each year's public
holidays with no date listed, merged with the dates listed by hand, minus `holidays_removed`.

Expectations are hand-computed. 1 January 2027 is a Friday; Easter Sunday 2027 is 28 March, so Good Friday is
26 March and Easter Monday 29 March; Whit Monday 2027 is 17 May. Default week: Monday-Friday 09:00-18:00."""

from __future__ import annotations

import textwrap
import threading
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.sla import BusinessCalendar, add_business_time, business_time_between, is_open
from bot.protocol.errors import ProtocolError
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol, parse_protocol
from bot.protocol.timing import PublicHolidays

PARIS = ZoneInfo("Europe/Paris")
H = timedelta(hours=1)
BASE = """\
version: 1
community_managers: [U0CM00001]
teams:
  general:
    name: Général
    channel: "#veille-general"
default_team: general
timezone: Europe/Paris
"""


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def calendar(business_hours: str = "") -> BusinessCalendar:
    text = BASE + ("business_hours:\n" + textwrap.indent(textwrap.dedent(business_hours), "  ") if business_hours else "")
    return parse_protocol(text).calendar


def test_pure_calendar_takes_a_rule_as_a_function() -> None:
    # The domain knows nothing of the library: any function of a date will do.
    cal = BusinessCalendar.from_strings(
        "Europe/Paris", {"thu": ["09:00-18:00"], "fri": ["09:00-18:00"]}, (), lambda day: (day.month, day.day) == (1, 1)
    )
    assert cal.holidays == frozenset()
    assert cal.is_holiday(date(2027, 1, 1)) and cal.is_holiday(date(2031, 1, 1))
    assert not is_open(paris(2027, 1, 1, 10), cal)
    assert is_open(paris(2026, 12, 31, 10), cal)
    with pytest.raises(TypeError):
        BusinessCalendar.from_strings("Europe/Paris", {"mon": ["09:00-18:00"]}, (), "FR")  # type: ignore[arg-type]


def test_new_year_2027_is_not_a_working_day_with_no_date_listed() -> None:
    ruled, bare = calendar("holidays_country: FR\n"), calendar()
    assert ruled.holidays == frozenset()  # nothing listed by hand
    # Thursday 31 December 2026 17:00 + 2h: 1h on Thursday, Friday 1 January closed, weekend -> Mon 4 at 10:00.
    assert add_business_time(paris(2026, 12, 31, 17), 2 * H, ruled) == paris(2027, 1, 4, 10)
    # Without the country, Friday 1 January counts: the same SLA ends on Friday at 10:00.
    assert add_business_time(paris(2026, 12, 31, 17), 2 * H, bare) == paris(2027, 1, 1, 10)
    # Thursday 09:00 to Monday 09:00: only Thursday's 9 hours count.
    assert business_time_between(paris(2026, 12, 31, 9), paris(2027, 1, 4, 9), ruled) == 9 * H
    assert business_time_between(paris(2026, 12, 31, 9), paris(2027, 1, 4, 9), bare) == 18 * H


def test_easter_monday_2027_is_not_a_working_day_with_no_date_listed() -> None:
    ruled, bare = calendar("holidays_country: FR\n"), calendar()
    assert not is_open(paris(2027, 3, 29, 10), ruled) and is_open(paris(2027, 3, 29, 10), bare)
    # Friday 26 March 17:00 + 2h: 1h on Friday, weekend (clocks change on Sunday 28), Monday 29 closed
    # -> Tuesday 30 March 10:00.
    assert add_business_time(paris(2027, 3, 26, 17), 2 * H, ruled) == paris(2027, 3, 30, 10)
    assert add_business_time(paris(2027, 3, 26, 17), 2 * H, bare) == paris(2027, 3, 29, 10)
    # Good Friday is not a national holiday: open on Friday 26 March.
    assert is_open(paris(2027, 3, 26, 10), ruled)


def test_every_year_is_right_with_no_edit() -> None:
    ruled = calendar("holidays_country: FR\n")
    for year in (2026, 2027, 2030, 2040):
        assert ruled.is_holiday(date(year, 1, 1)) and ruled.is_holiday(date(year, 7, 14))
    assert ruled.is_holiday(date(2030, 4, 22))  # Easter Monday 2030
    assert not ruled.is_holiday(date(2030, 4, 23))


def test_alsace_moselle_adds_good_friday_and_st_stephen() -> None:
    local = calendar("holidays_country: FR\nholidays_subdivision: Alsace-Moselle\n")
    assert not is_open(paris(2027, 3, 26, 10), local)  # Good Friday
    assert calendar("holidays_country: FR\nholidays_subdivision: '57'\n").is_holiday(date(2027, 3, 26))  # the code
    assert local.is_holiday(date(2026, 12, 26)) and local.is_holiday(date(2027, 3, 29))
    assert not calendar("holidays_country: FR\n").is_holiday(date(2026, 12, 26))


def test_hand_dates_are_merged_and_removed_dates_are_worked() -> None:
    cal = calendar("""\
        holidays_country: FR
        holidays: [2027-05-07]   # the bridge day after Ascension (Thursday 6 May)
        holidays_removed: [2027-05-17]   # Whit Monday, worked as the solidarity day
        """)
    assert cal.is_holiday(date(2027, 5, 6)) and cal.is_holiday(date(2027, 5, 7))
    assert is_open(paris(2027, 5, 17, 10), cal)
    assert cal.is_holiday(date(2028, 6, 5))  # Whit Monday 2028 stays a holiday: only 2027 was removed


@pytest.mark.parametrize(
    ("business_hours", "field", "message"),
    [
        ("holidays_country: XX\n", "business_hours.holidays_country", "n'est pas un pays dont Vigie connaît"),
        ("holidays_subdivision: '57'\n", "business_hours.holidays_subdivision", "demande holidays_country"),
        (
            "holidays_country: FR\nholidays_subdivision: Bretagne\n",
            "business_hours.holidays_subdivision",
            "n'est pas une subdivision de FR",
        ),
    ],
)
def test_wrong_country_or_subdivision_is_told(business_hours: str, field: str, message: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        calendar(business_hours)
    [issue] = caught.value.in_language("fr").issues
    assert issue.field == field and message in issue.message
    assert "\u00a0:" in issue.message  # French typography: no break before the colon


def test_the_example_protocol_closes_public_holidays_by_rule() -> None:
    protocol = load_protocol(EXAMPLE_PROTOCOL)
    assert protocol.business_hours.holidays_country == "FR"
    assert protocol.business_hours.holidays == []  # no date to edit each year
    assert not is_open(paris(2027, 1, 1, 10), protocol.calendar)
    assert not is_open(paris(2027, 3, 29, 10), protocol.calendar)
    assert is_open(paris(2027, 3, 30, 10), protocol.calendar)  # Tuesday after Easter, open


def test_the_rule_builds_each_year_once_under_threads() -> None:
    rule = PublicHolidays("FR")
    barrier = threading.Barrier(8)
    answers: list[bool] = []

    def ask() -> None:
        barrier.wait()
        answers.append(rule(date(2035, 1, 1)))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [True] * 8
    assert rule.year(2035) is rule.year(2035)
