"""Intake over HTTP: time from a mention's 202 to its relay card reaching Slack (not throttled), then
throughput with one mention per request (8 client threads) and in batches of 500, each beside its floor
(bench/floor.py) measured in the same run with the same client, in alternating rounds: the figures that
matter are the ratios to the floors, with the CPU per mention (server process + database backends)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.ack import TEAM_WORDS
from bench.common import AUTH, ROOT, TEAM_CHANNELS, App, Section, fresh_database, pct, wait_until
from bench.cpu import CpuMeter
from bot.store import db
from tests.conftest import mention
from tests.test_restart import free_port

BATCH = 500  # the intake API's largest batch
SINGLE_TARGET, SINGLE_CPU_TARGET, BATCH_TARGET = 0.7, 2.0, 0.25  # issue 16, as ratios to the floors


def body(i: int) -> dict[str, object]:
    """A mention of its own (no near-copy of another, so no storm grouping), routed to one of the 4 teams."""
    word = TEAM_WORDS[TEAM_CHANNELS[i % 4]]
    return mention(i, text=f"{word} : {mention(i)['text']}")


@contextmanager
def running_floor(kind: str, tmp: Path) -> Iterator[tuple[str, int, str]]:
    """The floor app (bench/floor.py) on a fresh database of `kind`; yields its base URL, pid and database URL."""
    with fresh_database(kind, tmp) as url:
        port = free_port()
        with open(tmp / f"floor-{port}.log", "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "bench.floor", "--port", str(port), "--database-url", url],
                                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            ok = wait_until(lambda: _healthy(base) or proc.poll() is not None, timeout=60, interval=0.1)
            if not ok or proc.poll() is not None:
                raise AssertionError((tmp / f"floor-{port}.log").read_text()[-3000:])
            yield base, proc.pid, url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def run(app: App, section: Section, *, latency_n: int, single_n: int, batches: int, batch: int = BATCH,
        rounds: int = 3, tmp: Path) -> None:
    relay = relay_latency(app, latency_n)
    section.add("Intake → relay posted in Slack, not throttled, p50", pct(relay, 50), "ms")
    section.add("Intake → relay posted in Slack, not throttled, p95", pct(relay, 95), "ms", below=2000,
                target="p95 < 2 s", note=f"{len(relay)} mentions, one every 0.3 s across the 4 team channels")
    postgres = app.database_url.startswith("postgresql")
    kind = "postgresql" if postgres else "sqlite"
    app_meter = CpuMeter(app.process.pid, app.database_url)
    rows: dict[str, list[dict[str, float]]] = {"floor_single": [], "single": [], "floor_batch": [], "batch": []}
    with running_floor(kind, tmp) as (floor_url, floor_pid, floor_db):
        floor_meter = CpuMeter(floor_pid, floor_db)
        try:
            for r in range(rounds):  # alternating, so both see the same weather on a shared machine
                base = 1_000_000 * (r + 1)
                rows["floor_single"].append(_measured(floor_meter, single_n, lambda: throughput_single(
                    floor_url, "/floor/single", [body(base + i) for i in range(single_n)])))
                rows["single"].append(_measured(app_meter, single_n, lambda: throughput_single(
                    app.url, "/intake/mentions", [body(base + i) for i in range(single_n)])))
                payloads = [[body(base + 500_000 + b * batch + i) for i in range(batch)] for b in range(batches)]
                rows["floor_batch"].append(_measured(floor_meter, batches * batch, lambda: throughput_batched(
                    floor_url, "/floor/batch", payloads)))
                rows["batch"].append(_measured(app_meter, batches * batch, lambda: throughput_batched(
                    app.url, "/intake/mentions", payloads)))
        finally:
            floor_meter.close()
            app_meter.close()
    unnest = "one INSERT … SELECT FROM unnest(…)" if postgres else "one executemany INSERT (SQLite has no arrays)"
    _report(section, "one mention per request, 8 client threads", rows["single"], rows["floor_single"],
            floor_how="parse the JSON, insert one row, commit", target=SINGLE_TARGET, cpu_target=SINGLE_CPU_TARGET,
            n=f"{rounds} rounds of {single_n} requests")
    _report(section, f"batches of {batch}", rows["batch"], rows["floor_batch"],
            floor_how=f"parse the JSON, {unnest} of {batch} rows, commit", target=BATCH_TARGET, cpu_target=None,
            n=f"{rounds} rounds of {batches} × {batch} mentions")
    section.details.update(relay_ms=relay, rounds=rows)


def _measured(meter: CpuMeter, n: int, work: Callable[[], float]) -> dict[str, float]:
    meter.start()
    rate = work()
    cpu = meter.stop()
    return {"rate": rate, "cpu_ms": 1000 * cpu["total"] / n, "server_cpu_ms": 1000 * cpu["server"] / n,
            "db_cpu_ms": 1000 * cpu["database"] / n}


def _report(section: Section, what: str, app: list[dict[str, float]], floor: list[dict[str, float]], *,
            floor_how: str, target: float, cpu_target: float | None, n: str) -> None:
    """The app's rate and CPU per mention, its floor's, and the ratios (median of the rounds' ratios)."""
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    ratios = [a["rate"] / f["rate"] for a, f in zip(app, floor, strict=True)]
    cpu_ratios = [a["cpu_ms"] / f["cpu_ms"] for a, f in zip(app, floor, strict=True) if f["cpu_ms"] > 0]
    section.add(f"Floor, {what}", med(floor, "rate"), "/s", note=f"{floor_how}; {n}, median")
    section.add(f"Floor, {what}: CPU per mention", med(floor, "cpu_ms"), "ms",
                note=f"server {med(floor, 'server_cpu_ms'):.2f} + database {med(floor, 'db_cpu_ms'):.2f} ms")
    section.add(f"Intake, {what}", med(app, "rate"), "/s", note=n + ", median")
    section.add(f"Intake, {what}: CPU per mention", med(app, "cpu_ms"), "ms",
                note=f"server {med(app, 'server_cpu_ms'):.2f} + database {med(app, 'db_cpu_ms'):.2f} ms")
    section.add(f"Intake / floor, {what}", statistics.median(ratios), "×", above=target, target=f"≥ {target}×",
                note="rounds: " + ", ".join(f"{x:.2f}" for x in ratios))
    if cpu_ratios:
        section.add(f"CPU per mention / floor's, {what}", statistics.median(cpu_ratios), "×",
                    below=None if cpu_target is None else cpu_target + 1e-9,
                    target="" if cpu_target is None else f"≤ {cpu_target}×",
                    note="rounds: " + ", ".join(f"{x:.1f}" for x in cpu_ratios))


def relay_latency(app: App, n: int) -> list[float]:
    """One mention every 0.3 s, spread over the 4 team channels (each gets one per 1.2 s, under Slack's pace)."""
    accepted: dict[int, float] = {}  # mention id -> monotonic time of the 202
    with app.client(timeout=10) as client:
        for i in range(n):
            r = client.post("/intake/mentions", headers=AUTH, json=body(900_000 + i))
            r.raise_for_status()
            accepted[r.json()["mentions"][0]["id"]] = time.monotonic()
            time.sleep(0.3)
    # The card carries its outbox row's id in its metadata; the row (written with the mention) names it.
    engine = db.make_engine(app.database_url)
    try:
        with engine.connect() as conn:
            mention_of = {o: m for o, m in conn.execute(text("SELECT id, mention_id FROM outbox WHERE kind = 'relay'"))
                          if m in accepted}
    finally:
        engine.dispose()

    def posted() -> dict[int, float]:
        out = {}
        for call in app.slack.calls("chat.postMessage"):
            outbox_id = ((call.args.get("metadata") or {}).get("event_payload") or {}).get("outbox_id")
            if call.ok and outbox_id in mention_of:
                out.setdefault(mention_of[outbox_id], call.at)
        return out

    wait_until(lambda: len(posted()) >= len(mention_of), timeout=30 + n)
    return [(at - accepted[mid]) * 1000 for mid, at in posted().items()]


def throughput_single(base_url: str, path: str, bodies: list[dict[str, object]]) -> float:
    """Bodies built before the clock starts: the client's work is not measured."""
    with httpx.Client(base_url=base_url, timeout=30, limits=httpx.Limits(max_connections=8)) as client:
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda b: client.post(path, headers=AUTH, json=b).status_code, bodies))
        elapsed = time.perf_counter() - start
    if codes.count(202) != len(bodies):
        raise AssertionError(f"{base_url}{path} refused some mentions: {sorted(set(codes))}")
    return len(bodies) / elapsed


def throughput_batched(base_url: str, path: str, payloads: list[list[dict[str, object]]]) -> float:
    with httpx.Client(base_url=base_url, timeout=60) as client:
        start = time.perf_counter()
        for payload in payloads:
            r = client.post(path, headers=AUTH, json=payload)
            if r.status_code != 202:
                raise AssertionError(r.text[:500])
        elapsed = time.perf_counter() - start
    return sum(len(p) for p in payloads) / elapsed
