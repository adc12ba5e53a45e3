"""The story index: the recent stories of this process, to find the story of a text without scanning the table.

Memory: stories are kept in flat arrays indexed by a *slot* (a ring of `capacity` slots, the oldest evicted
first), not as one Python object each. Exact copies are found by a 64-bit key of the fingerprint, near-copies
by the 16 64-bit LSH band keys of the MinHash signature (`bot.domain.storms`), both in open-addressing tables
of plain integer arrays (`_Table`). A story costs about 0.8 KB: its band keys (64 bytes), its pair hashes
(4 bytes each, about 170 bytes for a tweet), its table entries (16 x 8 bytes + 12 bytes, at a load between
a third and two thirds),
its id, last activity and fingerprint key, and an entry in the id -> slot dict (measured: BENCHMARKS.md).
The former index (a dict of objects and a dict of dicts per band, string keys) cost 6.4 KB a story.

Restarts: each story row stores its signature (`Story.signature`: the band keys and pair hashes, written
when it is created), so loading reads them instead of recomputing every shape. The load runs in a thread of
its own, most recently active stories first, a chunk per lock hold: a request arriving meanwhile waits at
most `LOAD_WAIT` for it, then goes on with the stories loaded so far (the most recent ones). A near-copy of
an older story not loaded yet may then open a story of its own (it is counted apart, nothing is lost); exact
copies join their story in any case, by the story's unique key.
"""

from __future__ import annotations

import threading
from array import array
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from bot.domain.storms import BANDS, SIMILAR, Shape, shape, similarity, stored_shape
from bot.store.models import Story

log = structlog.get_logger(__name__)

WINDOW = timedelta(hours=72)
# Mentions about one subject share phrases ("Un client se plaint du service après-vente..."), so an LSH band
# can hold thousands of stories that are not copies of each other. Each band keeps its most recently
# active stories only, and only the stories sharing the most bands with a text are compared with it: a
# lookup stays a few dozen array reads however many stories there are (measured in BENCHMARKS.md).
BAND_CAPACITY = 64
CANDIDATES = 8
LOOKBACK = 200  # ids: how far back each catch-up looks again for stories committed out of order
CATCH_UP_EVERY = timedelta(seconds=1)
CAPACITY = 50_000  # recent stories kept in memory per process (about 40 MB, see above)
LOAD_WAIT = 0.25  # seconds a request waits for the load after a restart before going on without it
LOAD_CHUNK = 200  # stories added per lock hold while loading (about 15 ms)

STORY = Story.__table__  # type: ignore[attr-defined]
_EMPTY_PAIRS = array("I")


def fingerprint_key(fingerprint: str) -> int:
    """A 64-bit key of a fingerprint (its first 16 hex digits; never 0, the tables' empty mark)."""
    return int(fingerprint[:16], 16) or 1


def band_key(band: int) -> int:
    """The index's 32-bit key of a 64-bit band key (never 0). A collision only adds a candidate, which the
    exact similarity then turns down."""
    return (band >> 32) or 1


class _Table:
    """A multimap from `bits`-bit keys (never 0) to 32-bit slots: linear probing in two flat arrays (12 or
    8 bytes a cell), home cell from the key's top bits (the keys are hashes already), deletion by backward
    shift (no tombstones), doubled when two-thirds full."""

    __slots__ = ("bits", "keys", "vals", "used", "shift", "mask")

    def __init__(self, expected: int = 16, *, bits: int = 64):
        self.bits = bits
        self._alloc(expected)

    def _alloc(self, expected: int) -> None:
        size = 1 << max(4, (expected * 3 // 2 + 1).bit_length())
        self.keys = array("Q" if self.bits == 64 else "I", bytes(self.bits // 8 * size))
        self.vals = array("I", bytes(4 * size))
        self.used = 0
        self.mask = size - 1
        self.shift = self.bits - (size.bit_length() - 1)

    def reserve(self, expected: int) -> None:
        if expected * 3 > len(self.keys) * 2:
            self._rehash(expected)

    def _rehash(self, expected: int) -> None:
        keys, vals = self.keys, self.vals
        self._alloc(expected)
        for i, key in enumerate(keys):
            if key:
                self.add(key, vals[i])

    def get(self, key: int) -> list[int]:
        keys, mask = self.keys, self.mask
        i = key >> self.shift
        out = []
        while True:
            k = keys[i]
            if k == 0:
                return out
            if k == key:
                out.append(self.vals[i])
            i = (i + 1) & mask

    def add(self, key: int, slot: int, *, cap: int = 0, seen: array | None = None) -> bool:
        """Add `key` -> `slot`. With `cap`, a key holding `cap` slots already first drops the least recently
        seen of them (by `seen`), or, without `seen`, is left as it is (False: not added)."""
        if (self.used + 1) * 3 > len(self.keys) * 2:
            self._rehash(2 * self.used + 2)
        keys, vals, mask = self.keys, self.vals, self.mask
        i = key >> self.shift
        count, oldest = 0, -1
        while keys[i]:
            if cap and keys[i] == key:
                count += 1
                if seen is not None and (oldest < 0 or seen[vals[i]] < seen[oldest]):
                    oldest = vals[i]
            i = (i + 1) & mask
        if cap and count >= cap:
            if seen is None:
                return False
            self.remove(key, oldest)
            return self.add(key, slot)
        keys[i] = key
        vals[i] = slot
        self.used += 1
        return True

    def remove(self, key: int, slot: int) -> None:
        keys, vals, mask, shift = self.keys, self.vals, self.mask, self.shift
        i = key >> shift
        while True:
            k = keys[i]
            if k == 0:
                return  # not there
            if k == key and vals[i] == slot:
                break
            i = (i + 1) & mask
        j = i
        while True:  # backward shift: pull later cells of the run into the hole when their home allows it
            j = (j + 1) & mask
            k = keys[j]
            if k == 0:
                break
            home = k >> shift
            if (home <= i or home > j) if i <= j else (home <= i and home > j):
                keys[i] = k
                vals[i] = vals[j]
                i = j
        keys[i] = 0
        vals[i] = 0
        self.used -= 1


class StoryIndex:
    """Recent stories of this process, to find the story of a text without scanning the table."""

    def __init__(self, *, window: timedelta = WINDOW, capacity: int = CAPACITY, background: bool = True):
        self.window = window
        self.capacity = capacity
        self.background = background  # load after a restart in a thread of its own (False: in the caller)
        self._lock = threading.Lock()
        self._ids = array("q")  # story id per slot, 0 when free
        self._seen = array("d")  # last activity seen by this process (POSIX seconds)
        self._fps = array("Q")  # fingerprint key per slot
        self._bands = array("I")  # BANDS band keys per slot (`band_key`; 0: none, a short text)
        self._pairs: list[array | None] = []  # the pair hashes per slot
        self._slot_of: dict[int, int] = {}
        self._next = 0  # slots handed out so far (the ring position is this modulo capacity)
        self._by_fingerprint = _Table()
        self._by_band = _Table(bits=32)
        self._last_id: int | None = None
        self._caught_up_at: datetime | None = None
        self._loaded = threading.Event()
        self.recomputed = 0  # shapes recomputed from the stored text (rows stored before signatures were)
        self.load_seconds: float | None = None

    # --- loading and catching up ---------------------------------------------------------------

    def catch_up(self, conn: Connection, now: datetime) -> None:
        """Load the stories written since the last call (by any instance): an indexed range read, at most
        once every CATCH_UP_EVERY (this process adds its own stories as it writes them; the ones another
        instance wrote are seen within that delay, and their exact copies join them anyway by key). The
        first call starts loading the current stories (see the module's docstring)."""
        with self._lock:
            if self._caught_up_at is not None and now - self._caught_up_at < CATCH_UP_EVERY:
                return
            self._caught_up_at = now
            first = self._last_id is None
            if first:
                self._last_id = int(conn.execute(select(func.coalesce(func.max(STORY.c.id), 0))).scalar_one())
        if first:
            top = self._last_id or 0
            if self.background:
                engine: Engine = conn.engine
                threading.Thread(target=self._load, args=(engine, top, now), name="vigie-story-load",
                                 daemon=True).start()
                self._loaded.wait(LOAD_WAIT)
            else:
                self._load_rows(conn, top, now)
            return
        # With a margin: on PostgreSQL another instance may commit a story after one with a higher id.
        rows = conn.execute(select(STORY.c.id, STORY.c.fingerprint, STORY.c.signature, STORY.c.last_at)
                            .where(STORY.c.id > (self._last_id or 0) - LOOKBACK).order_by(STORY.c.id)).all()
        fresh = [r for r in rows if r.id not in self._slot_of]  # most are known: written or seen here
        self._add_rows(conn, fresh, slots=None)
        if rows:
            with self._lock:
                self._last_id = max(self._last_id or 0, rows[-1].id)

    def wait_loaded(self, timeout: float | None = None) -> bool:
        return self._loaded.wait(timeout)

    def _load(self, engine: Engine, top: int, now: datetime) -> None:
        try:
            with engine.connect() as conn:
                self._load_rows(conn, top, now)
        except Exception:  # noqa: BLE001 - the index then fills from what intake writes; logged
            log.exception("story_index_load_failed")
            self._loaded.set()

    def _load_rows(self, conn: Connection, top: int, now: datetime) -> None:
        """The current stories up to id `top`, most recently active first, in the slots just before the ones
        live stories take, so the oldest are evicted first."""
        started = datetime.now().timestamp()  # noqa: DTZ005 - a duration only
        where = (STORY.c.last_at >= now - self.window, STORY.c.id <= top)
        count = min(self.capacity, int(conn.execute(select(func.count()).select_from(STORY).where(*where)).scalar_one()))
        with self._lock:
            base = self._reserve(count)
            self._by_fingerprint.reserve(self._by_fingerprint.used + count + 1024)
            self._by_band.reserve(self._by_band.used + BANDS * (count + 1024))
        result = conn.execution_options(stream_results=True).execute(
            select(STORY.c.id, STORY.c.fingerprint, STORY.c.signature, STORY.c.last_at)
            .where(*where).order_by(STORY.c.last_at.desc()).limit(count))
        position = count
        while True:
            chunk = result.fetchmany(LOAD_CHUNK)
            if not chunk:
                break
            slots = [base + (position - 1 - k) for k in range(len(chunk))]
            position -= len(chunk)
            self._add_rows(conn, chunk, slots=slots, loading=True)
        self.load_seconds = datetime.now().timestamp() - started  # noqa: DTZ005
        log.info("story_index_loaded", stories=count, seconds=round(self.load_seconds, 3), recomputed=self.recomputed)
        self._loaded.set()

    def _add_rows(self, conn: Connection, rows: list[Any], *, slots: list[int] | None, loading: bool = False) -> None:
        """Add stored stories (their signatures decoded outside the lock; a row stored without one has its
        shape recomputed from its text)."""
        missing = [r.id for r in rows if r.signature is None]
        texts: dict[int, str] = {}
        if missing:
            texts = dict(conn.execute(select(STORY.c.id, STORY.c.normalised).where(STORY.c.id.in_(missing))).all())
        decoded = []
        for r in rows:
            if r.signature is not None:
                bands, pairs = stored_shape(bytes(r.signature))
            elif r.id in texts:
                self.recomputed += 1
                s = shape(texts[r.id])
                bands, pairs = array("Q", s.bands), array("I", s.pairs)
            else:
                continue
            decoded.append((r.id, fingerprint_key(r.fingerprint), bands, pairs, r.last_at.timestamp()))
        with self._lock:
            for i, (story_id, fp, bands, pairs, seen) in enumerate(decoded):
                if story_id not in self._slot_of:
                    self._put(story_id, fp, bands, pairs, seen, slot=None if slots is None else slots[i],
                              loading=loading)

    # --- lookups ---------------------------------------------------------------------------------

    def find(self, s: Shape, now: datetime) -> int | None:
        """The recent story this text belongs to: same fingerprint, or the most similar near-copy."""
        cutoff = (now - self.window).timestamp()
        with self._lock:
            seen, ids = self._seen, self._ids
            best, best_seen = None, cutoff
            for slot in self._by_fingerprint.get(fingerprint_key(s.fingerprint)):
                if seen[slot] >= best_seen:
                    best, best_seen = slot, seen[slot]
            if best is not None:
                return int(ids[best])
            hits: Counter[int] = Counter()
            for band in s.bands:
                hits.update(self._by_band.get(band_key(band)))
            best_score = SIMILAR
            for slot, _ in hits.most_common(CANDIDATES):
                if seen[slot] < cutoff:
                    continue
                score = similarity(s.pairs, self._pairs[slot] or _EMPTY_PAIRS)
                if score >= best_score:
                    best, best_score = slot, score
            return None if best is None else int(ids[best])

    def add(self, story_id: int, s: Shape, now: datetime) -> None:
        bands = array("Q", s.bands)
        with self._lock:
            if story_id not in self._slot_of:
                self._put(story_id, fingerprint_key(s.fingerprint), bands, array("I", s.pairs), now.timestamp())

    def touch(self, story_id: int, now: datetime) -> None:
        with self._lock:
            slot = self._slot_of.get(story_id)
            if slot is not None:
                self._seen[slot] = max(self._seen[slot], now.timestamp())

    def forget(self, story_id: int) -> None:
        with self._lock:
            slot = self._slot_of.get(story_id)
            if slot is not None:
                self._free(slot)

    def __len__(self) -> int:
        return len(self._slot_of)

    # --- slots -----------------------------------------------------------------------------------

    def _reserve(self, count: int) -> int:
        """Hand out `count` consecutive ring positions (for the load); return the first."""
        base = self._next
        for _ in range(count):
            self._take()
        return base

    def _take(self) -> int:
        """The next ring position, its former story evicted."""
        position = self._next
        self._next += 1
        if position < self.capacity:
            self._ids.append(0)
            self._seen.append(0.0)
            self._fps.append(0)
            self._bands.frombytes(bytes(4 * BANDS))
            self._pairs.append(None)
            return position
        slot = position % self.capacity
        if self._ids[slot]:
            self._free(slot)
        return slot

    def _put(self, story_id: int, fp: int, bands: Iterable[int], pairs: array, seen: float, *,
             slot: int | None = None, loading: bool = False) -> None:
        if slot is None:
            slot = self._take()
        else:
            slot %= self.capacity
            if self._ids[slot]:
                self._free(slot)
        self._ids[slot] = story_id
        self._seen[slot] = seen
        self._fps[slot] = fp
        self._pairs[slot] = pairs
        self._slot_of[story_id] = slot
        self._by_fingerprint.add(fp, slot)
        for b, band in enumerate(bands):
            band = band_key(band)
            # A crowded band keeps its most recently active stories: loading goes from the most recent down,
            # so a story finding its band full there is the older one and stays out of it.
            if self._by_band.add(band, slot, cap=BAND_CAPACITY, seen=None if loading else self._seen):
                self._bands[slot * BANDS + b] = band

    def _free(self, slot: int) -> None:
        story_id = self._ids[slot]
        self._by_fingerprint.remove(self._fps[slot], slot)
        for b in range(slot * BANDS, (slot + 1) * BANDS):
            band = self._bands[b]
            if band:
                self._by_band.remove(band, slot)
                self._bands[b] = 0
        self._slot_of.pop(story_id, None)
        self._ids[slot] = 0
        self._pairs[slot] = None
