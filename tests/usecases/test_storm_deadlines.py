"""When a storm raises a mention's severity, its deadlines become the new severity's (issue 13): the SLA of the
new severity counted from the mention's arrival in business hours, stored (the digests read it) and audited, and
the same deadline the reminders race. With a clock the test owns, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.domain import deadlines as deadline_rules
from bot.intake.schema import MentionIn
from bot.store.models import AuditEvent, Mention
from tests.conftest import mention

ANGRY = "Encore un retard de livraison chez ACME, troisième fois ce mois-ci, je suis déçu"  # medium: its tone
VARIANTS = [ANGRY, f"RT @jeanne_l: {ANGRY}", f"{ANGRY} https://t.co/AbC123 #boycot", ANGRY.upper()]
# Friday 16:00 in Paris: the business day ends at 18:00, so a deadline of several hours runs into Monday.
FRIDAY = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)


@pytest.fixture
def clocked(settings):  # type: ignore[no-untyped-def]
    clock = ManualClock(FRIDAY)
    runtime = build_runtime(settings, clock=clock)
    yield runtime, clock
    runtime.engine.dispose()


def _ingest(runtime, i: int, text: str, author: str) -> int:  # type: ignore[no-untyped-def]
    body = mention(i, text=text, author=author, published_at=runtime.vigie.clock.now().isoformat())
    [result] = runtime.vigie.ingest([MentionIn(**body)], actor="test")
    return result.id


def _get(runtime, mention_id: int) -> Mention:  # type: ignore[no-untyped-def]
    with Session(runtime.engine) as s:
        found = s.get(Mention, mention_id)
        assert found is not None
        return found


def _expected(runtime, m: Mention, severity: str) -> tuple[datetime, datetime]:  # type: ignore[no-untyped-def]
    protocol = runtime.protocol
    cfg = protocol.sla_for(m.team, severity)
    return tuple(deadline_rules.due(m.received_at, d, protocol.calendar, round_the_clock=cfg.round_the_clock,
                                       crisis_factor=None)
                 for d in (cfg.first_response, cfg.published))  # type: ignore[return-value]


def test_a_storm_gives_its_leader_the_deadlines_of_its_new_severity(clocked):
    runtime, clock = clocked
    leader_id = _ingest(runtime, 1, ANGRY, "@client")
    leader = _get(runtime, leader_id)
    assert leader.severity == "medium"
    assert (leader.first_response_due, leader.published_due) == _expected(runtime, leader, "medium")
    medium_first = leader.first_response_due

    for n in range(1, 30):  # 29 copies, one a minute: 30 mentions make the storm "high"
        clock.set(FRIDAY.replace(minute=n))
        _ingest(runtime, 100 + n, VARIANTS[n % len(VARIANTS)], f"@fan{n}")

    raised = _get(runtime, leader_id)
    assert raised.severity == "high"
    first, published = _expected(runtime, raised, "high")
    assert (raised.first_response_due, raised.published_due) == (first, published)
    assert first < medium_first  # a higher severity's SLA is shorter, counted from the same arrival
    assert raised.received_at == leader.received_at
    # What the reminders race is that same deadline.
    race = runtime.escalation.race(raised, crisis=False)
    assert race is not None and race.deadline == first

    with Session(runtime.engine) as s:
        events = s.exec(select(AuditEvent).where(AuditEvent.action == "mention.severity_raised",
                                                 AuditEvent.mention_id == leader_id)).all()
    [event] = [e for e in events if e.after["severity"] == "high"]
    assert event.after["first_response_due"] == first.isoformat()
    assert event.after["published_due"] == published.isoformat()
    assert event.before["severity"] in ("medium", "low") and event.before["first_response_due"]


def test_a_closed_leader_keeps_its_deadlines(clocked):
    """A story whose leader was dismissed still grows; its severity is raised, but a closed mention races nothing."""
    runtime, clock = clocked
    leader_id = _ingest(runtime, 1, ANGRY, "@client")
    assert runtime.workflow.dismiss(mention_id=leader_id, actor="U0CM00001", reason="déjà traité").ok
    closed = _get(runtime, leader_id)
    for n in range(1, 30):
        clock.set(FRIDAY.replace(minute=n))
        _ingest(runtime, 100 + n, VARIANTS[n % len(VARIANTS)], f"@fan{n}")
    after = _get(runtime, leader_id)
    assert after.severity == "high"
    assert (after.first_response_due, after.published_due) == (closed.first_response_due, closed.published_due)
