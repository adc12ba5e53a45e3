"""The outbox's rows: what a use case writes, in the same transaction as the change that needs it, for
`bot.outbox.worker` to deliver; and the operations a person or /healthz runs on them.

Why a pending row waits is written in `last_error` with a prefix (`HELD`, `PAUSED`, `IN_DOUBT`), "once per
episode" is the dedupe key of the notice rows, and the token pause is one probe row under a fixed dedupe key,
which all instances see (see `bot.outbox.worker`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import Integer, case, func, or_, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.i18n import t
from bot.slack.ids import CHANNEL_ID, USER_ID
from bot.slack.text import escape
from bot.store.db import session_scope
from bot.store.models import Outbox, OutboxStatus

POST = "chat.postMessage"
HOLD_RETRY = timedelta(minutes=5)  # a channel that refuses the bot is tried again this often
TOKEN_PROBE = timedelta(minutes=5)  # auth.test this often while Slack refuses the token

# Why a pending row waits, written at the start of `last_error`.
HELD = "held: "  # its channel refuses the bot: "held: not_in_channel in C0123"
PAUSED = "paused: "  # Slack refused the token: every Slack delivery waits
IN_DOUBT = "in doubt: "  # Slack may have posted it: look in the channel before posting again
# The token pause: one probe row under this dedupe key while it lasts (so every instance sees it and at most
# one exists); when the token passes again the row is marked sent and its key renamed, closing the episode.
PAUSE_KEY = "slack-token:refused"
PROBE_KIND = "token_probe"
PROBE_LANE = "slack:token"


class Render(StrEnum):
    """Payloads rendered when sent ({"_render": ..., ...}); the composition root gives the worker one renderer
    for each (`Registry`)."""

    relay = "relay"  # a mention's relay card
    alerts_reply = "alerts_reply"  # the reply in an alert's thread saying where it was relayed (its cards' links)


class Deliver(StrEnum):
    """Outbox "methods" that are not Slack Web API methods: the composition root gives the worker one
    deliverer for each (`Registry`). The values are stored in rows: never rename one."""

    card = "vigie.card"  # refresh a relay card, rendered when it is sent
    story_members = "vigie.story_members"  # list a story's mentions in its thread
    home = "vigie.home_publish"  # publish a person's App Home
    webhook = "vigie.webhook_publish"  # the publishing webhook (not Slack)


# A renderer turns a stored payload into the call's arguments; a deliverer makes a call that is not a plain
# Slack Web API method (its answer is stored as Slack's would be).
Call = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Registry:
    """What the worker knows beyond Slack's Web API, built once by the composition root (`bot.app`):
    payloads written as {"_render": Render.x, ...} are rendered when sent (a relay card then shows its mention
    as it is at that moment, and intake stores a few ids instead of a whole card); rows whose method is a
    `Deliver` member are delivered by their callable, with the same durability, FIFO, retries and backoff.
    `slack_free`: the deliverers that do not call Slack (the webhook publisher), which go on while Slack
    refuses the token."""

    renderers: Mapping[Render, Call] = field(default_factory=dict)
    deliverers: Mapping[Deliver, Call] = field(default_factory=dict)
    slack_free: frozenset[Deliver] = frozenset()

    def __post_init__(self) -> None:
        # Keys checked against the enums here, at start-up, rather than found missing when a row is sent.
        object.__setattr__(self, "renderers", MappingProxyType({Render(k): f for k, f in self.renderers.items()}))
        object.__setattr__(self, "deliverers",
                           MappingProxyType({Deliver(k): f for k, f in self.deliverers.items()}))
        object.__setattr__(self, "slack_free", frozenset(Deliver(k) for k in self.slack_free))

    def renderer(self, name: str) -> Call:
        """The renderer a payload names (a row written by a newer version may name one unknown here: raises)."""
        return self.renderers[Render(name)]

    def deliverer(self, method: str) -> Call | None:
        """The deliverer of an outbox method; None for a Slack Web API method."""
        try:
            return self.deliverers.get(Deliver(method))
        except ValueError:  # a Slack Web API method
            return None


# --- what a person just did goes first ---------------------------------------------------------------

# The rows a click (or a form) writes that change what the person sees at once: the card they clicked, their
# answer, the draft card and the notices that name the mention. A worker thread of their own delivers them
# (`Share.interactive`), so they wait for neither a backlog's relays nor story refreshes (issue 16: a click's
# card update waited 1 to 3 s behind the deliveries of the rest of a pass). Every row of a card lane goes
# there too, so a card's lane has one deliverer (its story refreshes are throttled to a shared budget, a
# trickle, and come last in that thread's passes). The split is by the lane's head only: a lane stays FIFO
# whoever takes its head, as with several instances sharing the table.
INTERACTIVE_KINDS = ("card_update", "ephemeral", "draft_card_update", "notice_update")
CARD_LANES = "card:%"  # `bot.usecases.cards.card_lane`: an updated card's own lane, "card:<mention id>"
# Also written by a person's action, in lanes shared with other posts (paced per channel) or costly to render
# (a Home tab): first in the other thread's passes, before backlog relays and notices.
SOON_KINDS = ("home", "thread", "draft_card", "approval_dm")


class Share(StrEnum):
    """Which heads a worker thread takes; `None` (one pass over everything) takes both, interactive first."""

    interactive = "interactive"
    rest = "rest"


def interactive_rows() -> Any:
    """SQL: the row belongs to the interactive share."""
    return or_(col(Outbox.kind).in_(INTERACTIVE_KINDS), col(Outbox.channel).like(CARD_LANES))


def in_share(query: Any, share: Share | None) -> Any:
    """`query` on outbox rows, narrowed to a share (the two shares are disjoint and cover every row)."""
    if share is Share.interactive:
        return query.where(interactive_rows())
    if share is Share.rest:
        return query.where(~interactive_rows())
    return query


def pass_order() -> tuple[Any, Any]:
    """The order due heads are taken in a pass: what the person sees at once, then the rest of card lanes
    (story refreshes), then the other rows a person's action wrote, then the rest (backlog, relays, notices),
    each by id. Only heads of different lanes are ordered: a lane is FIFO whatever this says."""
    rank = case((col(Outbox.kind).in_(INTERACTIVE_KINDS), 0), (col(Outbox.channel).like(CARD_LANES), 1),
                (col(Outbox.kind).in_(SOON_KINDS), 2), else_=3)
    return rank, col(Outbox.id)


# --- writing rows -----------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    kind: str,
    method: str,
    args: dict[str, Any],
    now: datetime,
    dedupe_key: str | None = None,
    mention_id: int | None = None,
    due: datetime | None = None,
) -> int:
    """Record a Slack call to make (at `due`, or now) and return its outbox id. The same `dedupe_key` twice
    is recorded once."""
    row = outbox_row(kind=kind, method=method, args=args, now=now, dedupe_key=dedupe_key, mention_id=mention_id,
                     due=due)
    conn = session.connection()
    new_id = conn.execute(_insert_ignore(session.get_bind().dialect.name), row).scalar_one_or_none()
    if new_id is None:  # already queued under this key
        new_id = conn.execute(select(Outbox.id).where(Outbox.dedupe_key == row["dedupe_key"])).scalar_one()
    return int(new_id)


def outbox_row(*, kind: str, method: str, args: dict[str, Any], now: datetime, dedupe_key: str | None = None,
               mention_id: int | None = None, due: datetime | None = None) -> dict[str, Any]:
    """The column values of a new row (for a caller inserting many at once)."""
    return {
        "dedupe_key": dedupe_key or f"{kind}:{uuid.uuid4()}",
        "kind": kind,
        "method": str(method),  # a `Deliver` member is stored as its plain value
        "channel": str(args.get("channel", "")),
        "payload": args,
        "status": "pending",
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": due or now,
        "mention_id": mention_id,
    }


@cache
def _insert_ignore(dialect: str) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id on both SQLite and PostgreSQL: a race cannot make a
    duplicate. Built once and executed with bound parameters, so SQLAlchemy compiles it once."""
    table = Outbox.__table__  # type: ignore[attr-defined]
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return insert(table).on_conflict_do_nothing().returning(table.c.id)


# --- telling a person ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """Something about delivery a person must know. `key` is the dedupe key: said once per episode."""

    key: str
    text: str  # i18n key
    params: dict[str, Any]
    avoid: str | None = None  # the broken channel (or DM): never the place to say so


# Enqueue the notice rows in the session given (the same transaction as the change they report).
Tell = Callable[[Session, Notice, datetime], None]
# The message's arguments for a channel (or a DM) and a translated text: a view, given by the composition root
# (views sit above the outbox, which only carries what they render).
AsMessage = Callable[..., dict[str, Any]]


def tell_community_managers(managers: Sequence[str], lang: str, *, as_message: AsMessage) -> Tell:
    """Say a notice to each community manager by direct message, as the digest does without a company
    channel: a team channel may be the very channel that is broken, and the managers are who can act."""

    def tell(session: Session, notice: Notice, now: datetime) -> None:
        text = t(notice.text, lang, **notice.params)
        for user in managers:
            if user != notice.avoid:
                enqueue(session, kind="notice", method=POST, now=now, dedupe_key=f"{notice.key}:{user}"[:200],
                        args=as_message(channel=user, text=text))

    return tell


def channel_ref(channel: str) -> str:
    """How a notice names a channel: a link for an ID, the escaped name otherwise."""
    if CHANNEL_ID.fullmatch(channel):
        return f"<#{channel}>"
    if USER_ID.fullmatch(channel):
        return f"<@{channel}>"
    return escape(channel)


def held_in(last_error: str | None) -> str | None:
    """The Slack channel a held row waits for, from its marker."""
    if not last_error or not last_error.startswith(HELD) or " in " not in last_error:
        return None
    return last_error.rsplit(" in ", 1)[1]


# --- reading and releasing rows (for the worker) -------------------------------------------------


# Undelivered rows, as the partial index `ix_outbox_lane` (channel, id) states it: written literally, as
# SQLite uses a partial index only for a query that repeats its condition.
LIVE = "status IN ('pending', 'sending')"


def lane_heads(dialect: str = "postgresql") -> Any:
    """The oldest undelivered row of each channel (a lane): delivery is FIFO per lane.

    A skip scan of `ix_outbox_lane`: the next lane after the previous one, then its first id, each one index
    seek, so the cost grows with the number of lanes, not with the backlog (a GROUP BY read every pending row:
    60 ms with 51,000 of them; measured in BENCHMARKS.md). A lane's head is read as "the first row from this
    channel on, in (channel, id) order", as "the least id of this channel" made PostgreSQL walk the primary
    key through every row delivered before; SQLite is told the index (it would rather read `ix_outbox_due`,
    every pending row)."""
    table = "outbox INDEXED BY ix_outbox_lane" if dialect == "sqlite" else "outbox"
    return sql_text(f"""
        WITH RECURSIVE lanes(channel) AS (
            SELECT * FROM (SELECT channel FROM {table} WHERE {LIVE} ORDER BY channel LIMIT 1) AS first
            UNION ALL
            SELECT (SELECT channel FROM {table} WHERE {LIVE} AND channel > lanes.channel ORDER BY channel LIMIT 1)
            FROM lanes WHERE lanes.channel IS NOT NULL)
        SELECT (SELECT id FROM {table} WHERE {LIVE} AND channel >= lanes.channel ORDER BY channel, id LIMIT 1) AS id
        FROM lanes WHERE lanes.channel IS NOT NULL""").columns(id=Integer)


def pace_next_head(s: Session, *, lane: str, after: int, ready: datetime) -> None:
    """Shared pacing: the lane's next row may not go before `ready`, whichever instance takes it. Written in
    the transaction that marks this row sent, so no instance sees the next head before it is pushed.
    (A row queued after this one was sent, into a lane that was empty, is not pushed: this process still
    paces it; another instance may send it early, and then Slack's 429 puts its Retry-After on the head.)"""
    next_id = s.exec(
        select(func.min(Outbox.id)).where(
            col(Outbox.channel) == lane, sql_text(LIVE), col(Outbox.status) == OutboxStatus.pending,
            col(Outbox.id) > after,
        )
    ).one()
    if next_id is not None:
        s.connection().execute(
            update(Outbox)
            .where(col(Outbox.id) == next_id, col(Outbox.next_attempt_at) < ready)
            .values(next_attempt_at=ready)
        )


def other_held(s: Session, channel: str, row_id: int) -> bool:
    """Is another row already held for `channel` (its notice then said it)?"""
    rows = s.exec(select(Outbox.id, Outbox.last_error).where(
        col(Outbox.status) == OutboxStatus.pending, col(Outbox.last_error).like(f"{HELD}%"), col(Outbox.id) != row_id
    )).all()
    return any(held_in(error) == channel for _, error in rows)


def waiting(s: Session, lanes: Iterable[str] | None = None) -> int:
    """How many rows wait to be delivered (in `lanes`, or all), the token probe aside."""
    query = select(func.count()).select_from(Outbox).where(
        col(Outbox.status).in_([OutboxStatus.pending, OutboxStatus.sending]), col(Outbox.kind) != PROBE_KIND
    )
    if lanes is not None:
        query = query.where(col(Outbox.channel).in_(set(lanes)))
    return int(s.exec(query).one())


def given_back(s: Session, outbox_id: int) -> Outbox:
    """A claimed row made pending again, its attempt not counted (the caller may change more, then add it)."""
    db_row = s.get(Outbox, outbox_id)
    assert db_row is not None
    db_row.status = OutboxStatus.pending
    db_row.leased_until = None
    db_row.attempts = max(0, db_row.attempts - 1)
    return db_row


# --- what a person (or /healthz) does with the rows -----------------------------------------------


def release_held(engine: Engine, *, now: datetime) -> int:
    """Try held channels and the token probe now rather than at their slow pace (after a person's fix)."""
    with session_scope(engine) as s:
        result = s.connection().execute(
            update(Outbox)
            .where(col(Outbox.status) == OutboxStatus.pending, col(Outbox.next_attempt_at) > now)
            .where(or_(col(Outbox.last_error).like(f"{HELD}%"), col(Outbox.dedupe_key) == PAUSE_KEY))
            .values(next_attempt_at=now)
        )
        return int(result.rowcount or 0)


def retry_failed(engine: Engine, *, now: datetime) -> int:
    """Put failed rows back in the queue, and try held ones now (after a person fixed the cause)."""
    with Session(engine) as s:
        rows = s.exec(select(Outbox).where(col(Outbox.status) == OutboxStatus.failed)).all()
        for row in rows:
            row.status = OutboxStatus.pending
            row.next_attempt_at = now
            row.attempts = 0
            s.add(row)
        s.commit()
    return len(rows) + release_held(engine, now=now)


def slack_health(engine: Engine) -> dict[str, Any]:
    """What /healthz says about Slack deliveries: a refused token (everything waits) and held channels."""
    with Session(engine) as s:
        pause = s.exec(select(Outbox).where(col(Outbox.dedupe_key) == PAUSE_KEY)).first()
        held = s.exec(select(Outbox.last_error).where(
            col(Outbox.status) == OutboxStatus.pending, col(Outbox.last_error).like(f"{HELD}%"))).all()
    health: dict[str, Any] = {}
    if pause is not None:
        health["token_refused"] = {"since": pause.created_at.isoformat(),
                                   "error": (pause.last_error or "").removeprefix(PAUSED)}
    channels = sorted({c for c in map(held_in, held) if c})
    if channels:
        health["held_channels"] = channels
    return health


def queue_home(session: Any, user: str, *, now: datetime) -> None:
    """Queue a refresh of `user`'s Home tab, built when it is delivered (so it is never older than the data)."""
    enqueue(session, kind="home", method=Deliver.home, now=now, args={"channel": f"home:{user}", "user": user})


def queue_ephemeral(session: Any, *, channel: str, user: str, text: str, now: datetime,
                    thread_ts: str | None = None) -> int:
    """Queue an answer only `user` sees, in `channel` (in the thread `thread_ts` when the person acted there),
    in the caller's transaction: it exists exactly when what it announces does."""
    args = {"channel": channel, "user": user, "text": text, **({"thread_ts": thread_ts} if thread_ts else {})}
    return enqueue(session, kind="ephemeral", method="chat.postEphemeral", now=now, args=args)
