"""The named reads of the use cases (keyword-only, in the caller's session), and the reads behind roles (the
database side of `bot.domain.access`): the filter every query on mentions shown to a person carries, and the
sentence a person with no role gets instead of any mention.

The filter is part of the SQL (not applied to rows after loading them), so counts, limits and "… and N more"
never include what the person may not see.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, union_all, update
from sqlalchemy import text as sql_text
from sqlmodel import Session, col, select

from bot.domain.access import Sight
from bot.domain.deadlines import LADDER_INPUTS
from bot.domain.workflow import OPEN_STATES
from bot.store.models import (
    AuditEvent,
    Crisis,
    CrisisSignal,
    Draft,
    Mention,
    OncallOverride,
    Outbox,
    Publication,
    Reminder,
    ReviewDecision,
    UNSCHEDULED,
    VolumeBucket,
)


def team_filter(sight: Sight) -> list[Any]:
    """WHERE conditions keeping only the mentions of teams `sight` sees (none for every team)."""
    if sight.all_teams:
        return []
    return [col(Mention.team).in_(sorted(sight.teams))]


# --- named reads used by the use cases ----------------------------------------------------------------------
# Keyword-only and in the caller's session: an action reads through these inside its one transaction, and the
# rows it gets are the ones it decides from.


def active_crisis(s: Session, *, for_update: bool = False) -> Crisis | None:
    """The declared crisis not yet ended (one at most: a unique index). `for_update` locks it on PostgreSQL,
    so two people ending it at once do not both find it open."""
    query = select(Crisis).where(col(Crisis.ended_at).is_(None))
    if for_update and s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return s.exec(query).first()


def is_crisis_active(s: Session) -> bool:
    """"Is a crisis active?" — the one way it is asked. Asked by every intake request: a Core statement on the
    session's connection (the ORM's machinery around a one-column read cost more than the read)."""
    return s.connection().execute(_CRISIS_ACTIVE).first() is not None


_CRISIS_ACTIVE = select(Crisis.id).where(col(Crisis.ended_at).is_(None)).limit(1)


def crisis_waiting_for_room(s: Session, *, declared_before: datetime) -> int | None:
    """An open crisis whose room (channel, announcement) was never opened, declared before `declared_before`."""
    return s.exec(select(Crisis.id).where(col(Crisis.ended_at).is_(None), col(Crisis.channel).is_(None),
                                          Crisis.declared_at < declared_before)).first()


def crisis_signals_since(s: Session, *, since: datetime, for_update: bool = False) -> list[CrisisSignal]:
    """`for_update` locks them on PostgreSQL (in id order), for a decision on them (declared, not a crisis)."""
    query = select(CrisisSignal).where(CrisisSignal.at >= since)
    if for_update and s.get_bind().dialect.name == "postgresql":
        query = query.order_by(col(CrisisSignal.id)).with_for_update().execution_options(populate_existing=True)
        return sorted(s.exec(query).all(), key=lambda sig: (sig.at, sig.id))
    return list(s.exec(query.order_by(col(CrisisSignal.at))).all())


def crisis_signal(s: Session, signal_id: int, *, for_update: bool = False) -> CrisisSignal | None:
    """One signal, read fresh; `for_update` locks it on PostgreSQL (SQLite's transaction holds the write lock)."""
    query = select(CrisisSignal).where(CrisisSignal.id == signal_id).execution_options(populate_existing=True)
    if for_update and s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return s.exec(query).first()


def mentions_received_between(s: Session, *, start: datetime, end: datetime, limit: int) -> list[Mention]:
    """Mentions received in [start, end], the oldest first (a spike's mentions), at most `limit`."""
    return list(s.exec(select(Mention).where(Mention.received_at >= start, Mention.received_at <= end)
                       .order_by(col(Mention.received_at), col(Mention.id)).limit(limit)).all())


def count_received_between(s: Session, *, start: datetime, end: datetime) -> int:
    return int(s.exec(select(func.count()).select_from(Mention)
                      .where(Mention.received_at >= start, Mention.received_at <= end)).one())


def outbox_by_key(s: Session, key: str) -> Outbox | None:
    return s.exec(select(Outbox).where(Outbox.dedupe_key == key)).first()


def notices_of(s: Session, *, mention_id: int, kinds: tuple[str, ...]) -> list[Outbox]:
    """The direct messages of these kinds queued about a mention (escalation notices, approval requests),
    in the order they were queued: the ones to update in place when someone acts."""
    return list(s.exec(select(Outbox).where(Outbox.mention_id == mention_id, col(Outbox.kind).in_(kinds))
                       .order_by(col(Outbox.id))).all())


def latest_crisis_signal(s: Session, *, kind: str) -> CrisisSignal | None:
    """The most recent signal of `kind` (a spike still going on is this one, not a new one)."""
    return s.exec(select(CrisisSignal).where(CrisisSignal.kind == kind)
                  .order_by(col(CrisisSignal.at).desc(), col(CrisisSignal.id).desc())).first()


def current_draft(s: Session, *, mention_id: int) -> Draft | None:
    """The latest version of the reply. Holding statements are drafts too, but they never replace the reply
    under review."""
    return s.exec(select(Draft).where(Draft.mention_id == mention_id, Draft.kind == "reply")
                  .order_by(col(Draft.version).desc()).limit(1)).first()


def closing_of(s: Session, *, mention_id: int, state: str) -> tuple[str, str | None, str | None] | None:
    """Who closed a mention and what goes with it, for its card: (who, dismissal reason, public URL) from the
    last dismissal's audit event or the publication of its reply; None when neither is found."""
    if state == "dismissed":
        event = s.exec(select(AuditEvent).where(AuditEvent.mention_id == mention_id,
                                                AuditEvent.action == "mention.dismissed")
                       .order_by(col(AuditEvent.id).desc()).limit(1)).first()
        return (event.actor, event.reason, None) if event is not None else None
    if state == "published":
        row = s.exec(select(Publication).join(Draft, col(Draft.id) == col(Publication.draft_id))
                     .where(Publication.mention_id == mention_id, Draft.kind == "reply")
                     .order_by(col(Publication.id).desc()).limit(1)).first()
        return (row.by, None, row.url) if row is not None else None
    return None


def drafts_of(s: Session, *, mention_id: int) -> list[Draft]:
    return list(s.exec(select(Draft).where(Draft.mention_id == mention_id)).all())


def next_version(s: Session, *, mention_id: int) -> int:
    """Replies and holding statements share the mention's version numbers."""
    latest = s.exec(select(func.max(Draft.version)).where(Draft.mention_id == mention_id)).one()
    return int(latest or 0) + 1


def holding_count(s: Session, *, mention_id: int) -> int:
    """How many holding statements a mention has had."""
    return int(s.exec(select(func.count()).select_from(Draft).where(
        Draft.mention_id == mention_id, Draft.kind == "holding")).one())


def approvals_of(s: Session, *, draft_id: int) -> list[ReviewDecision]:
    """Every decision on a draft (approvals, requests for changes, rejections), oldest first."""
    return list(s.exec(select(ReviewDecision).where(ReviewDecision.draft_id == draft_id)
                       .order_by(col(ReviewDecision.id))).all())


def drafts_decided_by(s: Session, *, user: str) -> set[int]:
    return {d.draft_id for d in s.exec(select(ReviewDecision).where(ReviewDecision.user == user))}


def pending_drafts(s: Session) -> list[tuple[Draft, Mention]]:
    """Drafts awaiting approval, with their mention, oldest first."""
    return list(s.exec(select(Draft, Mention).join(Mention, col(Mention.id) == col(Draft.mention_id))
                       .where(Draft.state == "pending").order_by(col(Draft.created_at), col(Draft.id))).all())


def open_mentions(s: Session, *, teams: list[Any] | None = None, severities: tuple[str, ...] | None = None,
                  states: tuple[str, ...] = OPEN_STATES) -> list[Mention]:
    """Mentions still being handled, the oldest first (`teams`: the `team_filter` of the reader, and any other
    condition on Mention; `severities`: only those)."""
    query = select(Mention).where(col(Mention.state).in_(states), *(teams or []))
    if severities is not None:
        query = query.where(col(Mention.severity).in_(severities))
    return list(s.exec(query.order_by(col(Mention.received_at), col(Mention.id))).all())


def open_counts_by_team(s: Session, *, teams: list[Any] | None = None) -> dict[str, int]:
    rows = s.exec(select(Mention.team, func.count()).where(col(Mention.state).in_(OPEN_STATES), *(teams or []))
                  .group_by(col(Mention.team))).all()
    return {team: int(n) for team, n in rows}


def mentions_received_since(s: Session, *, since: datetime, states: tuple[str, ...]) -> list[Mention]:
    return list(s.exec(select(Mention).where(Mention.received_at > since, col(Mention.state).in_(states))
                       .order_by(col(Mention.id))).all())


def count_received_since(s: Session, *, since: datetime) -> int:
    return int(s.exec(select(func.count()).select_from(Mention).where(Mention.received_at >= since)).one())


def count_published_since(s: Session, *, since: datetime) -> int:
    return int(s.exec(select(func.count()).select_from(Draft).where(Draft.published_at >= since)).one())


def mention_by_thread(s: Session, *, channel: str, thread_ts: str) -> Mention | None:
    """The mention whose relay card is the message `thread_ts` in `channel`."""
    return s.exec(select(Mention).where(Mention.relay_ts == thread_ts, Mention.channel == channel)).first()


def reminders_of(s: Session, *, mention_ids: list[int]) -> set[tuple[int, str, str]]:
    """The ladder steps already sent, as (mention, stage, step)."""
    return {(r.mention_id, r.stage, r.step) for r in s.exec(
        select(Reminder).where(col(Reminder.mention_id).in_(mention_ids))).all()}


def step_sent(s: Session, *, mention_id: int, stage: str, step: str) -> bool:
    return s.exec(select(Reminder.id).where(Reminder.mention_id == mention_id, Reminder.stage == stage,
                                            Reminder.step == step)).first() is not None


def oncall_overrides(s: Session, *, role: str) -> list[OncallOverride]:
    return list(s.exec(select(OncallOverride).where(OncallOverride.role == role)
                       .order_by(col(OncallOverride.id))).all())


def latest_volume_bucket(s: Session) -> datetime | None:
    return s.exec(select(func.max(VolumeBucket.start))).one()


def received_times_since(s: Session, *, since: datetime) -> list[datetime]:
    # History (`vigie import --history`) arrives all at once but was published long ago: not a spike.
    return list(s.exec(select(Mention.received_at).where(col(Mention.received_at) >= since,
                                                         col(Mention.state) != "archived")).all())


def volume_between(s: Session, *, start: datetime, end: datetime) -> int:
    """Mentions counted in the 5-minute buckets starting in [start, end)."""
    return int(s.exec(select(func.coalesce(func.sum(VolumeBucket.count), 0))
                      .where(col(VolumeBucket.start) >= start, col(VolumeBucket.start) < end)).one())


# --- the escalation sweep's schedule (bot.usecases.escalation) -------------------------------------------


def ladder_reset(values: dict[str, Any]) -> dict[str, Any]:
    """`values` for a mention's UPDATE, plus a reset of its stored next step time when they change what that
    time is worked out from: the next sweep then recomputes it. Every write of a mention's state, owner,
    milestones, team or severity goes through here (`compare_and_set`, intake's regrouping, a storm's
    severity); one that does not still meets the sweep at the stale time, which then recomputes it."""
    if any(name in values for name in LADDER_INPUTS):
        return {**values, "next_step_at": None, "next_step_basis": None}
    return values


def sweep_queries(*, now: datetime, basis: str) -> tuple[Any, ...]:
    """The mentions the escalation sweep must look at, by id: a step due (`next_step_at <= now`), open ones not
    worked out yet or changed since (no basis), and times worked out under another basis (a crisis declared or
    ended, another protocol). Each is a range of an index, so the cost follows these rows, not the open ones."""
    mention = Mention.__table__  # type: ignore[attr-defined]
    return (
        select(mention.c.id).where(mention.c.next_step_at <= now),
        select(mention.c.id).where(sql_text(UNSCHEDULED)),  # open, no basis: its partial index's own words
        # "<>" would read the whole index: two ranges either side of the current basis.
        select(mention.c.id).where(mention.c.next_step_basis < basis),
        select(mention.c.id).where(mention.c.next_step_basis > basis),
    )


def sweep_candidates(s: Session, *, now: datetime, basis: str) -> list[int]:
    """The ids `sweep_queries` find, once each, in order: one statement (one round trip), each branch on its
    index."""
    return sorted(set(s.connection().execute(union_all(*sweep_queries(now=now, basis=basis))).scalars()))


def sweep_rows(s: Session, *, mention_ids: list[int]) -> list[Mention]:
    return list(s.exec(select(Mention).where(col(Mention.id).in_(mention_ids)).order_by(col(Mention.id))).all())


def _scheduled() -> Any:
    mention = Mention.__table__  # type: ignore[attr-defined]
    return (update(mention)
            .where(mention.c.id == bindparam("m_id"),
                   *(mention.c[name].is_not_distinct_from(bindparam(f"m_{name}")) for name in LADDER_INPUTS))
            .values(next_step_at=bindparam("m_next"), next_step_basis=bindparam("m_basis")))


def set_next_steps(s: Session, rows: list[tuple[Mention, datetime | None, str | None]]) -> int:
    """Store each mention's next step time and basis, if what it was worked out from is still the row's (a
    compare-and-set on `LADDER_INPUTS`: a claim or a reroute committed meanwhile keeps its reset, and the next
    sweep recomputes). Returns how many were stored."""
    if not rows:
        return 0
    params = [{"m_id": m.id, "m_next": at, "m_basis": basis,
               **{f"m_{name}": getattr(m, name) for name in LADDER_INPUTS}} for m, at, basis in rows]
    return int(s.connection().execute(_scheduled(), params).rowcount)  # type: ignore[attr-defined]
