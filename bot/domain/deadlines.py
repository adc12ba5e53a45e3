"""Which deadline a mention races, and when it falls: the one rule behind the deadline stored at intake, the
reminders and escalation ladder, the relay card and the digest's "deadlines kept". Pure.

Every deadline is counted from the mention's arrival. During a declared crisis every SLA is multiplied by the
crisis `sla_factor`: the same factor must reach every reader, or the digest would measure one deadline while
the card and the reminders show another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.sla import BusinessCalendar, deadline

__all__ = ["STAGES", "Race", "due", "race", "stage_of"]

# In the order a mention goes through them: a first response, an approved answer, its publication.
STAGES = ("first_response", "approved", "published")


@dataclass(frozen=True)
class Race:
    stage: str
    start: datetime
    deadline: datetime
    round_the_clock: bool


def stage_of(*, responded: bool, approved: bool) -> str:
    """The stage an open mention is in: a claim, an assignment or a published holding statement is a first
    response; then it waits for an approved answer, then for its publication."""
    return "first_response" if not responded else "approved" if not approved else "published"


def due(start: datetime, duration: timedelta, calendar: BusinessCalendar, *, round_the_clock: bool,
        crisis_factor: float | None) -> datetime:
    """When an SLA of `duration` started at `start` falls; `crisis_factor` (None: no crisis) shortens it."""
    if crisis_factor is not None:
        duration = duration * crisis_factor
    return deadline(start, duration, calendar, round_the_clock=round_the_clock)


def race(*, stage: str, start: datetime, durations: Mapping[str, timedelta], calendar: BusinessCalendar,
         round_the_clock: bool, crisis_factor: float | None) -> Race:
    """The deadline of `stage` (`durations`: the SLA of each stage, by name)."""
    return Race(stage, start, due(start, durations[stage], calendar, round_the_clock=round_the_clock,
                                  crisis_factor=crisis_factor), round_the_clock)
