"""Steady as the work grows: the story index's memory and its load after a restart, the outbox's pick cost
under a backlog, and the sweep's first volume count (see BENCHMARKS.md, "Steady").

- story index: 50,000 stories of 12 to 40 words are stored with their signatures; a fresh index (a restarted
  process) then serves its first request (`catch_up`, which starts the load in the background and waits at
  most LOAD_WAIT) and loads them all; its resident memory per story is measured in this process (RSS delta).
- outbox: the query that finds the lanes' heads (`lane_heads`) timed with 0, 10,000 and 50,000 pending rows
  in 20 channels on top of 20,000 delivered ones.
- sweep: the first volume count after a start with a week of mentions (10,000) and no bucket yet.

Each database is new (a unique name per run) and dropped after.
"""

from __future__ import annotations

import gc
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, col, select

from bench.common import Section, dialect_name, fresh_database
from bot.domain.storms import shape, signature_blob
from bot.outbox.queue import lane_heads, outbox_row
from bot.store import db, rollups
from bot.store.models import Mention, Outbox, Story
from bot.store.story_index import StoryIndex


def _rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1e6


def _texts(n: int, seed: int = 16) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"mot{i}" for i in range(5000)]
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(12, 40))) for _ in range(n)]


def stories(url: str, section: Section, *, n: int) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    now = datetime.now(UTC)
    rows = []
    for i, t in enumerate(_texts(n), start=1):
        s = shape(t)
        rows.append({"id": i, "key": s.fingerprint, "fingerprint": s.fingerprint, "normalised": t, "leader_id": i,
                     "team": "general", "size": 1, "reach": 0, "authors": [], "first_at": now,
                     "last_at": now - timedelta(seconds=i), "signature": signature_blob(s)})
    with engine.begin() as conn:
        for k in range(0, len(rows), 5000):
            conn.execute(Story.__table__.insert(), rows[k:k + 5000])  # type: ignore[attr-defined]
    shapes = [shape(t) for t in _texts(200, seed=16)]  # the first 200 stored texts again
    del rows
    gc.collect()
    before = _rss_mb()
    index = StoryIndex()
    started = time.perf_counter()
    with engine.begin() as conn:
        index.catch_up(conn, now)
        first = time.perf_counter() - started
    index.wait_loaded(120)
    loaded = time.perf_counter() - started
    gc.collect()
    per_story = (_rss_mb() - before) * 1e6 / max(len(index), 1)
    found = sum(index.find(s, now) is not None for s in shapes)
    name = dialect_name(url)
    section.add(f"First request after a restart with {n:,} stories (its story look-up) — {name}", first * 1000, "ms",
                below=1000, target="< 1 s", note="waits for the background load at most 250 ms")
    section.add(f"… the whole index loaded in the background — {name}", loaded, "s",
                note=f"{len(index):,} stories, {index.recomputed} shapes recomputed, {found}/200 found again")
    section.add(f"Story index memory per story — {name}", per_story, "bytes", below=1024, target="≤ 1 KB",
                note=f"RSS delta {_rss_mb() - before:.0f} MB for {len(index):,} stories")
    engine.dispose()


def outbox(url: str, section: Section) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    now = datetime.now(UTC)

    def insert(rows: list[dict]) -> None:
        with engine.begin() as conn:
            for k in range(0, len(rows), 5000):
                conn.execute(Outbox.__table__.insert(), rows[k:k + 5000])  # type: ignore[attr-defined]
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.execute(text("ANALYZE outbox"))

    def pick_ms() -> float:
        with Session(engine) as s:
            heads = lane_heads(engine.dialect.name).subquery()
            query = select(Outbox.id).where(col(Outbox.id).in_(select(heads.c.id)))
            s.exec(query).all()
            started = time.perf_counter()
            for _ in range(20):
                s.exec(query).all()
            return (time.perf_counter() - started) / 20 * 1000

    insert([outbox_row(kind="relay", method="chat.postMessage", now=now, args={"channel": f"C{i % 20:04d}"})
            | {"status": "sent"} for i in range(20_000)])
    name = dialect_name(url)
    total = 0
    for pending in (0, 10_000, 50_000):
        insert([outbox_row(kind="relay", method="chat.postMessage", now=now, args={"channel": f"C{i % 20:04d}"})
                for i in range(total, pending)])
        total = pending
        section.add(f"Outbox: the lanes' heads with {pending:,} pending rows — {name}", pick_ms(), "ms",
                    note="20 channels, 20,000 delivered rows")
    engine.dispose()


def sweep(url: str, section: Section, *, n: int) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    now = datetime.now(UTC)
    rng = random.Random(3)
    rows = []
    for k in range(n):
        at = now - timedelta(seconds=rng.randint(0, 7 * 86400))
        rows.append({"source": "rss", "external_id": f"v{k}", "url": "https://x.example/", "author": "@a",
                     "text": "t", "published_at": at, "received_at": at, "team": "general", "severity": "low",
                     "tags": [], "reasons": [], "status": "new", "state": "open", "language_detected": False,
                     "reroutes": 0})
    with engine.begin() as conn:
        conn.execute(Mention.__table__.insert(), rows)  # type: ignore[attr-defined]
    started = time.perf_counter()
    written = rollups.count_volume(engine, now=now, since=now - timedelta(days=7))
    took = time.perf_counter() - started
    started = time.perf_counter()
    rollups.count_volume(engine, now=now + timedelta(seconds=30), since=now - timedelta(days=7))
    again = time.perf_counter() - started
    name = dialect_name(url)
    section.add(f"Sweep: first volume count after a start, a week of {n:,} mentions — {name}", took * 1000, "ms",
                note=f"{written:,} buckets written in one transaction")
    section.add(f"… the next sweep's count — {name}", again * 1000, "ms")
    engine.dispose()


def run(section: Section, tmp: Path, *, kinds: list[str], stories_n: int, mentions_n: int) -> None:
    for kind in kinds:
        with fresh_database(kind, tmp) as url:
            stories(url, section, n=stories_n)
        with fresh_database(kind, tmp) as url:
            outbox(url, section)
        with fresh_database(kind, tmp) as url:
            sweep(url, section, n=mentions_n)
