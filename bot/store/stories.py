"""Storms: near-copies of a mention join its story instead of getting cards of their own.

The first mention of a story (its *leader*) gets the relay card and the workflow; the story row has the
leader's id as its own. Each copy is stored (nothing is lost, the digest counts it) with state "grouped" and
no deadlines, and bumps the story's count, reach and sample of authors; the leader's card is then refreshed
in place, at most once every `REFRESH_EVERY`, rendered when it is sent so it always shows the latest count.

Finding the story of a new text must not compare it with everything: `StoryIndex` keeps the recent stories
of this process in memory by fingerprint and LSH band (see `bot.domain.storms`), and catches up with the
stories other instances created by reading only the rows it has not seen yet. Exact copies are also
protected across instances by the story's unique key; two instances receiving the first two *near*-copies
of a new story within the same instant may still make two stories (they are then counted apart, nothing is
lost).
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.domain.storms import SIMILAR, Shape, shape, similarity
from bot.store.models import Outbox, OutboxStatus, Story

WINDOW = timedelta(hours=72)
# Mentions about one subject share phrases ("Un client se plaint du service après-vente..."), so an LSH band
# can hold thousands of stories that are not copies of each other. Each band keeps its most recently
# active stories only, and only the stories sharing the most bands with a text are compared with it: a
# lookup stays a few dozen set operations however many stories there are (measured in BENCHMARKS.md).
BAND_CAPACITY = 64
CANDIDATES = 8
LOOKBACK = 200  # ids: how far back each catch-up looks again for stories committed out of order
CATCH_UP_EVERY = timedelta(seconds=1)  # a story quiet for longer is over: the same text later starts a new one
REFRESH_EVERY = timedelta(seconds=5)  # per story
UPDATE_SPACING = timedelta(seconds=1.3)  # between any two story refreshes: under 50 a minute
CAPACITY = 50_000  # recent stories kept in memory per process (about 30 MB)
SAMPLE_AUTHORS = 5

STORY = Story.__table__  # type: ignore[attr-defined]


@dataclass
class _Entry:
    id: int
    fingerprint: str
    pairs: frozenset[int]
    bands: tuple[str, ...]
    seen_at: datetime  # last time this process saw the story active


class StoryIndex:
    """Recent stories of this process, to find the story of a text without scanning the table."""

    def __init__(self, *, window: timedelta = WINDOW, capacity: int = CAPACITY):
        self.window = window
        self.capacity = capacity
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}
        self._order: deque[int] = deque()  # insertion order, for eviction
        self._by_fingerprint: dict[str, int] = {}
        self._by_band: dict[str, dict[int, None]] = {}  # insertion-ordered: oldest first
        self._last_id = 0
        self._loaded = False
        self._caught_up_at: datetime | None = None

    def catch_up(self, conn: Connection, now: datetime) -> None:
        """Load the stories written since the last call (by any instance): an indexed range read, at most
        once every CATCH_UP_EVERY (this process adds its own stories as it writes them; the ones another
        instance wrote are seen within that delay, and their exact copies join them anyway by key)."""
        with self._lock:
            if self._caught_up_at is not None and now - self._caught_up_at < CATCH_UP_EVERY:
                return
            self._caught_up_at = now
        query = select(STORY.c.id, STORY.c.fingerprint, STORY.c.normalised, STORY.c.last_at)
        if self._loaded:
            # With a margin: on PostgreSQL another instance may commit a story after one with a higher id.
            query = query.where(STORY.c.id > self._last_id - LOOKBACK).order_by(STORY.c.id)
        else:  # first call: the most recent stories, not the whole history
            query = query.where(STORY.c.last_at >= now - self.window).order_by(STORY.c.id.desc()).limit(self.capacity)
        rows = conn.execute(query).all()
        with self._lock:
            for row in sorted(rows, key=lambda r: r.id):
                if row.id not in self._entries:  # most are known: this process wrote them or saw them before
                    self._add(row.id, shape(row.normalised), row.last_at, fingerprint=row.fingerprint)
            if rows:
                self._last_id = max(self._last_id, max(r.id for r in rows))
            self._loaded = True

    def find(self, s: Shape, now: datetime) -> int | None:
        """The recent story this text belongs to: same fingerprint, or the most similar near-copy."""
        cutoff = now - self.window
        with self._lock:
            story = self._by_fingerprint.get(s.fingerprint)
            if story is not None and self._entries[story].seen_at >= cutoff:
                return story
            best, best_score = None, SIMILAR
            hits: Counter[int] = Counter()
            for band in s.bands:
                hits.update(self._by_band.get(band, {}).keys())
            for story, _ in hits.most_common(CANDIDATES):
                entry = self._entries[story]
                if entry.seen_at < cutoff:
                    continue
                score = similarity(s.pairs, entry.pairs)
                if score >= best_score:
                    best, best_score = story, score
            return best

    def add(self, story_id: int, s: Shape, now: datetime) -> None:
        with self._lock:
            self._add(story_id, s, now)

    def touch(self, story_id: int, now: datetime) -> None:
        with self._lock:
            entry = self._entries.get(story_id)
            if entry is not None:
                entry.seen_at = max(entry.seen_at, now)
                for band in entry.bands:  # most recently active last: the last to leave a full band
                    members = self._by_band.get(band)
                    if members is not None:
                        members.pop(story_id, None)
                        members[story_id] = None

    def forget(self, story_id: int) -> None:
        with self._lock:
            self._remove(story_id)

    def __len__(self) -> int:
        return len(self._entries)

    def _add(self, story_id: int, s: Shape, seen_at: datetime, fingerprint: str | None = None) -> None:
        if story_id in self._entries:
            return
        entry = _Entry(story_id, fingerprint or s.fingerprint, s.pairs, s.bands, seen_at)
        self._entries[story_id] = entry
        self._order.append(story_id)
        self._by_fingerprint[entry.fingerprint] = story_id
        for band in entry.bands:
            members = self._by_band.setdefault(band, {})
            members[story_id] = None
            if len(members) > BAND_CAPACITY:
                del members[next(iter(members))]
        while len(self._entries) > self.capacity:
            self._remove(self._order.popleft())

    def _remove(self, story_id: int) -> None:
        entry = self._entries.pop(story_id, None)
        if entry is None:
            return
        if self._by_fingerprint.get(entry.fingerprint) == story_id:
            del self._by_fingerprint[entry.fingerprint]
        for band in entry.bands:
            members = self._by_band.get(band)
            if members is not None:
                members.pop(story_id, None)
                if not members:
                    del self._by_band[band]


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
        .values(size=STORY.c.size + len(copies), reach=STORY.c.reach + sum(r or 0 for _, r in copies), last_at=now)
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


def story_row(*, leader_id: int, s: Shape, normalised: str, team: str, author: str, reach: int | None,
              now: datetime) -> dict[str, Any]:
    """A new story led by `leader_id`: its id is the leader's."""
    return {"id": leader_id, "key": s.fingerprint, "fingerprint": s.fingerprint, "normalised": normalised,
            "leader_id": leader_id, "team": team, "size": 1, "reach": reach or 0, "authors": [author],
            "first_at": now, "last_at": now, "refresh_outbox_id": None, "refreshed_at": None}


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
