"""The App Home's data: what is waiting for one user ("my mentions", drafts awaiting my approval, my teams'
queue, who is on call, the crisis under way).

`load_home` reads what concerns one user with filtered, limited SQL queries (never every mention) into a
frozen `HomeData`; `bot/slack/views/home.py` turns it into the Home tab's blocks. Texts here are raw (mention
excerpts, team names in the user's language): the view escapes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain import access
from bot.domain import workflow as wf
from bot.domain.workflow import OPEN_STATES
from bot.i18n import normalise
from bot.store.models import Crisis, Draft, Mention, ReviewDecision
from bot.store.queries import team_filter

__all__ = [
    "LOAD_LIMIT",
    "OPEN_STATES",
    "ApprovalItem",
    "CrisisInfo",
    "HomeData",
    "MentionItem",
    "OnCall",
    "load_home",
]

LOAD_LIMIT = 50  # rows loaded per list; the rest is only counted
TEXT_CHARS = 200  # excerpt of the mention's text kept and shown per item


# --- data ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentionItem:
    """A mention in "your mentions" or in the team queue. `excerpt` is raw text (escaped when rendered)."""

    mention_id: int
    team: str  # team key
    team_name: str  # in the user's language, raw (escaped when rendered)
    severity: str
    state: str
    excerpt: str
    deadline: tuple[str, datetime, bool] | None  # (stage, deadline, late)
    permalink: tuple[str, str] | None  # (channel, relay ts)


@dataclass(frozen=True)
class ApprovalItem:
    mention_id: int
    draft_id: int
    version: int
    author: str
    age: timedelta  # since the version was submitted
    team_name: str = ""
    severity: str = ""
    permalink: tuple[str, str] | None = None


@dataclass(frozen=True)
class OnCall:
    community_managers: tuple[str, ...] = ()
    decision_makers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CrisisInfo:
    declared_at: datetime
    channel: str | None


@dataclass(frozen=True)
class HomeData:
    user: str
    lang: str
    owned: list[MentionItem]
    awaiting_my_approval: list[ApprovalItem]
    team_queue: list[MentionItem]
    on_call: OnCall
    crisis: CrisisInfo | None
    now: datetime | None = None
    # Totals: the lists hold at most LOAD_LIMIT items; these say how many there are in all (for "… and N more").
    owned_total: int = 0
    awaiting_total: int = 0
    queue_total: int = 0
    # False for a workspace member the protocol names nowhere: their tab says so, and whom to ask, and nothing else.
    has_role: bool = True

    def __post_init__(self) -> None:
        # A total is never smaller than the list it counts (callers building HomeData by hand may omit it).
        for items, name in ((self.owned, "owned_total"), (self.awaiting_my_approval, "awaiting_total"),
                            (self.team_queue, "queue_total")):
            if getattr(self, name) < len(items):
                object.__setattr__(self, name, len(items))


# --- loading ---------------------------------------------------------------------------------------------------


def _team_name(protocol: Any, key: str, lang: str) -> str:
    team = protocol.teams.get(key)
    return team.name.get(lang) if team is not None else key


def _permalink(mention: Mention) -> tuple[str, str] | None:
    if mention.channel and mention.relay_ts:
        return mention.channel, mention.relay_ts
    return None


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= TEXT_CHARS else flat[: TEXT_CHARS - 1].rstrip() + "…"


def _mention_items(s: Session, rows: Sequence[Mention], *, protocol: Any, escalation: Any, lang: str,
                   now: datetime, crisis: bool) -> list[MentionItem]:
    items = []
    for m in rows:
        deadline: tuple[str, datetime, bool] | None = None
        if escalation is not None:
            race = escalation.race(m, crisis=crisis)
            if race is not None:
                deadline = (race.stage, race.deadline, now >= race.deadline)
        items.append(MentionItem(mention_id=m.id, team=m.team, team_name=_team_name(protocol, m.team, lang),  # type: ignore[arg-type]
                                 severity=m.severity, state=m.state, excerpt=_short(m.text), deadline=deadline,
                                 permalink=_permalink(m)))
    return items


def _count(s: Session, *conditions: Any) -> int:
    return int(s.exec(select(func.count()).select_from(Mention).where(*conditions)).one())


def load_home(*, engine: Any, protocol: Any, workflow: Any, escalation: Any, user: str, lang: str,
              now: datetime) -> HomeData:
    """Everything the Home tab of `user` shows, read at `now` (aware)."""
    lang = normalise(lang)
    people: wf.People = getattr(workflow, "people", None) or protocol.people
    sight = access.sight_of(user, people=people)
    if not sight.has_role:  # no query at all: there is nothing they may see
        return HomeData(user=user, lang=lang, owned=[], awaiting_my_approval=[], team_queue=[], on_call=OnCall(),
                        crisis=None, now=now, has_role=False)
    my_roles = sight.roles
    # The queue is work to pick up: every team for community managers, else the teams one belongs to (decision
    # makers see every team's mentions but claim none, so they have no queue).
    if user in people.community_managers:
        my_teams = list(protocol.teams)
    else:
        my_teams = [key for key in protocol.teams if people.in_team(user, key)]

    with Session(engine) as s:
        crisis_row = s.exec(select(Crisis).where(col(Crisis.ended_at).is_(None))
                            .order_by(col(Crisis.declared_at).desc(), col(Crisis.id).desc())).first()
        crisis = CrisisInfo(declared_at=crisis_row.declared_at, channel=crisis_row.channel) if crisis_row else None

        # 1. Mine: open mentions I own, the oldest (most urgent) first.
        mine = (col(Mention.state).in_(OPEN_STATES), Mention.owner == user, *team_filter(sight))
        owned_rows = s.exec(select(Mention).where(*mine).order_by(col(Mention.received_at), col(Mention.id))
                            .limit(LOAD_LIMIT)).all()
        owned_total = len(owned_rows) if len(owned_rows) < LOAD_LIMIT else _count(s, *mine)
        owned = _mention_items(s, owned_rows, protocol=protocol, escalation=escalation, lang=lang, now=now,
                               crisis=crisis is not None)

        # 3. The queue: open, unclaimed mentions of my teams (every team for community managers), newest first.
        queue: list[MentionItem] = []
        queue_total = 0
        if my_teams:
            waiting = (Mention.state == wf.MentionState.open.value, col(Mention.owner).is_(None),
                       col(Mention.team).in_(my_teams))
            queue_rows = s.exec(select(Mention).where(*waiting)
                                .order_by(col(Mention.received_at).desc(), col(Mention.id).desc())
                                .limit(LOAD_LIMIT)).all()
            queue_total = len(queue_rows) if len(queue_rows) < LOAD_LIMIT else _count(s, *waiting)
            queue = _mention_items(s, queue_rows, protocol=protocol, escalation=escalation, lang=lang, now=now,
                                   crisis=crisis is not None)

        # 2. Pending drafts of mentions in review, by someone else, that I have not approved yet.
        candidates: list[tuple[Draft, Mention]] = []
        if my_roles:
            approved_by_me = select(ReviewDecision.draft_id).where(ReviewDecision.user == user,
                                                                   ReviewDecision.kind == "approve")
            candidates = list(s.exec(
                select(Draft, Mention).join(Mention, col(Draft.mention_id) == col(Mention.id))
                .where(Draft.state == wf.DraftState.pending.value, Draft.author != user,
                       Mention.state == wf.MentionState.in_review.value,
                       col(Draft.id).not_in(approved_by_me))
                .order_by(col(Draft.created_at), col(Draft.id))).all())

    awaiting: list[ApprovalItem] = []
    awaiting_total = 0
    for draft, mention in candidates:
        required = frozenset(workflow.required_for(mention))
        # Their approval is needed, which lets them see the mention (access.Sight.mention); checked all the same.
        if not my_roles & required or not sight.mention(mention.team, required):
            continue
        awaiting_total += 1
        if len(awaiting) < LOAD_LIMIT:
            awaiting.append(ApprovalItem(
                mention_id=mention.id, draft_id=draft.id, version=draft.version, author=draft.author,  # type: ignore[arg-type]
                age=max(now - draft.created_at, timedelta(0)), team_name=_team_name(protocol, mention.team, lang),
                severity=mention.severity, permalink=_permalink(mention)))

    on_call = OnCall()
    if escalation is not None:
        on_call = OnCall(community_managers=tuple(escalation.on_call("community_managers", now)),
                         decision_makers=tuple(escalation.on_call("decision_makers", now)))

    return HomeData(user=user, lang=lang, owned=owned, awaiting_my_approval=awaiting, team_queue=queue,
                    on_call=on_call, crisis=crisis, now=now, owned_total=owned_total,
                    awaiting_total=awaiting_total, queue_total=queue_total)
