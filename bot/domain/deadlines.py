"""Which deadline a mention races, and when it falls: the one rule behind the deadline stored at intake, the
reminders and escalation ladder, the relay card and the digest's "deadlines kept". Pure.

Every deadline is counted from the mention's arrival. During a declared crisis every SLA is multiplied by the
crisis `sla_factor`: the same factor must reach every reader, or the digest would measure one deadline while
the card and the reminders show another.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.sla import BusinessCalendar, LadderStep, deadline, step_due_at

__all__ = ["LADDER_INPUTS", "STAGES", "Race", "due", "ladder_plan", "race", "stage_of"]

# The mention's columns its race and ladder are worked out from (with the protocol and whether a crisis is
# declared, which the sweep records beside the time as its "basis"): a write that changes one of them makes the
# stored next step time stale, so it resets it (bot.store.queries.ladder_reset) and the next sweep recomputes it.
LADDER_INPUTS = ("state", "owner", "first_response_at", "approved_at", "team", "severity", "received_at")

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


def ladder_plan(race: Race | None, ladder: Sequence[LadderStep], calendar: BusinessCalendar, *, now: datetime,
                sent: Collection[str]) -> tuple[list[tuple[datetime, LadderStep]], datetime | None]:
    """The race's steps due at `now` and not sent, with their times, in firing order (ladder order for equal
    times: `bot.domain.sla.due_steps`' rule, so a sweep after downtime catches up on all of them in order), and
    when the sweep must look again: the time of the first step not sent that falls after `now` (None: closed,
    or no step left). Each step's time is worked out once."""
    if race is None:
        return [], None
    times = [(step_due_at(step, start=race.start, deadline_at=race.deadline, cal=calendar,
                          round_the_clock=race.round_the_clock), index, step)
             for index, step in enumerate(ladder) if step.key not in sent]
    due = sorted((at, index, step) for at, index, step in times if at <= now)
    return [(at, step) for at, _, step in due], min((at for at, _, _ in times if at > now), default=None)
