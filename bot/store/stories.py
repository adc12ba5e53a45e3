"""Storms: near-copies of a mention join its story instead of getting cards of their own.

The first mention of a story (its *leader*) gets the relay card and the workflow; the story row has the
leader's id as its own. Each copy is stored (nothing is lost, the digest counts it) with state "grouped" and
no deadlines, and bumps the story's count, reach and sample of authors; the leader's card is then refreshed
in place, at most once every `REFRESH_EVERY`, rendered when it is sent so it always shows the latest count.

Finding the story of a new text must not compare it with everything: `StoryIndex` (`bot.store.story_index`)
keeps the recent stories of this process in memory by fingerprint and LSH band (see `bot.domain.storms`), and
catches up with the stories other instances created by reading only the rows it has not seen yet; each story
row stores its signature, so a restart loads it instead of recomputing it. Exact copies are also
protected across instances by the story's unique key; two instances receiving the first two *near*-copies
of a new story within the same instant may still make two stories (they are then counted apart, nothing is
lost).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.domain.storms import Shape, signature_blob
from bot.store.models import Outbox, OutboxStatus, Story
from bot.store.story_index import CAPACITY, WINDOW, StoryIndex

__all__ = ["CAPACITY", "REFRESH_EVERY", "UPDATE_SPACING", "WINDOW", "StoryIndex", "create", "create_many",
           "existing_story", "join", "record_refresh", "refresh_due", "story_row"]

REFRESH_EVERY = timedelta(seconds=5)  # per story
UPDATE_SPACING = timedelta(seconds=1.3)  # between any two story refreshes: under 50 a minute
SAMPLE_AUTHORS = 5

STORY = Story.__table__  # type: ignore[attr-defined]
REACH_MAX = 2**31 - 1  # story.reach is a 32-bit INTEGER on PostgreSQL


# --- rows -------------------------------------------------------------------------------------------


def join(conn: Connection, story_id: int, *, copies: list[tuple[str, int | None]], now: datetime,
         window: timedelta = WINDOW) -> dict[str, Any] | None:
    """Count copies (author, reach) in a current story; None if the story has gone quiet or does not exist.

    On PostgreSQL the UPDATE locks the story row until the transaction ends, so concurrent copies are
    counted one after the other and the refresh bookkeeping below is never raced.
    """
    row = conn.execute(
        update(STORY)
        .where(STORY.c.id == story_id, STORY.c.last_at >= now - window)
        .values(size=STORY.c.size + len(copies), reach=_added_reach(sum(r or 0 for _, r in copies)), last_at=now)
        .returning(STORY.c.id, STORY.c.authors, STORY.c.refresh_outbox_id, STORY.c.refreshed_at, STORY.c.team,
                   STORY.c.leader_id)
    ).mappings().first()
    if row is None:
        return None
    authors = list(row["authors"] or [])
    sample = list(authors)
    for author, _ in copies:
        if len(sample) >= SAMPLE_AUTHORS:
            break
        if author not in sample:
            sample.append(author)
    if sample != authors:
        conn.execute(update(STORY).where(STORY.c.id == story_id).values(authors=sample))
    return dict(row)


def _added_reach(added: int) -> ColumnElement[int]:
    """The story's audience plus `added`, saturated at the column's range.

    Each copy's reach fits a 32-bit INTEGER, but a story's sum can pass it: PostgreSQL would refuse the
    whole intake request. An audience of two billion is already the whole of the network, so it stops there.
    """
    added = min(max(added, 0), REACH_MAX)
    return case((STORY.c.reach > REACH_MAX - added, REACH_MAX), else_=STORY.c.reach + added)


def story_row(*, leader_id: int, s: Shape, normalised: str, team: str, author: str, reach: int | None,
              now: datetime) -> dict[str, Any]:
    """A new story led by `leader_id`: its id is the leader's."""
    return {"id": leader_id, "key": s.fingerprint, "fingerprint": s.fingerprint, "normalised": normalised,
            "leader_id": leader_id, "team": team, "size": 1, "reach": reach or 0, "authors": [author],
            "first_at": now, "last_at": now, "refresh_outbox_id": None, "refreshed_at": None,
            "signature": signature_blob(s)}


def create_many(conn: Connection, rows: list[dict[str, Any]]) -> set[int]:
    """Insert new stories in one statement; return the ids inserted. A row whose key is taken is left out:
    `create` it alone, it knows what to do."""
    if not rows:
        return set()
    return {r.id for r in conn.execute(_insert_story(conn.dialect.name), rows).all()}


def create(conn: Connection, values: dict[str, Any], now: datetime) -> bool:
    """Insert one new story (see `story_row`). False if a current story already has this exact text
    (another instance was first): the caller then joins that one."""
    key = values["key"]
    for _ in range(3):
        if conn.execute(_insert_story(conn.dialect.name), values).first() is not None:
            return True
        # The key is taken: by a current story (join it), or by one gone quiet (retire its key, then retry).
        old = conn.execute(select(STORY.c.id, STORY.c.last_at).where(STORY.c.key == key)).first()
        if old is None:
            continue  # retired meanwhile
        if old.last_at >= now - WINDOW:
            return False
        conn.execute(update(STORY).where(STORY.c.id == old.id).values(key=f"{key}:{old.id}"))
    return False  # still taken after retiring: another instance keeps writing this text; join its story


def _insert_story(dialect: str) -> Any:
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return insert(STORY).on_conflict_do_nothing(index_elements=["key"]).returning(STORY.c.id)


def existing_story(conn: Connection, fingerprint: str) -> int | None:
    return conn.execute(select(STORY.c.id).where(STORY.c.key == fingerprint)).scalar_one_or_none()


def refresh_due(conn: Connection, joined: dict[str, Any], now: datetime) -> datetime | None:
    """When the story's card should next be refreshed, or None if a refresh already waits in the outbox
    (it renders the story when it is sent, so it will show this copy too)."""
    pending = joined["refresh_outbox_id"]
    if pending is not None:
        status = conn.execute(select(Outbox.status).where(Outbox.id == pending)).scalar_one_or_none()
        if status == OutboxStatus.pending:
            return None
    last = joined["refreshed_at"]
    due = max(now, last + REFRESH_EVERY) if last is not None else now
    # Every story's refreshes share one budget: chat.update is Tier 3, about 50 calls a minute for the
    # workspace. Each refresh takes the next free slot after the latest one any story took.
    latest = conn.execute(select(func.max(STORY.c.refreshed_at))).scalar()
    return max(due, latest + UPDATE_SPACING) if latest is not None else due


def record_refresh(conn: Connection, story_id: int, outbox_id: int, at: datetime) -> None:
    conn.execute(update(STORY).where(STORY.c.id == story_id).values(refresh_outbox_id=outbox_id, refreshed_at=at))
