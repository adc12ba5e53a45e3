"""The App Home: each user's Home tab answers "what is waiting for ME?".

`load_home` reads what concerns one user with filtered, limited SQL queries (never every mention) into a
plain `HomeData`; `home_view` turns it into a `{"type": "home"}` view, in the user's language, within Slack's
limits (100 blocks, 3000 characters per section, 150 per header). Outside text (mention texts, team names,
crisis channel names) is escaped there; user and channel ids are only rendered as `<@U…>` / `<#C…>` when they
look like Slack ids.

Texts are the "home.*" keys of bot/i18n/home.json, looked up with `bot.i18n.t`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.domain import access
from bot.domain import workflow as wf
from bot.domain.workflow import OPEN_STATES
from bot.i18n import normalise, t
from bot.slack.ids import CONVERSATION_ID, USER_ID
from bot.slack.text import escape, quote, slack_date
from bot.slack.views.cards import SEVERITY_EMOJI
from bot.store.models import Crisis, Draft, Mention, ReviewDecision
from bot.store.queries import no_role_text, team_filter
from bot.usecases.response import people_of

__all__ = [
    "LOAD_LIMIT",
    "OPEN_STATES",
    "SHOW_LIMIT",
    "ApprovalItem",
    "CrisisInfo",
    "HomeData",
    "MentionItem",
    "OnCall",
    "home_view",
    "load_home",
    "permalink_url",
]

LOAD_LIMIT = 50  # rows loaded per list; the rest is only counted
SHOW_LIMIT = 20  # items shown per list: 3 lists x 20 + fixed blocks stays well under 100 blocks
TEXT_CHARS = 200  # excerpt of the mention's text kept and shown per item
MAX_BLOCKS = 100
SECTION_CHARS = 3000
HEADER_CHARS = 150

_TS = re.compile(r"^\d{1,12}\.\d{1,9}$")


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
    people: wf.People = getattr(workflow, "people", None) or people_of(protocol)
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


# --- rendering -------------------------------------------------------------------------------------------------


def permalink_url(channel: str, ts: str) -> str | None:
    """The thread's web address, or None when channel or ts are not what Slack gives."""
    if not (CONVERSATION_ID.fullmatch(channel) and _TS.match(ts)):
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _ref(mention_id: int, permalink: tuple[str, str] | None, lang: str) -> str:
    label = escape(t("home.mention_ref", lang, id=mention_id))
    url = permalink_url(*permalink) if permalink else None
    return f"<{url}|{label}>" if url else f"*{label}*"


def _user(user_id: str) -> str:
    return f"<@{user_id}>" if USER_ID.fullmatch(user_id) else escape(user_id)


def _channel(channel: str) -> str:
    return f"<#{channel}>" if CONVERSATION_ID.fullmatch(channel) else escape(channel)


def _ago(when: datetime) -> str:
    return slack_date(when, "{ago}")


def _age(age: timedelta, lang: str) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return t("home.age.minutes", lang, n=minutes)
    if minutes < 24 * 60:
        return t("home.age.hours", lang, n=minutes // 60)
    return t("home.age.days", lang, n=minutes // (24 * 60))


def _severity(severity: str, lang: str) -> str:
    key = f"home.severity.{severity}"
    label = t(key, lang)
    return f"{SEVERITY_EMOJI.get(severity, '')} {label if label != key else escape(severity)}".strip()


def _state(state: str, lang: str) -> str:
    key = f"home.state.{state}"
    label = t(key, lang)
    return label if label != key else escape(state)


def _deadline(deadline: tuple[str, datetime, bool] | None, lang: str) -> str:
    if deadline is None:
        return ""
    stage, when, late = deadline
    stage_key = f"home.stage.{stage}"
    stage_label = t(stage_key, lang)
    if stage_label == stage_key:
        stage_label = escape(stage)
    key = "home.deadline.late" if late else "home.deadline.left"
    return t(key, lang, stage=stage_label, deadline=slack_date(when), relative=_ago(when))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, SECTION_CHARS)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, SECTION_CHARS)}]}


def _mention_text(item: MentionItem, lang: str, *, with_state: bool) -> str:
    head = [_ref(item.mention_id, item.permalink, lang), _severity(item.severity, lang), escape(item.team_name)]
    if with_state:
        head.append(_state(item.state, lang))
    lines = [" · ".join(head)]
    deadline = _deadline(item.deadline, lang)
    if deadline:
        lines.append(deadline)
    if item.excerpt:
        lines.append(quote(item.excerpt, TEXT_CHARS + 50))
    return "\n".join(lines)


def _approval_text(item: ApprovalItem, lang: str) -> str:
    head = [_ref(item.mention_id, item.permalink, lang)]
    if item.severity:
        head.append(_severity(item.severity, lang))
    if item.team_name:
        head.append(escape(item.team_name))
    line = t("home.approval.item", lang, version=item.version, author=_user(item.author), age=_age(item.age, lang))
    return " · ".join(head) + "\n" + line


def _list(title_key: str, empty_key: str, texts: list[str], total: int, lang: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_section(f"*{t(title_key, lang, count=total)}*")]
    if not texts:
        blocks.append(_context(t(empty_key, lang)))
        return blocks
    shown = texts[:SHOW_LIMIT]
    blocks += [_section(text) for text in shown]
    if total > len(shown):
        blocks.append(_context(t("home.more", lang, count=total - len(shown))))
    return blocks


def home_view(data: HomeData, *, protocol: Any) -> dict[str, Any]:
    """The Home tab as passed to views.publish (`view=`); `protocol` gives the crisis channel when the crisis
    row has none."""
    lang = data.lang
    blocks: list[dict[str, Any]] = []
    if data.crisis is not None:
        crisis_cfg = getattr(protocol, "crisis", None)
        where = data.crisis.channel or getattr(crisis_cfg, "channel", None)
        channel = _channel(where) if where else t("home.crisis.no_channel", lang)
        blocks.append(_section(t("home.crisis.banner", lang, since=slack_date(data.crisis.declared_at),
                                  channel=channel)))
        blocks.append({"type": "divider"})
    blocks.append({"type": "header",
                   "text": {"type": "plain_text", "text": _cut(t("home.header", lang), HEADER_CHARS), "emoji": True}})
    if not data.has_role:
        blocks.append(_section(no_role_text(protocol, lang)))
        if data.now is not None:
            blocks.append(_context(t("home.updated", lang, at=slack_date(data.now))))
        return {"type": "home", "blocks": blocks}

    nothing = not (data.owned or data.awaiting_my_approval or data.team_queue)
    if nothing:
        blocks.append(_section(t("home.empty", lang)))

    blocks += _list("home.owned.title", "home.owned.empty",
                    [_mention_text(i, lang, with_state=True) for i in data.owned], data.owned_total, lang)
    blocks.append({"type": "divider"})
    blocks += _list("home.approval.title", "home.approval.empty",
                    [_approval_text(i, lang) for i in data.awaiting_my_approval], data.awaiting_total, lang)
    blocks.append({"type": "divider"})
    blocks += _list("home.queue.title", "home.queue.empty",
                    [_mention_text(i, lang, with_state=False) for i in data.team_queue], data.queue_total, lang)
    blocks.append({"type": "divider"})

    nobody = t("home.oncall.nobody", lang)
    cms = ", ".join(_user(u) for u in data.on_call.community_managers) or nobody
    dms = ", ".join(_user(u) for u in data.on_call.decision_makers) or nobody
    blocks.append(_section(f"*{t('home.oncall.title', lang)}*\n"
                           + t("home.oncall.line", lang, community_managers=cms, decision_makers=dms)))
    if data.now is not None:
        blocks.append(_context(t("home.updated", lang, at=slack_date(data.now))))
    assert len(blocks) <= MAX_BLOCKS, len(blocks)  # 3 lists x (SHOW_LIMIT + 2) + 11 fixed blocks at most
    return {"type": "home", "blocks": blocks}
