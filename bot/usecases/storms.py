"""A story that grows into a storm raises its leader's severity (and so its deadlines), audited, in the
transaction of the copy that made it grow."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert as sa_insert
from sqlalchemy import update
from sqlmodel import select

from bot.domain.routing import Router
from bot.domain.workflow import Severity
from bot.protocol.schema import Protocol
from bot.store import stories as storms
from bot.store.models import AuditEvent, Mention
from bot.store.queries import ladder_reset
from bot.usecases.deadlines import sla_deadlines

_AUDIT = sa_insert(AuditEvent.__table__)  # type: ignore[attr-defined]
_MENTION = Mention.__table__  # type: ignore[attr-defined]


def storm_severity(conn: Any, leader_id: int, story_id: int, *, router: Router, now: datetime, actor: str,
                    protocol: Protocol, crisis_factor: float | None = None) -> None:
    """Raise the leader of a story that has grown into a storm, with the reason ("30 reprises"), audited; an open
    leader's deadlines become the new severity's (its SLA from its arrival, in business hours unless round the
    clock; shortened while a crisis is declared, as at intake), so the digests and the reminders race the same.

    Runs after `storms.join` updated the story row: on PostgreSQL that row stays locked until commit, so
    copies joining at once read the size one after the other and the last one sees the final count."""
    size = conn.execute(select(storms.STORY.c.size).where(storms.STORY.c.id == story_id)).scalar_one()
    leader = conn.execute(select(_MENTION.c.severity, _MENTION.c.reasons, _MENTION.c.team, _MENTION.c.received_at,
                                 _MENTION.c.closed_at, _MENTION.c.first_response_due, _MENTION.c.published_due)
                          .where(_MENTION.c.id == leader_id).with_for_update()).first()
    if leader is None:
        return
    severity, reason = router.storm(Severity(leader.severity), int(size))
    if reason is None:
        return
    # One storm reason on the card: the latest count replaces the earlier one.
    reasons = [r for r in leader.reasons or [] if r.get("code") != str(reason.code)] + [reason.to_dict()]
    values: dict[str, Any] = {"severity": severity.value, "reasons": reasons}
    before: dict[str, Any] = {"severity": leader.severity}
    after: dict[str, Any] = {"severity": severity.value, "reasons": [reason.to_dict()]}
    if leader.closed_at is None and leader.first_response_due is not None:
        first, published = sla_deadlines(protocol, {"team": leader.team, "severity": severity.value,
                                                    "received_at": leader.received_at}, crisis_factor=crisis_factor)
        values.update(first_response_due=first, published_due=published)
        before.update(first_response_due=leader.first_response_due.isoformat(),
                      published_due=leader.published_due.isoformat() if leader.published_due else None)
        after.update(first_response_due=first.isoformat(), published_due=published.isoformat())
    conn.execute(update(_MENTION).where(_MENTION.c.id == leader_id).values(**ladder_reset(values)))
    conn.execute(_AUDIT, [{"at": now, "actor": actor, "action": "mention.severity_raised", "mention_id": leader_id,
                           "before": before, "reason": None, "after": after}])
