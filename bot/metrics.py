"""Prometheus metrics, one registry per runtime (so tests and several apps in one process stay apart)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    def __init__(self, outbox_counts: Callable[[], dict[str, int]]):
        self.registry = CollectorRegistry()
        self.mentions = Counter("vigie_mentions_total", "Mentions received, by door and outcome",
                                ["door", "outcome"], registry=self.registry)
        self.outbox = Gauge("vigie_outbox_rows", "Outbox rows by status", ["status"], registry=self.registry)
        self._outbox_counts = outbox_counts

    def ingested(self, results: Iterable[Any], *, door: str) -> None:
        for r in results:
            self.mentions.labels(door=door, outcome="duplicate" if r.duplicate else "new").inc()

    def render(self) -> tuple[bytes, str]:
        counts = self._outbox_counts()
        for status in ("pending", "sending", "sent", "failed"):
            self.outbox.labels(status=status).set(counts.get(status, 0))
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
