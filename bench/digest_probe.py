"""Run in a fresh process by bench/digest.py: time the digest on a seeded database and report the process's
peak resident memory, and which statements took the time (with their plans).

    python -m bench.digest_probe DATABASE_URL YYYY-MM-DD

Prints one JSON document on stdout.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from bot.protocol.load import load_protocol
from bot.reports import digest
from bot.slack.views import digest as digest_view
from bot.store import db

PROTOCOL = ROOT / "tests" / "fixtures" / "protocol.yaml"
TOP = 4  # statements explained


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main(url: str, day: date) -> dict[str, Any]:
    rss_imports = peak_rss_mb()
    protocol = load_protocol(PROTOCOL)
    engine = db.make_engine(url)
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "total_ms": 0.0, "max_ms": 0.0})

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info.setdefault("t0", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _end(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        ms = (time.perf_counter() - conn.info["t0"].pop()) * 1000
        s = stats[statement]
        s["count"] += 1
        s["total_ms"] += ms
        if ms >= s["max_ms"]:
            s["max_ms"], s["params"] = ms, parameters

    now = datetime.combine(day + timedelta(days=1), clock_time(8, 0), tzinfo=protocol.tz).astimezone(UTC)
    with engine.connect() as conn:  # open the pool's first connection outside the timings
        conn.exec_driver_sql("SELECT 1")
    timings: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        start = time.perf_counter()
        out = fn()
        timings[name] = (time.perf_counter() - start) * 1000
        return out

    fig = timed("company_compute_ms", lambda: digest.compute_digest(engine, protocol=protocol, day=day, team=None,
                                                                       now=now))
    timed("company_blocks_ms", lambda: digest_view.digest_blocks(fig, protocol=protocol, lang="fr", title="Digest"))
    timed("company_series_ms", lambda: digest.daily_series(engine, protocol=protocol, last_day=day, days=14,
                                                           team=None))
    company_stats = {k: dict(v) for k, v in stats.items()}
    start = time.perf_counter()
    each = {}
    for team in protocol.teams:
        one = time.perf_counter()
        digest.compute_digest(engine, protocol=protocol, day=day, team=team, now=now)
        digest.daily_series(engine, protocol=protocol, last_day=day, days=14, team=team)
        each[team] = round((time.perf_counter() - one) * 1000, 1)
    timings["teams_all_ms"] = (time.perf_counter() - start) * 1000
    timings["team_slowest_ms"] = max(each.values(), default=0.0)
    rss = peak_rss_mb()

    top = sorted(company_stats.items(), key=lambda kv: -kv[1]["total_ms"])[:TOP]
    explained = []
    with engine.connect() as conn:
        for statement, s in top:
            plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, s["params"]).scalars().all() \
                if conn.dialect.name == "postgresql" else []
            explained.append({"statement": " ".join(statement.split()), "count": s["count"],
                              "total_ms": round(s["total_ms"], 1), "max_ms": round(s["max_ms"], 1), "plan": plan})
    engine.dispose()
    return {
        "timings_ms": {k: round(v, 1) for k, v in timings.items()},
        "teams_ms": each, "received": fig.received, "still_open": fig.still_open, "breaches": len(fig.breaches),
        "statements": sum(s["count"] for s in company_stats.values()),
        "peak_rss_mb": round(rss, 1), "rss_after_imports_mb": round(rss_imports, 1),
        "top_statements": explained,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], date.fromisoformat(sys.argv[2])), default=str))
