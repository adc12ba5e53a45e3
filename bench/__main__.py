"""Benchmarks on the real app over HTTP: `python -m bench` (see BENCHMARKS.md).

Starts `vigie serve` in a subprocess against the fake Slack (tests/fakes) and measures:
- intake throughput, one mention per request (8 client threads) and in batches of 500;
- time from intake (202 received) to the relay posted in Slack, not throttled;
on SQLite, and on PostgreSQL when VIGIE_TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

from bot import db
from tests import dbutil
from tests.conftest import BOT_TOKEN, INTAKE_TOKEN, mention
from tests.fakes.slack_api import FakeSlack
from tests.test_restart import free_port, start_server

AUTH = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
WORDS = ["résultats", "procès", "grève", "bonjour"]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def run_on(url: str, tmp: Path) -> dict[str, float]:
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    fake = FakeSlack(token=BOT_TOKEN).start()
    port = free_port()
    # Slack's real pace (one message per second per channel) and the default lease.
    server = start_server(url, fake.url, port, tmp, VIGIE_CHANNEL_INTERVAL="1.0", VIGIE_OUTBOX_LEASE="30")
    base = f"http://127.0.0.1:{port}"
    out: dict[str, float] = {}
    try:
        # Latency first, on an empty queue: one mention every 0.3 s across 4 channels (under Slack's pace).
        sent: dict[int, float] = {}
        with httpx.Client(base_url=base, timeout=10) as client:
            for i in range(40):
                r = client.post("/intake/mentions", headers=AUTH, json=mention(900_000 + i, text=WORDS[i % 4]))
                sent[r.json()["mentions"][0]["id"]] = time.monotonic()
                time.sleep(0.3)
        fake.wait_for("chat.postMessage", count=40, timeout=30)
        lat = []
        for call in fake.calls("chat.postMessage"):
            m = re.search(r"mention n° (\d+)", json.dumps(call.args, ensure_ascii=False))
            if m and int(m.group(1)) in sent:
                lat.append((call.at - sent[int(m.group(1))]) * 1000)
        out["relay_p50_ms"], out["relay_p95_ms"] = pct(lat, 50), pct(lat, 95)
        # Single: 2,000 requests from 8 threads.
        n = 2000
        with httpx.Client(base_url=base, timeout=30, limits=httpx.Limits(max_connections=8)) as client:
            start = time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(lambda i: client.post("/intake/mentions", headers=AUTH, json=mention(
                    i, text=f"{WORDS[i % 4]} {i}")).status_code, range(n)))
            out["single_per_s"] = n / (time.perf_counter() - start)
            assert codes.count(202) == n, set(codes)
            # Batched: 20 requests of 500.
            start = time.perf_counter()
            for b in range(20):
                r = client.post("/intake/mentions", headers=AUTH, json=[
                    mention(100_000 + b * 500 + i, text=f"{WORDS[i % 4]} {i}") for i in range(500)])
                assert r.status_code == 202, r.text
            out["batch_per_s"] = 10_000 / (time.perf_counter() - start)
    finally:
        server.terminate()
        server.wait(10)
        fake.stop()
    return out


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        with dbutil.fresh_database(Path(tmp)) as url:
            results["SQLite"] = run_on(url, Path(tmp))
        if dbutil.postgres_admin_url():
            with dbutil.fresh_database(Path(tmp)) as url:
                results["PostgreSQL"] = run_on(url, Path(tmp))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True, cwd=ROOT).stdout
    print(json.dumps({"date": datetime.now(UTC).isoformat(timespec="minutes"), "commit": commit.strip(),
                      "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
