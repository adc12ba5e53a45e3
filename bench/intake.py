"""Intake over HTTP: time from a mention's 202 to its relay card reaching Slack (not throttled), then
throughput with one mention per request (8 client threads) and in batches of 500."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import text

from bench.ack import TEAM_WORDS
from bench.common import AUTH, TEAM_CHANNELS, App, Section, pct, wait_until
from bot.store import db
from tests.conftest import mention

BATCH = 500  # the intake API's largest batch


def body(i: int) -> dict[str, object]:
    """A mention of its own (no near-copy of another, so no storm grouping), routed to one of the 4 teams."""
    word = TEAM_WORDS[TEAM_CHANNELS[i % 4]]
    return mention(i, text=f"{word} : {mention(i)['text']}")


def run(app: App, section: Section, *, latency_n: int, single_n: int, batches: int, batch: int = BATCH) -> None:
    relay = relay_latency(app, latency_n)
    section.add("Intake → relay posted in Slack, not throttled, p50", pct(relay, 50), "ms")
    section.add("Intake → relay posted in Slack, not throttled, p95", pct(relay, 95), "ms", below=2000,
                target="p95 < 2 s", note=f"{len(relay)} mentions, one every 0.3 s across the 4 team channels")
    postgres = app.database_url.startswith("postgresql")
    single = throughput_single(app, single_n)
    section.add("Intake, one mention per request, 8 client threads", single, "/s", above=500,
                target="500 /s" + ("" if postgres else " (set on PostgreSQL)"),
                note=f"{single_n} requests")
    batched = throughput_batched(app, batches, batch)
    section.add(f"Intake, batches of {batch}", batched, "/s", above=5000 if postgres else None,
                target="5,000 /s on PostgreSQL" if postgres else "", note=f"{batches} × {batch} mentions")
    section.details.update(relay_ms=relay)


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


def throughput_single(app: App, n: int) -> float:
    bodies = [body(i) for i in range(n)]  # built before the clock starts: the client's work is not measured
    with app.client(limits=httpx.Limits(max_connections=8)) as client:
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda b: client.post("/intake/mentions", headers=AUTH, json=b).status_code,
                                  bodies))
        elapsed = time.perf_counter() - start
    if codes.count(202) != n:
        raise AssertionError(f"intake refused some mentions: {sorted(set(codes))}")
    return n / elapsed


def throughput_batched(app: App, batches: int, size: int = BATCH) -> float:
    payloads = [[body(100_000 + b * size + i) for i in range(size)] for b in range(batches)]
    with app.client(timeout=60) as client:
        start = time.perf_counter()
        for payload in payloads:
            r = client.post("/intake/mentions", headers=AUTH, json=payload)
            if r.status_code != 202:
                raise AssertionError(r.text[:500])
        elapsed = time.perf_counter() - start
    return batches * size / elapsed
