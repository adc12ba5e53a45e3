"""The protocol's sections about time: business hours, SLAs, the escalation ladder, on-call, digests, crisis."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal

import holidays as holiday_calendars
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.protocol.errors import _error
from bot.protocol.fields import (
    _PERCENT,
    _TIME_RANGE,
    DAYS,
    ClockTime,
    Duration,
    Holiday,
    LocalDateTime,
    Requirement,
    SlackChannelRef,
    SlackUserId,
    StrictBool,
    _channel_prefix,
    _duration,
    _Model,
    format_duration,
)


class TimeRange(_Model):
    """Opening hours within one day, written "09:00-12:30": from `start` (included) to `end` (excluded)."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _from_text(cls, data: Any) -> Any:
        if isinstance(data, (dict, TimeRange)):
            return data
        match = _TIME_RANGE.match(data.strip()) if isinstance(data, str) else None
        if match:
            h1, m1, h2, m2 = (int(part) for part in match.groups())
            if h2 == 24 and m2 == 0:
                raise _error("time_range_midnight", start=data[:5])
            if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60:
                return {"start": time(h1, m1), "end": time(h2, m2)}
        raise _error("time_range")

    @model_validator(mode="after")
    def _start_before_end(self) -> TimeRange:
        if self.start >= self.end:
            raise _error("time_range_order")
        return self

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


_OFFICE_DAY = [TimeRange(start=time(9), end=time(18))]


class WeekHours(_Model):
    """Opening hours per weekday; a day left out keeps its default (Monday-Friday 09:00-18:00, weekend closed)."""

    mon: list[TimeRange] = _OFFICE_DAY
    tue: list[TimeRange] = _OFFICE_DAY
    wed: list[TimeRange] = _OFFICE_DAY
    thu: list[TimeRange] = _OFFICE_DAY
    fri: list[TimeRange] = _OFFICE_DAY
    sat: list[TimeRange] = []
    sun: list[TimeRange] = []


# Subdivision names people write that the `holidays` package does not know; Alsace and Moselle share theirs.
_SUBDIVISION_ALIASES = {("FR", "alsace-moselle"): "57"}


class PublicHolidays:
    """Whether a local date is a public holiday of `country` (and `subdivision`), by the `holidays` package's
    rules, for any year: nobody lists dates each year. Dates in `removed` are worked anyway. Thread-safe: each
    year's set is built once, under a lock."""

    def __init__(self, country: str, subdivision: str | None = None, removed: frozenset[date] = frozenset()):
        self.country, self.subdivision, self.removed = country, subdivision, removed
        self._years: dict[int, frozenset[date]] = {}
        self._lock = threading.Lock()

    def year(self, year: int) -> frozenset[date]:
        """The public holidays of `year`, `removed` included."""
        days = self._years.get(year)
        if days is None:
            with self._lock:
                days = self._years.get(year)
                if days is None:
                    found = holiday_calendars.country_holidays(self.country, subdiv=self.subdivision, years=year)
                    days = self._years[year] = frozenset(found)
        return days

    def __call__(self, day: date) -> bool:
        return day not in self.removed and day in self.year(day.year)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PublicHolidays):
            return NotImplemented
        return (self.country, self.subdivision, self.removed) == (other.country, other.subdivision, other.removed)

    def __hash__(self) -> int:
        return hash((self.country, self.subdivision, self.removed))

    def __repr__(self) -> str:
        return f"PublicHolidays({self.country!r}, {self.subdivision!r})"


def _country(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        code = value.strip().upper()
        if code in holiday_calendars.list_supported_countries():
            return code
    raise _error("holidays_country")


class BusinessHours(_Model):
    """When SLA clocks run (except for round_the_clock severities), in the protocol's timezone.

    A day is closed when listed in `holidays`, or when it is a public holiday of `holidays_country` (ISO code
    such as FR, with an optional `holidays_subdivision` such as "Alsace-Moselle") and not listed in
    `holidays_removed` (a public holiday worked anyway, such as Whit Monday).
    """

    week: WeekHours = WeekHours()
    holidays: list[Holiday] = []  # closed all day
    holidays_country: Annotated[str, BeforeValidator(_country)] | None = None
    holidays_subdivision: str | None = None
    holidays_removed: list[Holiday] = []

    _rule: PublicHolidays | None = PrivateAttr(default=None)

    @field_validator("holidays_subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        if subdivision is None:
            return None
        country = info.data.get("holidays_country")
        if country is None:
            if "holidays_country" in info.data:  # left out, not wrong: a wrong country is told once
                raise _error("holidays_subdivision_alone")
            return subdivision
        code = _SUBDIVISION_ALIASES.get((country, subdivision.lower()), subdivision)
        try:
            holiday_calendars.country_holidays(country, subdiv=code)
        except NotImplementedError:
            entity = holiday_calendars.country_holidays(country)
            known = list(entity.subdivisions)
            raise _error("holidays_subdivision", country=country, known=", ".join(known)) from None
        return code

    def model_post_init(self, context: Any, /) -> None:
        if self.holidays_country is not None:
            removed = frozenset(self.holidays_removed)
            self._rule = PublicHolidays(self.holidays_country, self.holidays_subdivision, removed)

    @property
    def public_holiday(self) -> PublicHolidays | None:
        """The public-holiday rule for the SLA calendar; None without `holidays_country`."""
        return self._rule

    def listed_not_public(self) -> list[date]:
        """The dates listed by hand in `holidays` that are not public holidays of `holidays_country`: a closure of
        the company's own, or a typo (`vigie protocol check` warns about each). Empty without a country."""
        rule = self.public_holiday
        return [] if rule is None else sorted(day for day in set(self.holidays) if day not in rule.year(day.year))

    def is_holiday(self, day: date) -> bool:
        """Whether `day` (a local date) is closed all day: listed by hand or a public holiday by rule."""
        rule = self.public_holiday
        return day in self.holidays or (rule is not None and rule(day))

    def hours_on(self, day: date) -> list[TimeRange]:
        """The opening hours of `day` (a local date): none on a holiday."""
        return [] if self.is_holiday(day) else getattr(self.week, DAYS[day.weekday()])


class SlaConfig(_Model):
    """Deadlines for one severity, counted from the mention's arrival, in business hours unless round_the_clock."""

    first_response: Duration  # a first public answer (a holding statement counts)
    approved: Duration  # the reply is approved
    published: Duration  # the reply is out
    round_the_clock: StrictBool = False  # count every hour, nights, weekends and holidays included

    @field_validator("published")
    @classmethod
    def _published_last(cls, published: timedelta, info: ValidationInfo) -> timedelta:
        # The reply is approved before it is published, and a first response cannot come after the reply.
        for earlier in ("first_response", "approved"):
            value = info.data.get(earlier)
            if value is not None and value > published:
                raise _error("sla_order", earlier=earlier, value=format_duration(value))
        return published


def _sla(first_response: int, approved: int, published: int, round_the_clock: bool = False) -> SlaConfig:
    minutes = [timedelta(minutes=m) for m in (first_response, approved, published)]
    return SlaConfig(
        first_response=minutes[0], approved=minutes[1], published=minutes[2], round_the_clock=round_the_clock
    )


class SlaBySeverity(_Model):
    """One SlaConfig per severity; a severity left out keeps its default."""

    low: SlaConfig = _sla(8 * 60, 24 * 60, 48 * 60)
    medium: SlaConfig = _sla(4 * 60, 8 * 60, 24 * 60)
    high: SlaConfig = _sla(60, 4 * 60, 8 * 60)
    critical: SlaConfig = _sla(30, 2 * 60, 4 * 60, round_the_clock=True)


class SlaTeamOverrides(_Model):
    """A team's own SLAs for some severities; the others come from `sla.defaults`."""

    low: SlaConfig | None = None
    medium: SlaConfig | None = None
    high: SlaConfig | None = None
    critical: SlaConfig | None = None


class SlaPolicy(_Model):
    defaults: SlaBySeverity = SlaBySeverity()
    teams: dict[str, SlaTeamOverrides] = {}


# Who a step notifies. owner_or_team: whoever claimed the mention, or its team's channel if nobody did;
# oncall_*: the person on call (see `oncall`), or everyone in that list when nobody is.
NotifyTarget = Literal[
    "owner_or_team",
    "team_lead",
    "community_managers",
    "oncall_community_manager",
    "oncall_decision_maker",
    "decision_makers",
]


def _step_trigger(value: Any) -> Any:
    """ "50%" (of the deadline) or "+30m" (after the deadline), written back in one form: the step's key."""
    if isinstance(value, str):
        text = value.strip()
        percent = _PERCENT.match(text)
        if percent and 1 <= int(percent.group(1)) <= 1000:
            return f"{int(percent.group(1))}%"
        if text.startswith("+"):
            try:
                return "+" + format_duration(_duration(text[1:]))
            except PydanticCustomError:
                pass
    raise _error("escalation_at")


class EscalationStep(_Model):
    """Whom to notify when a deadline is near or past.

    `at`: "50%" (half the deadline has passed) or "+30m" (30 minutes after the deadline). `key` is `at`
    written in one form ("+90m" gives "+1h30m"): stable, unique within a ladder, to remember a step was sent.
    """

    at: Annotated[str, BeforeValidator(_step_trigger)]
    notify: tuple[NotifyTarget, ...]

    @field_validator("notify")
    @classmethod
    def _someone(cls, notify: tuple[str, ...]) -> tuple[str, ...]:
        # Checked here rather than with min_length, which would also fire when an item is misspelt.
        if not notify:
            raise _error("notify_empty")
        return tuple(dict.fromkeys(notify))  # once each

    @property
    def key(self) -> str:
        return self.at

    @property
    def at_fraction(self) -> float | None:
        """Share of the deadline (0.5 for "50%"); None for a step after the deadline."""
        return int(self.at[:-1]) / 100 if self.at.endswith("%") else None

    @property
    def after_deadline(self) -> timedelta | None:
        """Delay after the deadline (30 minutes for "+30m"); None for a share of the deadline."""
        return _duration(self.at[1:]) if self.at.startswith("+") else None


_DEFAULT_LADDER = [
    EscalationStep(at="50%", notify=("owner_or_team",)),
    EscalationStep(at="100%", notify=("team_lead", "community_managers")),
    EscalationStep(at="+30m", notify=("oncall_decision_maker",)),
]


class EscalationPolicy(_Model):
    """One ladder per severity, steps in the order they fire; a severity left out keeps the default ladder."""

    low: list[EscalationStep] = _DEFAULT_LADDER
    medium: list[EscalationStep] = _DEFAULT_LADDER
    high: list[EscalationStep] = _DEFAULT_LADDER
    critical: list[EscalationStep] = _DEFAULT_LADDER


class OnCallRotation(_Model):
    """People on call one week each, in turn; the first takes over at `starts`, the next a week later..."""

    rotation: Annotated[list[SlackUserId], Field(min_length=1)]
    starts: LocalDateTime  # local date-time of the first handover, in the protocol's timezone


class OnCallConfig(_Model):
    """Without a rotation, nobody is on call: the bot notifies every community manager / decision maker."""

    community_managers: OnCallRotation | None = None
    decision_makers: OnCallRotation | None = None


class SpikeConfig(_Model):
    """A crisis is suspected when mentions over `window` exceed `factor` times the usual rate over `baseline`."""

    window: Duration = timedelta(hours=1)
    baseline: Duration = timedelta(days=7)
    factor: float = Field(default=3.0, gt=1, le=1000)
    min_mentions: int = Field(default=10, ge=1)  # and at least this many mentions in the window

    @field_validator("baseline")
    @classmethod
    def _baseline_longer(cls, baseline: timedelta, info: ValidationInfo) -> timedelta:
        window = info.data.get("window")
        if window is not None and baseline <= window:
            raise _error("spike_baseline", window=format_duration(window))
        return baseline


class WeeklyDigest(_Model):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: ClockTime = time(9, 0)


class DigestConfig(_Model):
    """When digests are posted, in the protocol's timezone: each team's daily digest in its channel, the
    company-wide one in `company_channel` (or by direct message to each community manager), the weekly
    summary to the community managers."""

    time: ClockTime = time(8, 30)
    weekly: WeeklyDigest = WeeklyDigest()
    company_channel: SlackChannelRef | None = None


class CrisisConfig(_Model):
    spike: SpikeConfig = SpikeConfig()
    high_reach: int = Field(default=100_000, ge=1)  # one mention reaching this many people is a crisis signal
    # Where the crisis cell meets; None: Vigie creates a channel named channel_prefix + the local date and time
    # it was declared ("crise-2026-03-14-0930", see bot/usecases/crisis.py).
    channel: SlackChannelRef | None = None
    channel_prefix: Annotated[str, AfterValidator(_channel_prefix)] = "crise-"
    sla_factor: float = Field(default=0.5, ge=0.05, le=1)  # every SLA is multiplied by this during a crisis
    approvers: list[Requirement] = ["decision_maker"]  # added to every reply's approvals during a crisis
    holding_statement: str | None = None  # key of the holding statement offered first during a crisis


def _step_follows(previous: EscalationStep, step: EscalationStep) -> bool:
    """Whether `step` fires after `previous`: shares of the deadline rising, then delays after it rising."""
    if step.at_fraction is not None:
        return previous.at_fraction is not None and previous.at_fraction < step.at_fraction
    assert step.after_deadline is not None
    return previous.after_deadline is None or previous.after_deadline < step.after_deadline
