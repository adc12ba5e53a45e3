"""Who is on call: a weekly rotation plus overrides ("I take this weekend"). Pure rules.

No I/O and no clock reads. Every datetime taken must be aware (ValueError otherwise) and every datetime
returned is aware and in UTC.

Handovers happen at the same LOCAL wall-clock time each period: with `starts` on a Monday 09:00
Europe/Paris, every handover is on a Monday at 09:00 Paris time, before and after a daylight-saving change
(so the real length of a period is 167h or 169h across a change). The local time zone is `Rotation.tz`, or
the time zone of `starts` when not given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.sla import local_to_utc, require_aware

__all__ = ["Override", "Rotation", "next_handover", "on_call", "on_call_or_everyone", "swap", "weekend_of"]


def _zone(tz: tzinfo | str) -> tzinfo:
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
    return tz


@dataclass(frozen=True)
class Rotation:
    """`people` take turns, one per `period`, the first from `starts` (the handover moment of period 0)."""

    people: tuple[str, ...]
    starts: datetime
    period: timedelta = timedelta(days=7)
    tz: ZoneInfo | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "people", tuple(self.people))
        if not self.people:
            raise ValueError("rotation needs at least one person")
        require_aware("starts", self.starts)
        if self.period <= timedelta(0):
            raise ValueError(f"rotation period must be positive, got {self.period}")
        if self.tz is not None:
            object.__setattr__(self, "tz", _zone(self.tz))

    @property
    def zone(self) -> tzinfo:
        """The time zone whose wall clock the handovers follow."""
        return self.tz if self.tz is not None else self.starts.tzinfo  # type: ignore[return-value]

    def handover(self, index: int) -> datetime:
        """Start of period `index` (0 = `starts`), in UTC: the local wall-clock time of `starts` plus
        `index` periods, converted back (ambiguous -> first occurrence, nonexistent -> moved forward)."""
        local = self.starts.astimezone(self.zone).replace(tzinfo=None) + self.period * index
        return local_to_utc(local.date(), local.time(), self.zone)

    def period_index(self, at: datetime) -> int:
        """Index of the period containing `at` (negative before `starts`)."""
        at = require_aware("at", at)
        index = (at - self.starts.astimezone(UTC)) // self.period
        while self.handover(index + 1) <= at:
            index += 1
        while self.handover(index) > at:
            index -= 1
        return index


@dataclass(frozen=True)
class Override:
    """`user` is on call from `start` (included) to `end` (excluded)."""

    user: str
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not self.user:
            raise ValueError("override needs a user")
        if not require_aware("start", self.start) < require_aware("end", self.end):
            raise ValueError(f"override for {self.user}: end must be after start")

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


def on_call(at: datetime, rotation: Rotation, overrides: Sequence[Override] = ()) -> str | None:
    """The person on call at `at`: the last override in `overrides` covering it (the latest created wins),
    else the rotation's person for the period containing `at`; None before the rotation starts."""
    at = require_aware("at", at)
    for override in reversed(overrides):
        if override.covers(at):
            return override.user
    index = rotation.period_index(at)
    if index < 0:
        return None
    return rotation.people[index % len(rotation.people)]


def on_call_or_everyone(
    at: datetime, rotation: Rotation | None, overrides: Sequence[Override], everyone: Sequence[str]
) -> tuple[str, ...]:
    """Who hears an on-call alert for a role at `at`: its on-call person, else `everyone` holding the role.

    Without a rotation, an override covering `at` (the latest created) still names one person; before the
    rotation starts and with no override, nobody is on call and the alert goes to everyone rather than nobody.
    """
    if rotation is None:
        covering = [o.user for o in overrides if o.covers(at)]
        return tuple(covering[-1:]) or tuple(everyone)
    who = on_call(at, rotation, overrides)
    return (who,) if who else tuple(everyone)


def next_handover(at: datetime, rotation: Rotation) -> datetime:
    """The first handover strictly after `at` (the rotation's start when `at` is before it), in UTC."""
    return rotation.handover(max(rotation.period_index(at) + 1, 0))


def weekend_of(at: datetime, tz: tzinfo | str) -> tuple[datetime, datetime]:
    """The current weekend if `at` is on a local Saturday or Sunday, else the coming one:
    Saturday 00:00 -> Monday 00:00 local, in UTC."""
    zone = _zone(tz)
    today = require_aware("at", at).astimezone(zone).date()
    saturday = (
        today + timedelta(days=(5 - today.weekday()) % 7)
        if today.weekday() < 5
        else (today - timedelta(days=today.weekday() - 5))
    )
    monday = saturday + timedelta(days=2)
    midnight = datetime.min.time()
    return local_to_utc(saturday, midnight, zone), local_to_utc(monday, midnight, zone)


def swap(rotation: Rotation, a: str, b: str) -> Rotation:
    """The rotation with `a` and `b` exchanging their positions (every turn of each)."""
    for person in (a, b):
        if person not in rotation.people:
            raise ValueError(f"{person!r} is not in the rotation")
    exchange = {a: b, b: a}
    return replace(rotation, people=tuple(exchange.get(person, person) for person in rotation.people))
