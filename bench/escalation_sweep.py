"""The escalation sweep with many open mentions of which a handful are due (issue 16, BENCHMARKS.md "Steady").

50,000 open mentions received on Monday morning (their first ladder step falls at about 13:00) and, every 30
seconds of the manual clock, 5 mentions whose 50 % step falls then (received on Friday afternoon). The first
sweep at 10:00 is the one after an upgrade (it works every open mention out); each of the next ones sends its 5
steps; the idle ones find nothing due. Times are medians over ROUNDS sweeps, with the load average.

Runs against whatever `bot` is importable, so the same script measures the code before the change:
`PYTHONPATH=/path/to/old/checkout python bench/escalation_sweep.py [--postgres]`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
PARIS = ZoneInfo("Europe/Paris")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
FRIDAY_15 = datetime(2026, 11, 20, 15, 0, tzinfo=PARIS)  # 8 business hours: 50 % falls Monday 10:00
ROUNDS, DUE = int(os.environ.get("SWEEP_ROUNDS", "10")), 5


def _rows(received: list[datetime], first: int) -> list[dict]:
    return [{"source": "rss", "external_id": f"s{first + k}", "url": "https://x.example/", "author": "@a",
             "text": "t", "published_at": at, "received_at": at, "team": "general", "severity": "low",
             "tags": [], "reasons": [], "status": "relayed", "state": "open", "language_detected": False,
             "reroutes": 0} for k, at in enumerate(received)]


def measure(url: str, *, n: int) -> dict[str, float]:
    from bot.clock import ManualClock
    from bot.protocol.load import load_protocol
    from bot.store import db
    from bot.store.models import Mention, Reminder
    from bot.usecases.escalation import Escalation
    from bot.usecases.intake import Vigie
    from sqlalchemy import func, select, text

    engine = db.make_engine(url)
    db.upgrade(engine)
    table = Mention.__table__  # type: ignore[attr-defined]
    rows = _rows([MONDAY_10 - timedelta(minutes=60) + timedelta(seconds=k % 3600) for k in range(n)], 0)
    for r in range(1, ROUNDS + 1):  # due at 10:00 + r * 60 s (the odd half-minutes stay idle)
        rows += _rows([FRIDAY_15 + timedelta(seconds=60 * r)] * DUE, n + r * DUE)
    with engine.begin() as conn:
        for k in range(0, len(rows), 5000):
            conn.execute(table.insert(), rows[k:k + 5000])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE mention"))
    clock = ManualClock(MONDAY_10)
    sweeper = Escalation(Vigie(engine=engine, protocol=load_protocol(ROOT / "tests" / "fixtures" / "protocol.yaml"),
                               clock=clock))

    def timed(at: datetime) -> tuple[float, int]:
        clock.set(at)
        started = time.perf_counter()
        sent = sweeper.sweep()
        return time.perf_counter() - started, sent

    first, _ = timed(MONDAY_10)
    if engine.dialect.name == "postgresql" and os.environ.get("SWEEP_VACUUM", "1") == "1":
        # The first sweep rewrote every open row: clear the dead index entries, as autovacuum would within a
        # minute on a live server (SWEEP_VACUUM=0 measures the sweeps right after it).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE mention"))
    busy, idle = [], []
    for r in range(1, ROUNDS + 1):
        took, sent = timed(MONDAY_10 + timedelta(seconds=60 * r))
        assert sent == DUE, (r, sent)
        busy.append(took)
        took, sent = timed(MONDAY_10 + timedelta(seconds=60 * r + 30))
        assert sent == 0, (r, sent)
        idle.append(took)
    with engine.connect() as conn:
        reminders = conn.execute(select(func.count()).select_from(Reminder.__table__)).scalar_one()  # type: ignore[attr-defined]
    assert reminders == ROUNDS * DUE, reminders
    engine.dispose()
    return {"first_s": first, "due_ms": statistics.median(busy) * 1000, "idle_ms": statistics.median(idle) * 1000,
            "load": os.getloadavg()[0]}


if __name__ == "__main__":
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    from tests import dbutil

    kinds = ["sqlite"] + (["postgresql"] if "--postgres" in sys.argv else [])
    size = int(os.environ.get("SWEEP_MENTIONS", "50000"))
    with tempfile.TemporaryDirectory(prefix="vigie-sweep-") as tmp_name:
        for kind in kinds:
            if kind == "sqlite":
                url = f"sqlite:///{Path(tmp_name) / 'sweep.db'}"
                print(kind, measure(url, n=size), flush=True)
            else:
                with dbutil.fresh_database(Path(tmp_name)) as url:
                    print(kind, measure(url, n=size), flush=True)
