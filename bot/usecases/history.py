"""A history import's triage and story shapes, worked out in worker processes while the main process stores.

Why (issue 14, BENCHMARKS.md "Import"): per row, a history import spends about two thirds of its CPU on pure
work, triage (language, routing, tone, cue lists) and the story shape (MinHash), and a third on reading the
file, looking stories up and storing. The pure part depends on nothing but the row and the protocol, so a
pool of processes (one per core) works it out for the next batches while the main process stores the
current one. What the main process does with the results is exactly what it does for one mention
(`bot.usecases.intake.ingest_batch` with `prepared=`): the same story look-ups, in the file's order, the same
rows and audit events. A worker returns plain tuples (`Prepared`): pickling the `Triage` dataclasses and
their enums cost more than the triage saved.

The pool is forked (Linux), so the workers start with the already-compiled router and loaded modules in a few
milliseconds, before the main process has run any language detection (lingua's Rust thread pool must not be
inherited half-made). One core only, or a platform without fork: the same work in the main process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from bot.domain import storms as storm_rules
from bot.domain.language import detect_languages
from bot.domain.routing import Router
from bot.domain.storms import Shape

__all__ = ["Prepared", "Preparer", "prepare", "prepare_many"]

# (team, severity, language, language_detected, reasons as stored) of the triage; the normalised text and
# story shape (None when the mention is not grouped).
Prepared = tuple[tuple[str, str, str | None, bool, list[dict[str, Any]]], str, Shape | None]
# What a worker needs of a mention: (text, source, language, reach, tags, sentiment).
Row = tuple[str, str, str | None, int | None, list[str], str | None]


def prepare(router: Router, text: str, source: str, language: str | None, reach: int | None,
            tags: Sequence[str], sentiment: str | None, *, forced_team: str | None = None,
            grouped: bool = True) -> Prepared:
    """Triage and story shape of one mention: what `ingest_batch` stores of them, as plain data."""
    triage = router.triage(text=text, source=source, language=language, reach=reach, tags=list(tags),
                           forced_team=forced_team, sentiment=sentiment)
    # The reasons as stored (`Reason.to_dict` without its deep copy: this triage is ours alone, dropped here).
    decided = (triage.team, triage.severity.value, triage.language, triage.language_detected,
               [{"code": str(r.code), "params": r.params} for r in triage.reasons])
    normalised = storm_rules.normalise(text) if grouped else ""
    return decided, normalised, storm_rules.shape(text, normalised=normalised) if normalised else None


def prepare_many(router: Router, rows: Sequence[Row], *, grouped: bool = True) -> list[Prepared]:
    """`prepare` for a batch; the languages of the texts that come without one are detected together first
    (lingua's batch call, same thresholds: `bot.domain.language.detect_languages`)."""
    unknown = [text for text, _, language, *_ in rows if not (language or "").strip()]
    if unknown:
        detect_languages(unknown)  # remembered by detect_language, which triage then calls
    return [prepare(router, *row, grouped=grouped) for row in rows]


MAX_WORKERS = 4
_router: Router | None = None  # a worker's router, inherited from the main process at fork


def _init(router: Router) -> None:
    global _router
    _router = router


def _work(rows: list[Row], grouped: bool) -> list[Prepared]:
    assert _router is not None
    return prepare_many(_router, rows, grouped=grouped)


def _row(m: Any) -> Row:
    return (m.text, m.source, m.language, m.reach, list(m.tags), m.sentiment)


def cores() -> int:
    """The cores this process may run on: one worker each (the main process mostly waits on the database)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class Preparer:
    """Batches in, `Prepared` lists out in the same order: `submit` a batch, `ready()` tells whether the oldest
    one should be taken now (enough in flight to keep every worker busy), `take()` waits for it."""

    def __init__(self, router: Router, *, workers: int | None = None, grouped: bool = True):
        self.router = router
        self.grouped = grouped
        if workers is None:  # past a few workers the main process, which stores, is the limit
            workers = min(cores(), MAX_WORKERS)
        self.workers = workers if workers > 1 and "fork" in multiprocessing.get_all_start_methods() else 0
        self._pool = (ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                          initializer=_init, initargs=(router,)) if self.workers else None)
        self._pending: deque[tuple[Any, Future[list[Prepared]] | list[Prepared]]] = deque()

    def submit(self, batch: Iterable[Any], tag: Any = None) -> None:
        rows = [_row(m) for m in batch]
        if self._pool is None:
            self._pending.append((tag, prepare_many(self.router, rows, grouped=self.grouped)))
        else:
            self._pending.append((tag, self._pool.submit(_work, rows, self.grouped)))

    def ready(self) -> bool:
        """Whether the oldest batch should be taken: all workers have one queued behind it."""
        return len(self._pending) > self.workers

    def __len__(self) -> int:
        return len(self._pending)

    def take(self) -> tuple[Any, list[Prepared]]:
        tag, result = self._pending.popleft()
        return tag, result if isinstance(result, list) else result.result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
