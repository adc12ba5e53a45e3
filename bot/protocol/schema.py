"""The protocol: the one YAML file in which the company describes its teams, channels and triage rules.

People edit it by hand, so every mistake must come back as a sentence that names the setting and its line:

    protocol.yaml:14: teams.finance.channel: doit être un identifiant de canal Slack comme C0123ABCD ou ...

Sentences come from the catalogues (`protocol.error.<key>`), in the file's own `language` when the file could
be read that far, else in French; `ProtocolError.in_language` gives them in another one. Each issue keeps a
stable `code`: pydantic's error type, or ours ("slack_channel", "yaml_tab"...).

Models forbid unknown keys (a typo must not silently switch a rule off). New sections (SLAs, on-call...) are
new optional fields on `Protocol`, each a small model deriving from `_Model`, with a default so that older
files keep loading.

One setting points outside the file: `checks.roster`, a CSV of employee names. It is read while the protocol
is validated, so a missing file or column stops start-up with its line like any other mistake.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import types
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from yaml.nodes import MappingNode, Node, SequenceNode

from bot.domain.sla import BusinessCalendar
from bot.domain.workflow import People
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from bot.slack.ids import CHANNEL_ID, USER_ID
from bot.store.models import Severity

__all__ = [
    "DAYS",
    "DEFAULT_NETWORKS",
    "EXAMPLE_PROTOCOL",
    "ApprovalRuleConfig",
    "BusinessHours",
    "ChecksConfig",
    "CrisisConfig",
    "CrisisWords",
    "Duration",
    "EscalationPolicy",
    "EscalationStep",
    "Feed",
    "HoldingStatement",
    "Language",
    "LocalizedText",
    "NegativeCues",
    "NotifyTarget",
    "OnCallConfig",
    "OnCallRotation",
    "Protocol",
    "ProtocolError",
    "ProtocolIssue",
    "PublishingConfig",
    "ReachThreshold",
    "RoutingRule",
    "SeverityPolicy",
    "SlaBySeverity",
    "SlaConfig",
    "SlaPolicy",
    "SlaTeamOverrides",
    "SpikeConfig",
    "Team",
    "TimeRange",
    "WeekHours",
    "format_duration",
    "load_protocol",
    "parse_protocol",
]

EXAMPLE_PROTOCOL = Path(__file__).parent.parent / "examples" / "protocol.example.yaml"

Language = Literal["fr", "en"]

# Longest reply each network accepts, in characters; None: no limit. A protocol's `networks` section is merged
# over these, so a company only writes the networks it wants to change or add.
DEFAULT_NETWORKS: dict[str, int | None] = {
    "x": 280,
    "bluesky": 300,
    "threads": 500,
    "mastodon": 500,
    "instagram": 2200,
    "linkedin": 3000,
    "facebook": 63206,
    "email": None,
    "other": None,
}

# --- value types: each check fails with a sentence meant for the person editing the file --------------------


def _error(code: str, key: str | None = None, /, **params: Any) -> PydanticCustomError:
    """A validation error whose sentence is the catalogue's `protocol.error.<key>` (key: `code` by default).

    pydantic's own message is the English sentence, for code that validates a model outside parse_protocol;
    ProtocolIssue renders it again in the file's language from `params`.
    """
    key = key or code
    if params.get("suggestion"):  # a "did you mean ...?" variant
        key += ".suggest"
    return PydanticCustomError(code, t(f"protocol.error.{key}", "en"), {**params, "message_key": key})


_CHANNEL_NAME = re.compile(r"^#[a-z0-9][a-z0-9._-]{0,79}$")
_SLUG = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _user_id(value: str) -> str:
    if not USER_ID.fullmatch(value):
        raise _error("slack_user_id")
    return value


def _channel(value: str) -> str:
    if CHANNEL_ID.fullmatch(value) or _CHANNEL_NAME.match(value):
        return value
    # "veille-finance" without its "#": say how to write it.
    suggestion = "#" + value.lower() if _CHANNEL_NAME.match("#" + value.lower()) else ""
    raise _error("slack_channel", suggestion=suggestion)


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise _error("slug")
    return value


def _regex(value: str) -> str:
    try:
        compiled = re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise _error("regex", pattern=value, reason=str(exc)) from None
    if compiled.search("") is not None:
        raise _error("regex_empty", pattern=value)
    return value


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise _error("url")
    return value


_REQUIREMENT = re.compile(r"^(community_manager|decision_maker|team:[a-z][a-z0-9_-]{0,39})$")
_REQUIREMENT_WORDS = ("community_manager", "decision_maker")


def _requirement_shape(value: Any) -> Any:
    # "- team: legal" (with a space) is a YAML mapping, not the text "team:legal": say how to write it.
    if isinstance(value, dict) and list(value) == ["team"]:
        raise _error("requirement_mapping", team=str(value["team"]))
    return value


def _requirement(value: str) -> str:
    if _REQUIREMENT.match(value):
        return value
    close = difflib.get_close_matches(value, _REQUIREMENT_WORDS, n=1, cutoff=0.7)
    suggestion = close[0] if close else (f"team:{value}" if _SLUG.match(value) else "")
    raise _error("requirement", suggestion=suggestion)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name longer than a file name may be
        raise _error("timezone") from None
    return value


SlackUserId = Annotated[str, AfterValidator(_user_id)]
SlackChannelRef = Annotated[str, AfterValidator(_channel)]
Slug = Annotated[str, AfterValidator(_slug)]
Regex = Annotated[str, AfterValidator(_regex)]
WebUrl = Annotated[str, AfterValidator(_url)]
# Who must approve a reply: "community_manager", "decision_maker" or "team:<key>".
Requirement = Annotated[str, BeforeValidator(_requirement_shape), AfterValidator(_requirement)]
# strict: YAML reads "yes" as true, and pydantic would otherwise take true for 1 character.
ReplyLength = Annotated[int, Field(strict=True, ge=1, le=100_000)]
# A keyword or cue word: matched whole-word, ignoring case and accents (see bot.domain.text).
Term = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Model(BaseModel):
    # frozen: the protocol is read once and shared; routers compiled from it must not go stale.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LocalizedText(_Model):
    """A text shown in Slack: one plain text for both languages, or `{fr: ..., en: ...}`."""

    fr: ShortText | None = None
    en: ShortText | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_plain_text(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"fr": data, "en": data}
        if data is None:
            raise _error("empty")
        if not isinstance(data, (dict, LocalizedText)):
            raise _error("localized_text")
        return data

    @model_validator(mode="after")
    def _not_empty(self) -> LocalizedText:
        if self.fr is None and self.en is None:
            raise _error("localized_text_empty")
        return self

    def get(self, lang: str | None = None) -> str:
        """The text in `lang`, or in the other language when that one is missing."""
        preferred = self.en if lang == "en" else self.fr
        return preferred or self.fr or self.en or ""


class Team(_Model):
    name: LocalizedText
    channel: SlackChannelRef
    lead: SlackUserId | None = None
    experts: list[SlackUserId] = []


class RoutingRule(_Model):
    """Send mentions to `team` when they contain one of `keywords` or match one of `patterns`.

    `sources` and `languages`, when given, restrict the rule to those sources / languages; a rule with
    sources but no keywords nor patterns takes every mention from those sources.
    """

    team: str
    keywords: list[Term] = []
    patterns: list[Regex] = []
    sources: list[Annotated[ShortText, StringConstraints(to_lower=True)]] = []
    languages: list[Language] = []

    _compiled: tuple[re.Pattern[str], ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _needs_a_criterion(self) -> RoutingRule:
        if not (self.keywords or self.patterns or self.sources):
            raise _error("empty_rule")
        return self

    def model_post_init(self, context: Any, /) -> None:
        # Compiled once at load; Python caches too, but this keeps triage free of any compile step.
        self._compiled = tuple(re.compile(p, re.IGNORECASE) for p in self.patterns)

    @property
    def compiled_patterns(self) -> tuple[re.Pattern[str], ...]:
        return self._compiled


class ReachThreshold(_Model):
    at_least: int = Field(ge=0)
    severity: Severity


class NegativeCues(_Model):
    raise_by: int = Field(default=1, ge=0, le=3)
    words: list[Term] = []


class CrisisWords(_Model):
    severity: Severity = Severity.critical
    words: list[Term] = []


class SeverityPolicy(_Model):
    default: Severity = Severity.low
    reach: list[ReachThreshold] = []
    negative_cues: NegativeCues = NegativeCues()
    crisis_words: CrisisWords = CrisisWords()


class Feed(_Model):
    name: Slug
    url: WebUrl
    every_minutes: int = Field(default=10, ge=1, le=1440)
    team: str | None = None  # every item of this feed goes to this team, whatever its words
    language: Language | None = None  # the feed's language when it is known, instead of detecting it


class ApprovalRuleConfig(_Model):
    """Approvals a reply needs, beyond the community manager's (always required), for some teams / severities.

    Empty `teams` or `severities` mean "any": a rule with neither applies to every reply.
    """

    teams: list[str] = []
    severities: list[Severity] = []
    require: Annotated[list[Requirement], Field(min_length=1)]


class ChecksConfig(_Model):
    """Words the pre-publication checks look for in a draft reply."""

    company_words: list[Term] = []  # the company's own names and brands (e.g. to check their spelling)
    confidential_terms: list[Term] = []  # must never appear in a public reply
    allowed_contacts: list[Term] = []  # the company's own phone numbers and e-mails: never flagged in a reply
    # CSV of employees (a "name" column, optionally "email"), so a reply does not name a colleague.
    # A path relative to the protocol file's folder, or absolute.
    roster: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = None


class PublishingConfig(_Model):
    """How an approved reply goes out: copied by hand (manual), or sent to the company's webhook.

    The webhook's signing secret is not here (this file is shared and versioned): it comes from the
    VIGIE_PUBLISH_WEBHOOK_SECRET setting.
    """

    mode: Literal["manual", "webhook"] = "manual"
    webhook_url: WebUrl | None = None


class HoldingStatement(_Model):
    """A pre-approved waiting reply ("we have seen your message, we will come back to you")."""

    key: Slug
    label: LocalizedText  # what the button or menu shows
    text: LocalizedText  # what is published


# --- time: business hours, SLAs, escalation, on-call, crisis ------------------------------------------------

_DURATION = re.compile(r"^(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?$")
_TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_LOCAL_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?$")
_PERCENT = re.compile(r"^(\d{1,4})\s*%$")
_CHANNEL_PREFIX = re.compile(r"^[a-z0-9][a-z0-9._-]{0,69}$")  # + "2026-03-14": at most 80 characters
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # the order of date.weekday()


def _duration(value: Any) -> Any:
    if isinstance(value, timedelta):  # already a duration (a model built in code, or a dump validated again)
        return value
    text = value.replace(" ", "").lower() if isinstance(value, str) else ""
    match = _DURATION.match(text)
    if not text or not match:
        raise _error("duration")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if not duration:
        raise _error("duration_zero")
    return duration


def format_duration(duration: timedelta) -> str:
    """`duration` as the protocol writes it: "1h30m", "2d", "45m" (whole minutes)."""
    minutes = int(duration.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text or "0m"


def _holiday(value: Any) -> Any:
    # YAML reads 2026-12-25 as a date already; "2026-12-25" in quotes stays a text.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
        except ValueError:
            pass
    raise _error("holiday")


def _local_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise _error("local_datetime_zone")
        return value
    match = _LOCAL_DATETIME.match(value.strip()) if isinstance(value, str) else None
    if match:
        try:
            return datetime(*(int(part or 0) for part in match.groups()))
        except ValueError:
            pass
    raise _error("local_datetime")


def _channel_prefix(value: str) -> str:
    if not _CHANNEL_PREFIX.match(value):
        raise _error("channel_prefix")
    return value


# "30m", "2h", "1d", "1h30m"; stored as a timedelta.
Duration = Annotated[timedelta, BeforeValidator(_duration)]
Holiday = Annotated[date, BeforeValidator(_holiday)]
# A wall-clock time in the protocol's timezone, such as 2026-01-05T09:00; stored naive.
LocalDateTime = Annotated[datetime, BeforeValidator(_local_datetime)]
StrictBool = Annotated[bool, Field(strict=True)]  # YAML's "yes" is already true; "maybe" must not be


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


class BusinessHours(_Model):
    """When SLA clocks run (except for round_the_clock severities), in the protocol's timezone."""

    week: WeekHours = WeekHours()
    holidays: list[Holiday] = []  # closed all day

    def hours_on(self, day: date) -> list[TimeRange]:
        """The opening hours of `day` (a local date): none on a holiday."""
        return [] if day in self.holidays else getattr(self.week, DAYS[day.weekday()])

    def is_open(self, at: datetime, tz: ZoneInfo) -> bool:
        """Whether `at` (an aware datetime) falls within business hours, read in `tz`."""
        local = _aware(at).astimezone(tz)
        return any(r.start <= local.time() < r.end for r in self.hours_on(local.date()))


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

    def on_duty(self, at: datetime, tz: ZoneInfo) -> str | None:
        """Who is on call at `at` (an aware datetime); None before the first handover."""
        # Counted in wall-clock time, so handovers keep their local hour across daylight saving changes.
        local = _aware(at).astimezone(tz).replace(tzinfo=None)
        if local < self.starts:
            return None
        weeks = (local - self.starts) // timedelta(weeks=1)
        return self.rotation[weeks % len(self.rotation)]


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


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock_time(value: Any) -> time:
    if isinstance(value, time):
        return value
    if isinstance(value, int) and 0 <= value < 24 * 60:  # YAML 1.1 reads an unquoted 08:30 as 510 minutes
        return time(value // 60, value % 60)
    if isinstance(value, str) and _CLOCK.match(value.strip()):
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    raise _error("clock_time")


ClockTime = Annotated[time, BeforeValidator(_clock_time)]


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
    # Where the crisis cell meets; None: Vigie creates a channel named channel_prefix + date ("crise-2026-03-14").
    channel: SlackChannelRef | None = None
    channel_prefix: Annotated[str, AfterValidator(_channel_prefix)] = "crise-"
    sla_factor: float = Field(default=0.5, ge=0.05, le=1)  # every SLA is multiplied by this during a crisis
    approvers: list[Requirement] = ["decision_maker"]  # added to every reply's approvals during a crisis
    holding_statement: str | None = None  # key of the holding statement offered first during a crisis

    def channel_name(self, day: date) -> str:
        """Name of the channel Vigie creates for a crisis starting on `day` (when `channel` is not set)."""
        return f"{self.channel_prefix}{day.isoformat()}"


def _step_follows(previous: EscalationStep, step: EscalationStep) -> bool:
    """Whether `step` fires after `previous`: shares of the deadline rising, then delays after it rising."""
    if step.at_fraction is not None:
        return previous.at_fraction is not None and previous.at_fraction < step.at_fraction
    assert step.after_deadline is not None
    return previous.after_deadline is None or previous.after_deadline < step.after_deadline


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the protocol; pass an aware datetime")
    return at


class Protocol(_Model):
    version: Literal[1]
    language: Language = "fr"
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Paris"
    community_managers: Annotated[list[SlackUserId], Field(min_length=1)]
    decision_makers: list[SlackUserId] = []
    teams: dict[Slug, Team]
    default_team: str
    routing: list[RoutingRule] = []
    severity: SeverityPolicy = SeverityPolicy()
    feeds: list[Feed] = []
    approvals: list[ApprovalRuleConfig] = []
    # New or outsourced staff: their drafts need a second, independent approval, and their own approval
    # never counts alone.
    double_command: list[SlackUserId] = []
    checks: ChecksConfig = ChecksConfig()
    networks: dict[Slug, ReplyLength | None] = Field(default_factory=lambda: dict(DEFAULT_NETWORKS))
    publishing: PublishingConfig = PublishingConfig()
    holding_statements: list[HoldingStatement] = []
    business_hours: BusinessHours = BusinessHours()
    sla: SlaPolicy = SlaPolicy()
    escalation: EscalationPolicy = EscalationPolicy()
    oncall: OnCallConfig = OnCallConfig()
    crisis: CrisisConfig = CrisisConfig()
    digest: DigestConfig = DigestConfig()

    # Read from checks.roster during validation (see _cross_checks); private, so the model stays frozen.
    _employee_names: tuple[str, ...] = PrivateAttr(default=())

    @field_validator("networks")
    @classmethod
    def _merge_default_networks(cls, networks: dict[str, int | None]) -> dict[str, int | None]:
        return {**DEFAULT_NETWORKS, **networks}

    @field_validator("teams")
    @classmethod
    def _some_team(cls, teams: dict[str, Team]) -> dict[str, Team]:
        if not teams:
            raise _error("no_team")
        return teams

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> Protocol:
        """Checks that span sections; each error points at the setting at fault.

        Every team named elsewhere must exist; names and keys must not repeat; the roster must be readable.
        `info.context["base_dir"]` is the folder a relative roster path starts from (default: the current one).
        """
        known = ", ".join(sorted(self.teams))
        errors: list[InitErrorDetails] = []

        def fail(loc: Loc, code: str, value: Any, key: str | None = None, /, **params: Any) -> None:
            errors.append(InitErrorDetails(type=_error(code, key, **params), loc=loc, input=value))

        def check(team: str | None, loc: tuple[str | int, ...]) -> None:
            if team is not None and team not in self.teams:
                fail(loc, "unknown_team", team, team=team, known=known)

        check(self.default_team, ("default_team",))
        for i, rule in enumerate(self.routing):
            check(rule.team, ("routing", i, "team"))
        seen: set[str] = set()
        for i, feed in enumerate(self.feeds):
            check(feed.team, ("feeds", i, "team"))
            if feed.name in seen:
                fail(("feeds", i, "name"), "duplicate_feed", feed.name)
            seen.add(feed.name)

        for i, approval in enumerate(self.approvals):
            for j, team in enumerate(approval.teams):
                check(team, ("approvals", i, "teams", j))
            for j, requirement in enumerate(approval.require):
                if requirement.startswith("team:"):
                    check(requirement.removeprefix("team:"), ("approvals", i, "require", j))
                elif requirement == "decision_maker" and not self.decision_makers:
                    # Otherwise every reply this rule covers would wait for an approval nobody can give.
                    fail(("approvals", i, "require", j), "no_decision_maker", requirement)

        if self.publishing.mode == "webhook" and self.publishing.webhook_url is None:
            fail(("publishing", "webhook_url"), "webhook_url_missing", None)

        keys: set[str] = set()
        for i, statement in enumerate(self.holding_statements):
            if statement.key in keys:
                fail(("holding_statements", i, "key"), "duplicate_holding_statement", statement.key)
            keys.add(statement.key)

        # Opening hours of a day: in order, and not overlapping (each range is checked on its own already).
        for day in DAYS:
            ranges: list[TimeRange] = getattr(self.business_hours.week, day)
            for j in range(1, len(ranges)):
                if ranges[j].start < ranges[j - 1].end:
                    fail(("business_hours", "week", day, j), "time_range_overlap", str(ranges[j]),
                         previous=str(ranges[j - 1]))

        for team in self.sla.teams:
            check(team, ("sla", "teams", team))

        # Written ladders only: the default one notifies no decision maker when there is none.
        for severity in self.escalation.model_fields_set:
            ladder: list[EscalationStep] = getattr(self.escalation, severity)
            seen_steps: dict[str, int] = {}
            for j, step in enumerate(ladder):
                loc: Loc = ("escalation", severity, j, "at")
                previous = ladder[j - 1] if j else None
                if step.key in seen_steps:
                    fail(loc, "duplicate_step", step.at, other=seen_steps[step.key] + 1)
                elif previous is not None and not _step_follows(previous, step):
                    fail(loc, "step_order", step.at, previous=previous.at)
                seen_steps.setdefault(step.key, j)
                for k, target in enumerate(step.notify):
                    if target in ("oncall_decision_maker", "decision_makers") and not self.decision_makers:
                        fail(("escalation", severity, j, "notify", k), "no_decision_maker", target,
                             "no_decision_maker_notify")

        for role in ("community_managers", "decision_makers"):
            rotation: OnCallRotation | None = getattr(self.oncall, role)
            listed = getattr(self, role)
            for j, person in enumerate(rotation.rotation if rotation else []):
                if person not in listed:
                    fail(("oncall", role, "rotation", j), "not_in_role", person, person=person, role=role)

        if "approvers" in self.crisis.model_fields_set:
            for j, requirement in enumerate(self.crisis.approvers):
                if requirement.startswith("team:"):
                    check(requirement.removeprefix("team:"), ("crisis", "approvers", j))
                elif requirement == "decision_maker" and not self.decision_makers:
                    fail(("crisis", "approvers", j), "no_decision_maker", requirement)
        if self.crisis.holding_statement is not None and self.crisis.holding_statement not in keys:
            # An empty `known` reads "none" in the error's language.
            fail(("crisis", "holding_statement"), "unknown_holding_statement", self.crisis.holding_statement,
                 key=self.crisis.holding_statement, known=", ".join(sorted(keys)))

        if self.checks.roster is not None:
            base_dir = Path((info.context or {}).get("base_dir") or ".")
            try:
                # An absolute roster path stays as it is; absolute() so messages say where Vigie looked.
                self._employee_names = _read_roster((base_dir / self.checks.roster).absolute())
            except PydanticCustomError as exc:
                errors.append(InitErrorDetails(type=exc, loc=("checks", "roster"), input=self.checks.roster))

        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self

    # --- conveniences -------------------------------------------------------------------------------------

    def team(self, key: str) -> Team:
        try:
            return self.teams[key]
        except KeyError:
            raise KeyError(f"no team {key!r} in the protocol (teams: {', '.join(self.teams)})") from None

    def holding_statement(self, key: str) -> HoldingStatement:
        for statement in self.holding_statements:
            if statement.key == key:
                return statement
        known = ", ".join(s.key for s in self.holding_statements) or "none"
        raise KeyError(f"no holding statement {key!r} in the protocol (holding statements: {known})")

    def required_approvals(self, team: str, severity: Severity, crisis: bool = False) -> tuple[str, ...]:
        """Every approval a reply for `team` at `severity` needs, the community manager's first.

        `crisis`: a crisis is declared, which adds crisis.approvers.
        """
        # The rule itself lives in the domain; this only hands it the protocol's approval settings.
        from bot.domain.workflow import ApprovalRule
        from bot.domain.workflow import required_approvals as rule

        rules = [ApprovalRule(teams=frozenset(r.teams), severities=frozenset(r.severities), require=tuple(r.require))
                 for r in self.approvals]
        required = rule(team=team, severity=severity, rules=rules)
        if crisis:
            required += self.crisis_approvers
        return tuple(dict.fromkeys(required))

    @cached_property
    def people(self) -> People:
        """Who holds which role, for the workflow's rules (built once per loaded protocol)."""
        return People(
            community_managers=frozenset(self.community_managers),
            decision_makers=frozenset(self.decision_makers),
            team_leads={key: team.lead for key, team in self.teams.items()},
            team_members={key: frozenset([*([team.lead] if team.lead else []), *team.experts])
                          for key, team in self.teams.items()},
            double_command=frozenset(self.double_command),
        )

    @cached_property
    def calendar(self) -> BusinessCalendar:
        """The business hours as a calendar for the SLA rules (built once per loaded protocol)."""
        week = {day: [str(r) for r in getattr(self.business_hours.week, day)] for day in DAYS}
        return BusinessCalendar.from_strings(self.timezone, week, self.business_hours.holidays)

    def sla_for(self, team: str, severity: str) -> SlaConfig:
        """The deadlines for a mention of `team` at `severity`: the team's own, or else sla.defaults'."""
        key = Severity(severity).value
        override = self.sla.teams.get(team)
        own: SlaConfig | None = getattr(override, key) if override is not None else None
        return own or getattr(self.sla.defaults, key)

    def ladder_for(self, severity: str) -> tuple[EscalationStep, ...]:
        """The escalation steps for `severity`, in the order they fire (may be empty: no escalation)."""
        return tuple(getattr(self.escalation, Severity(severity).value))

    def on_call(self, role: Literal["community_managers", "decision_makers"], at: datetime) -> str | None:
        """Who is on call for `role` at `at` (aware); None without a rotation or before its first handover."""
        rotation: OnCallRotation | None = getattr(self.oncall, role)
        return rotation.on_duty(at, self.tz) if rotation is not None else None

    def on_call_or_all(
        self, role: Literal["community_managers", "decision_makers"], at: datetime
    ) -> tuple[str, ...]:
        """The person on call for `role`, or everyone listed under `role` when nobody is."""
        person = self.on_call(role, at)
        return (person,) if person is not None else tuple(getattr(self, role))

    def is_business_time(self, at: datetime) -> bool:
        """Whether `at` (aware) falls within business_hours, in the protocol's timezone."""
        return self.business_hours.is_open(at, self.tz)

    @property
    def crisis_approvers(self) -> tuple[str, ...]:
        """Approvals added during a crisis; the default "decision_maker" is dropped when nobody can give it."""
        approvers = self.crisis.approvers
        if "approvers" not in self.crisis.model_fields_set and not self.decision_makers:
            approvers = [a for a in approvers if a != "decision_maker"]
        return tuple(dict.fromkeys(approvers))

    def max_reply_length(self, network: str) -> int | None:
        """Longest reply `network` accepts (None: no limit); networks not listed use "other"."""
        return self.networks.get(network.lower(), self.networks.get("other"))

    @property
    def employee_names(self) -> tuple[str, ...]:
        """The names listed in checks.roster, once each, in file order (empty without a roster)."""
        return self._employee_names

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def all_keywords(self) -> tuple[str, ...]:
        """Every routing keyword, negative cue and crisis word, once, in file order (e.g. to highlight)."""
        words = [w for rule in self.routing for w in rule.keywords]
        words += self.severity.negative_cues.words + self.severity.crisis_words.words
        return tuple(dict.fromkeys(words))


def _read_roster(path: Path) -> tuple[str, ...]:
    """The names in the roster CSV; raise PydanticCustomError with a sentence for whoever maintains it."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets' "CSV UTF-8" starts with a BOM
    except FileNotFoundError:
        raise _error("roster_missing", path=str(path)) from None
    except UnicodeDecodeError:
        raise _error("roster_encoding", path=str(path)) from None
    except OSError as exc:
        raise _error("roster_unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    except ValueError as exc:  # a path no file system accepts ("embedded null byte"): found by fuzzing
        raise _error("roster_unreadable", path=repr(str(path)), reason=str(exc)) from None
    header = text.split("\n", 1)[0]
    # A spreadsheet set to French saves its CSV with ";" between columns.
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        columns = [c.strip().lower() for c in next(reader, [])]
        if "name" not in columns:
            raise _error("roster_no_name", path=str(path))
        column = columns.index("name")
        names: list[str] = []
        for row in reader:
            if not any(cell.strip() for cell in row):  # blank lines, or ";;" rows some spreadsheets add
                continue
            name = row[column].strip() if column < len(row) else ""
            if not name:
                raise _error("roster_empty_name", path=str(path), line=reader.line_num)
            names.append(name)
    except csv.Error as exc:
        raise _error("roster_csv", path=str(path), line=reader.line_num, reason=str(exc)) from None
    if not names:
        raise _error("roster_empty", path=str(path))
    return tuple(dict.fromkeys(names))


# --- errors --------------------------------------------------------------------------------------------------

Loc = tuple[str | int, ...]  # a place in the file: ("teams", "finance", "channel"), ("routing", 2)


@dataclass(frozen=True)
class ProtocolIssue:
    """One problem: where (`field`, `line`), what (`code`, stable) and the sentence's `key` and `params`."""

    field: str  # "teams.finance.channel", "routing[2].patterns[0]"; "" for the file as a whole
    line: int | None  # 1-based
    code: str  # pydantic's error type ("missing", "extra_forbidden"...) or ours ("slack_channel", "yaml_tab"...)
    params: tuple[tuple[str, Any], ...] = ()
    key: str = ""  # the catalogue key after "protocol.error."; `code` when empty
    lang: str = DEFAULT_LANGUAGE

    @property
    def message(self) -> str:
        """The sentence in `lang`."""
        params = dict(self.params)
        if params.get("known") == "":
            params["known"] = t("protocol.error.none", self.lang)
        if "choices" in params:  # "'fr' or 'en'", "'fr' ou 'en'"
            *first, last = params.pop("choices")
            params["expected"] = f" {t('protocol.error.or', self.lang)} ".join(filter(None, [", ".join(first), last]))
        return t(f"protocol.error.{self.key or self.code}", self.lang, **params)

    def format(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line is not None else filename
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def _issue(field: str, line: int | None, code: str, key: str | None = None, /, **params: Any) -> ProtocolIssue:
    return ProtocolIssue(field, line, code, tuple(params.items()), key or code)


class ProtocolError(Exception):
    """The protocol file cannot be used; `issues` says where and why, one sentence each, in `lang`."""

    def __init__(self, issues: Iterable[ProtocolIssue], filename: str = "<string>", lang: str | None = None):
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.issues = sorted((replace(i, lang=self.lang) for i in issues), key=lambda i: (i.line or 0, i.field))
        self.filename = filename
        super().__init__(str(self))

    def in_language(self, lang: str) -> ProtocolError:
        """The same problems told in `lang` (e.g. `vigie protocol check --lang en`)."""
        return ProtocolError(self.issues, self.filename, lang)

    def __str__(self) -> str:
        return "\n".join(issue.format(self.filename) for issue in self.issues)


def _format_path(path: Loc) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


# --- YAML with line numbers --------------------------------------------------------------------------------

_MERGE_TAG = "tag:yaml.org,2002:merge"


def _index_nodes(
    loader: yaml.SafeLoader,
    node: Node,
    path: Loc,
    lines: dict[Loc, int],
    issues: list[ProtocolIssue],
    seen_nodes: set[int],
) -> None:
    """Record the line of every key and list item, and report keys written twice in one mapping."""
    if id(node) in seen_nodes:  # an alias (*name): already indexed, and cycles must not loop forever
        return
    seen_nodes.add(id(node))
    if isinstance(node, MappingNode):
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:  # "<<: *defaults" may be overridden on purpose
                continue
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                earlier = first_line.get(key)
            except TypeError:  # unhashable key: construct_document reports it with its line
                continue
            child = (*path, key)
            if earlier is not None:
                issues.append(_issue(_format_path(child), line, "duplicate_key", earlier=earlier))
                continue
            first_line[key] = line
            lines[child] = line
            _index_nodes(loader, value_node, child, lines, issues, seen_nodes)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index_nodes(loader, item, (*path, i), lines, issues, seen_nodes)


def _yaml_issue(exc: yaml.YAMLError, text: str) -> ProtocolIssue:
    """Turn PyYAML's report into a sentence and a line."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text[: exc.position].count("\n") + 1
        return _issue("", line, "yaml_character", character=f"{exc.character:04x}")
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    if "'\\t'" in problem:
        code = "yaml_tab"
    elif problem.startswith("mapping values are not allowed"):
        code = "yaml_colon"
    elif problem.startswith("could not find expected ':'"):
        code = "yaml_key_value"
    elif "quoted scalar" in context or "flow" in context:
        # The problem shows at the end of the file; where the quote or bracket was opened helps more.
        context_mark = getattr(exc, "context_mark", None)
        line = context_mark.line + 1 if context_mark is not None else line
        code = "yaml_quote" if "quoted scalar" in context else "yaml_bracket"
    elif "could not determine a constructor" in problem:
        code = "yaml_tag"
    elif "another document" in problem:
        code = "yaml_documents"
    elif problem.startswith("expected <block end>"):
        code = "yaml_indentation"
    else:  # PyYAML's own words (English) for the rare cases above does not cover
        return _issue("", line, "yaml_invalid", detail=" ".join(filter(None, [context, problem])))
    return _issue("", line, code)


def _bad_timestamp(loader: yaml.SafeLoader, node: Node) -> ProtocolIssue:
    """The first value YAML takes for a date but that is not one (2026-02-30), with its line."""
    stack = [node]
    while stack:
        current = stack.pop(0)
        if isinstance(current, MappingNode):
            stack[:0] = [part for pair in current.value for part in pair]
        elif isinstance(current, SequenceNode):
            stack[:0] = list(current.value)
        elif current.tag == "tag:yaml.org,2002:timestamp":
            try:
                loader.construct_yaml_timestamp(current)
            except ValueError:
                return _issue("", current.start_mark.line + 1, "bad_date", value=current.value)
    return _issue("", None, "invalid_value")


def _read_yaml(text: str, filename: str) -> tuple[Any, dict[Loc, int]]:
    """yaml.safe_load, plus the line of every key and list item, and duplicate keys refused."""
    try:
        loader = yaml.SafeLoader(text)  # checks the characters at once
    except yaml.YAMLError as exc:
        raise ProtocolError([_yaml_issue(exc, text)], filename) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        lines: dict[Loc, int] = {}
        issues: list[ProtocolIssue] = []
        _index_nodes(loader, node, (), lines, issues, set())
        if issues:
            raise ProtocolError(issues, filename)
        try:
            return loader.construct_document(node), lines
        except ValueError:  # an impossible date such as 2026-02-30, which YAML reads as a date
            raise ProtocolError([_bad_timestamp(loader, node)], filename) from None
    except yaml.YAMLError as exc:
        raise ProtocolError([_yaml_issue(exc, text)], filename) from None
    finally:
        loader.dispose()


# --- pydantic errors as sentences ------------------------------------------------------------------------

# pydantic's error types -> the catalogue key of their sentence (after "protocol.error."); the others below.
_KEYS = {
    "missing": "missing",
    "string_type": "string_type",
    "int_type": "whole_number",
    "int_parsing": "whole_number",
    "int_from_float": "whole_number",
    "list_type": "list_type",
    "tuple_type": "list_type",
    "dict_type": "section",
    "model_type": "section",
    "bool_type": "bool_type",
    "float_type": "number",
    "float_parsing": "number",
    "string_too_short": "string_too_short",
}


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model found at `loc` in the protocol's structure, e.g. Team for ("teams", "finance")."""
    annotation: Any = Protocol
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (list, dict):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _sentence(error: Any, loc: Loc) -> tuple[str, dict[str, Any]]:
    """The catalogue key (after "protocol.error.") and parameters of the sentence for one pydantic error."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    if "message_key" in ctx:  # ours, raised with _error
        return ctx["message_key"], {k: v for k, v in ctx.items() if k != "message_key"}
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            return "extra_forbidden.suggest", {"suggestion": close[0]}
        return ("extra_forbidden.known", {"known": ", ".join(known)}) if known else ("extra_forbidden", {})
    if value is None and kind in ("string_type", "list_type", "dict_type", "model_type", "int_type"):
        # `channel: #veille-finance` is the classic: YAML reads everything after " #" as a comment.
        return ("empty_comment" if kind == "string_type" else "empty"), {}
    if kind in _KEYS:
        return _KEYS[kind], {}
    if kind in ("literal_error", "enum"):
        # pydantic writes the choices as "'a', 'b' or 'c'"; the sentence gets them back as a list.
        choices = re.split(r", | or ", str(ctx["expected"]))
        return "literal_error", {"choices": tuple(choices)}
    if kind in ("greater_than", "greater_than_equal", "less_than_equal"):
        bound = ctx.get("gt", ctx.get("ge", ctx.get("le")))
        return kind, {"limit": _number(bound)}
    if kind == "too_short":
        return ("too_short.one" if ctx["min_length"] == 1 else "too_short.other"), {"n": ctx["min_length"]}
    if kind == "string_too_long":
        return "string_too_long", {"n": ctx["max_length"]}
    # A type this file never produces in practice: pydantic's English words rather than nothing.
    return "invalid", {"detail": str(error["msg"]).removeprefix("Value error, ")}


def _issues(exc: ValidationError, lines: dict[Loc, int]) -> list[ProtocolIssue]:
    issues = []
    for error in exc.errors():
        loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
        # A missing setting has no line of its own: point at its section (its closest known parent).
        probe = loc
        while probe and probe not in lines:
            probe = probe[:-1]
        key, params = _sentence(error, loc)
        issues.append(_issue(_format_path(loc), lines.get(probe), error["type"], key, **params))
    return issues


# --- entry points ------------------------------------------------------------------------------------------


def parse_protocol(text: str, filename: str = "<string>", base_dir: str | Path | None = None) -> Protocol:
    """Validate a protocol given as YAML text; raise ProtocolError listing every problem found.

    `base_dir` is the folder a relative `checks.roster` path starts from; by default, `filename`'s folder
    (the current directory for "<string>").
    """
    data, lines = _read_yaml(text, filename)
    if data is None:
        raise ProtocolError([_issue("", None, "file_empty")], filename)
    try:
        base = Path(base_dir) if base_dir is not None else Path(filename).parent
        return Protocol.model_validate(data, context={"base_dir": base})
    except ValidationError as exc:
        # Told in the file's own language when it names one we speak (else in French).
        lang = data.get("language") if isinstance(data, dict) else None
        raise ProtocolError(_issues(exc, lines), filename, lang if isinstance(lang, str) else None) from None


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate the protocol file at `path`; raise ProtocolError on any problem."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # -sig: tolerate the BOM some editors add
    except UnicodeDecodeError:
        raise ProtocolError([_issue("", None, "file_encoding")], str(path)) from None
    except OSError as exc:
        # The system's reason (strerror) stays in the system's words.
        raise ProtocolError([_issue("", None, "file_unreadable", reason=exc.strerror or str(exc))], str(path)) from None
    return parse_protocol(text, str(path), base_dir=Path(path).parent)
