"""The protocol's value types: each check fails with a sentence meant for the person editing the file.

Shared by the section models (bot/protocol/schema.py, bot/protocol/timing.py); `_Model` is their base.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from bot.protocol.errors import _error
from bot.slack.ids import CHANNEL_ID, USER_ID

Language = Literal["fr", "en"]

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
