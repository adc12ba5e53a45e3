"""The compact story index under churn: its open-addressing tables stay consistent with its slots (every
cell points at a live story holding that key, every live story's keys are found), eviction goes oldest
first, and threads adding, finding, touching and forgetting at once leave it consistent."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from bot.domain.storms import BANDS, shape
from bot.store.story_index import StoryIndex, _Table, fingerprint_key

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    vocab = [f"mot{i}" for i in range(300)]  # a small vocabulary: crowded bands, long probe runs
    return [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 14))) for _ in range(n)]


def _check(index: StoryIndex) -> None:
    live = {slot: sid for sid, slot in index._slot_of.items()}
    for slot, sid in live.items():
        assert index._ids[slot] == sid
        assert slot in index._by_fingerprint.get(index._fps[slot])
        for b in range(slot * BANDS, (slot + 1) * BANDS):
            if index._bands[b]:
                assert slot in index._by_band.get(index._bands[b])
    for table, keys_of in ((index._by_fingerprint, lambda s: {index._fps[s]}),
                           (index._by_band, lambda s: set(index._bands[s * BANDS:(s + 1) * BANDS]))):
        cells = [(k, table.vals[i]) for i, k in enumerate(table.keys) if k]
        assert len(cells) == table.used
        for key, slot in cells:
            assert slot in live and key in keys_of(slot)


def test_the_tables_stay_consistent_under_churn():
    index = StoryIndex(capacity=150)
    texts = _texts(600, seed=1)
    rng = random.Random(2)
    for i, text in enumerate(texts, start=1):
        index.add(i, shape(text), NOW + timedelta(seconds=i))
        if rng.random() < 0.2:
            index.forget(rng.randint(1, i))
        if rng.random() < 0.3:
            index.touch(rng.randint(1, i), NOW + timedelta(seconds=i))
        if i % 50 == 0:
            _check(index)
    _check(index)
    assert len(index) <= 150
    assert index.find(shape(texts[-1]), NOW + timedelta(seconds=600)) == 600  # the latest is kept
    assert index.find(shape(texts[0]), NOW + timedelta(seconds=600)) is None  # evicted long ago


def test_a_table_removes_by_backward_shift_without_losing_a_key():
    table = _Table(8, bits=32)
    rng = random.Random(3)
    present: list[tuple[int, int]] = []
    for step in range(3000):
        if present and rng.random() < 0.45:
            key, slot = present.pop(rng.randrange(len(present)))
            table.remove(key, slot)
        else:
            key = rng.choice([rng.getrandbits(32) or 1, 0xFFFF0000 | rng.getrandbits(4)])  # runs of equal homes
            present.append((key, step))
            table.add(key, step)
        if step % 300 == 0:
            for key, slot in present:
                assert slot in table.get(key)
            assert table.used == len(present)


def test_threads_adding_finding_and_forgetting_at_once_leave_it_consistent():
    index = StoryIndex(capacity=400)
    shapes = [shape(t) for t in _texts(1200, seed=4)]
    for rnd in range(3):
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def work(k: int) -> None:
            try:
                barrier.wait(timeout=30)
                for j in range(k, len(shapes), 4):
                    sid = rnd * 10_000 + j + 1
                    index.add(sid, shapes[j], NOW)
                    index.find(shapes[(j * 7) % len(shapes)], NOW)
                    if j % 5 == 0:
                        index.forget(sid - 3)
                    index.touch(sid - 1, NOW)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        assert not errors
        _check(index)
        assert len(index) <= 400
    assert fingerprint_key("0" * 24) == 1  # 0 marks an empty cell: never a key
