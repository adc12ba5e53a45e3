"""The warm bench's second half (bench/warm.py runs it on the same warm database, after its own measures):

- `vigie import --history` rows per second on the warm database: a generated export (bench/importing.py's
  `export`), the real CLI in a fresh process (start-up included), beside the same file imported into an empty
  database in the same run, alternating;
- relay latency while intake runs at half capacity: the time from a mention's 202 to its card reaching the
  fake Slack, with the distinct mentions spread round robin over more channels than intake fills (Slack
  allows about one message a second per channel: over the 4 team channels this would measure that pace, not
  the app). A protocol of the run's own adds those channels to the test protocol (`wide_protocol`);
- two `vigie serve` on the same database (PostgreSQL: SQLite means one instance, docs/deployment.md), intake
  spread across both against one instance's rate in alternating rounds, then the accounts: every mention sent
  stored once, one card per mention that has one, every outbox message posted once (the fake Slack's log).
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import AUTH, ROOT, Section, pct, wait_until
from bench.cpu import CpuMeter, process_cpu
from bench.importing import export
from bench.warm import MIX, Server, _loaded, body, serve
from bench.warm_seed import BACKLOG_LANES, VOCAB, warm_database
from bot.store import db
from tests.conftest import TEST_PROTOCOL
from tests.fakes.slack_api import FakeSlack

WIDE = "C0WIDE"  # the wide protocol's channels: C0WIDE0000...


# ---------------------------------------------------------------------------- vigie import on the warm database


def _import_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "VIGIE_", "DATABASE_URL"))}
    return {**env, "DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL), "PYTHONPATH": str(ROOT),
            "LANGUAGE": "en"}  # its summary in the report, in the same words whatever the shell's locale


def _timed_import(database_url: str, path: Path, rows: int) -> tuple[float, str]:
    """`vigie import FILE --history` in a fresh process, as a person runs it: (rows/s start-up included, its
    summary)."""
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", "import", str(path), "--source", "bench", "--history"],
                          env=_import_env(database_url), capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise AssertionError(done.stderr[-2000:])
    return rows / seconds, done.stdout.strip().replace("\n", " ")


@contextmanager
def _engine(url: str) -> Iterator[Any]:
    engine = db.make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def import_rates(admin_url: str, warm_url: str, section: Section, tmp: Path, *, rows: int, rounds: int) -> None:
    """Each round: a new export, imported into a new empty database, then into the warm one (the server on it
    keeps delivering its backlog: both imports run beside it)."""
    empty_rates, warm_rates, summaries, stored = [], [], [], []
    for r in range(rounds):
        path = export(tmp / f"warm-import-{r}.csv", rows, prefix=f"wi{r}-")
        with warm_database(admin_url) as empty:
            section.details.setdefault("databases", []).append(make_url(empty).database)
            subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], env=_import_env(empty), check=True,
                           capture_output=True, cwd=ROOT)
            empty_rates.append(_timed_import(empty, path, rows)[0])
        rate, summary = _timed_import(warm_url, path, rows)
        warm_rates.append(rate)
        summaries.append(summary)
        with _engine(warm_url) as engine, engine.connect() as conn:
            stored.append(conn.execute(text("SELECT count(*) FROM mention WHERE source = 'bench' "
                                            "AND external_id LIKE :p"), {"p": f"wi{r}-%"}).scalar_one())
    ratios = [w / e for w, e in zip(warm_rates, empty_rates, strict=True)]
    how = f"{rows:,} rows with --history, the real CLI in a fresh process, start-up included; {rounds} rounds, median"
    section.add("`vigie import --history` on the warm database", statistics.median(warm_rates), "/s",
                note=how + " (bench/importing.py's target, on 100,000 rows: ≥ 5,000 rows/s)")
    section.add("… the same file into an empty database (reference)", statistics.median(empty_rates), "/s",
                note="a new database each round, migrated before the clock")
    section.add("Import warm / empty", statistics.median(ratios), "×",
                note="rounds: " + ", ".join(f"{x:.2f}" for x in ratios) + "; " + summaries[-1][:160])
    section.details["import"] = {"rows": rows, "warm": warm_rates, "empty": empty_rates, "stored_warm": stored}


# ---------------------------------------------------------------------------- intake over many channels


def wide_protocol(tmp: Path, channels: int) -> Path:
    """The test protocol plus `channels` teams of one channel each, routed by a word of their own (zone0000...)."""
    protocol = yaml.safe_load(TEST_PROTOCOL.read_text())
    for n in range(channels):
        protocol["teams"][f"zone{n:04d}"] = {"name": f"Zone {n}", "channel": f"{WIDE}{n:04d}"}
        protocol["routing"].append({"team": f"zone{n:04d}", "keywords": [f"zone{n:04d}"]})
    (tmp / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())
    path = tmp / "protocol-wide.yaml"
    path.write_text(yaml.safe_dump(protocol, allow_unicode=True))
    return path


def wide_mix(n: int, start: int, *, channels: int, **kw: Any) -> list[dict[str, object]]:
    """bench/warm.py's mix, its distinct texts routed round robin over the wide channels (so each channel gets
    one card every `channels` distinct mentions) instead of the 4 team channels."""
    out = []
    for i in range(start, start + n):
        kind = MIX[i % len(MIX)]
        if kind != "distinct":
            out.append(body(kind, i, **kw))
            continue
        rng = random.Random(i)
        k = (i // len(MIX)) * MIX.count("distinct") + i % len(MIX)  # the distinct ones are first in MIX
        words = " ".join(rng.choice(VOCAB) + rng.choice("xyzw") for _ in range(16))
        out.append({**body(kind, i, **kw), "text": f"zone{k % channels:04d} : {words} {kw['run']} {i}"})
    return out


def _post(client: httpx.Client, b: dict[str, object]) -> tuple[int, float, dict[str, Any]]:
    """(status, when the answer came, the mention's line of it); status 0 when the request itself failed (a
    timeout on a saturated machine): counted as refused, not a crash of the bench."""
    try:
        r = client.post("/intake/mentions", headers=AUTH, json=b)
    except httpx.HTTPError:
        return 0, time.monotonic(), {}
    return r.status_code, time.monotonic(), (r.json()["mentions"][0] if r.status_code == 202 else {})


def open_loop(urls: list[str], bodies: list[dict[str, object]], rate: float, threads: int = 8
              ) -> tuple[list[tuple[int, float, dict[str, Any]]], float]:
    """Request i due at start + i / rate, to urls[i % len(urls)]; the answers in order and the seconds taken."""
    results: list[Any] = [None] * len(bodies)
    nxt = iter(range(len(bodies)))
    lock = threading.Lock()
    started = time.monotonic()

    def work() -> None:
        clients = [httpx.Client(base_url=u, timeout=30) for u in urls]
        try:
            while True:
                with lock:
                    i = next(nxt, None)
                if i is None:
                    return
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                results[i] = _post(clients[i % len(urls)], bodies[i])
        finally:
            for c in clients:
                c.close()

    pool = [threading.Thread(target=work, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results, time.monotonic() - started


def closed_loop(urls: list[str], bodies: list[dict[str, object]], threads: int = 8
                ) -> tuple[list[tuple[int, float, dict[str, Any]]], float]:
    """As fast as 8 client threads go, request i to urls[i % len(urls)] (bodies built before the clock)."""
    clients = [httpx.Client(base_url=u, timeout=30, limits=httpx.Limits(max_connections=threads)) for u in urls]
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(lambda i: _post(clients[i % len(urls)], bodies[i]), range(len(bodies))))
        return results, time.perf_counter() - started
    finally:
        for c in clients:
            c.close()


def _relay_posted(fake: FakeSlack) -> dict[int, float]:
    """outbox id -> when the fake Slack accepted its chat.postMessage (the first time)."""
    out: dict[int, float] = {}
    for call in fake.calls("chat.postMessage"):
        oid = ((call.args.get("metadata") or {}).get("event_payload") or {}).get("outbox_id")
        if call.ok and oid is not None:
            out.setdefault(int(oid), call.at)
    return out


def wait_posted(fake: FakeSlack, outbox_ids: set[int], *, stall: float = 60, cap: float = 900) -> float:
    """Wait until the fake Slack accepted a post of each of these outbox rows, as long as the outbox makes
    progress (at most `stall` seconds without one more posted, `cap` in all); the seconds waited."""
    began = last = time.monotonic()
    missing = len(outbox_ids)
    while True:
        left = len(outbox_ids - set(_relay_posted(fake)))
        now = time.monotonic()
        if left < missing:
            missing, last = left, now
        if not left or now - last > stall or now - began > cap:
            return now - began
        time.sleep(0.5)


def _relay_rows(engine: Any, ids: list[int]) -> dict[int, int]:
    """mention id -> its relay's outbox id, for the mentions that have a card."""
    with engine.connect() as conn:
        return {m: o for m, o in conn.execute(text(
            "SELECT id, relay_outbox_id FROM mention WHERE id = ANY(:ids) AND relay_outbox_id IS NOT NULL "
            "AND state <> 'grouped'"), {"ids": ids})}


def relay_under_load(server: Server, fake: FakeSlack, engine: Any, section: Section, *, rate: float,
                     seconds: float, channels: int, **kw: Any) -> None:
    """The mix at `rate` for `seconds`; for each distinct mention, its 202 → its card accepted by the fake."""
    bodies = wide_mix(max(int(rate * seconds), 20), 60_000_000, channels=channels, **kw)
    top = lambda: conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar_one()  # noqa: E731
    with engine.connect() as conn:
        first_row, began = top(), time.monotonic()
    results, took = open_loop([server.url], bodies, rate)
    with engine.connect() as conn:
        queued, ended = top() - first_row, time.monotonic()
        behind = conn.execute(text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending') "
                                   "AND channel NOT LIKE 'C0BACKLG%'")).scalar_one()
    calls = [c for c in fake.calls() if began <= c.at <= ended and c.ok]
    where = Counter("the backlog" if (ch := str(c.args.get("channel", ""))).startswith("C0BACKLG") else
                    "cards in the wide channels" if ch.startswith(WIDE) else "the rest" for c in calls)
    acked = {int(a["id"]): at for b, (code, at, a) in zip(bodies, results, strict=True)
             if code == 202 and str(b["text"]).startswith("zone") and not a.get("duplicate")}
    relays = _relay_rows(engine, list(acked))
    wait_posted(fake, set(relays.values()))
    posted = _relay_posted(fake)
    ms = [(posted[o] - acked[m]) * 1000 for m, o in sorted(relays.items(), key=lambda x: acked[x[0]]) if o in posted]
    with engine.connect() as conn:
        outbox = [float(x) for (x,) in conn.execute(text(
            "SELECT extract(epoch FROM sent_at - created_at) * 1000 FROM outbox WHERE id = ANY(:ids) "
            "AND sent_at IS NOT NULL"), {"ids": list(relays.values())})]
    refused = sum(code != 202 for code, _, _ in results)
    each = len(relays) / took / channels  # cards a second per channel: Slack takes about one
    section.add("Relay latency under load (202 → card accepted by Slack), p50", pct(ms, 50), "ms")
    section.add("Relay latency under load (202 → card accepted by Slack), p95", pct(ms, 95), "ms", below=2000,
                target="p95 < 2 s",
                note=f"{len(ms)} of {len(relays)} cards posted; intake of the mix at {len(results) / took:.0f} /s "
                     f"({rate:.0f} /s asked: half the rate measured above, {refused} refused), its distinct "
                     f"mentions round robin over {channels} channels ({each:.2f} cards a second each, "
                     f"{'under' if each < 1 else 'OVER'} Slack's one); the backlog delivered meanwhile")
    section.add("… of which in the outbox (relay row written → sent), p50", pct(outbox, 50), "ms",
                note=f"p95 {pct(outbox, 95):,.0f} ms")
    per_s = lambda n: n / (ended - began)  # noqa: E731
    section.add("Slack calls the outbox made a second meanwhile", per_s(len(calls)), "/s",
                note=f"of which {', '.join(f'{k} {per_s(n):.1f}' for k, n in where.most_common())}; against "
                     f"{per_s(queued):.0f} outbox rows queued a second by intake (cards, story refreshes) and the "
                     f"backlog's {BACKLOG_LANES} channels at one a second each; {behind:,} rows outside the backlog "
                     f"still to send when intake stopped; the first cards took {pct(ms[:20], 50):,.0f} ms (p50 of "
                     f"the first 20), the last {pct(ms[-20:], 50):,.0f} ms")
    section.details.update(relay_under_load_ms=ms, relay_outbox_ms=outbox, relay_load={
        "seconds": ended - began, "slack_calls": len(calls), "outbox_rows_queued": queued, "behind_at_end": behind,
        "calls_by_kind": dict(where)})


# ---------------------------------------------------------------------------- two instances


def started(server: Server, run: str, channels: int) -> None:
    """The story index loads on the first intake request (in the background): send one, wait for the load."""
    b = wide_mix(1, 0, channels=channels, run=f"{run}-start-{server.url[-5:]}", old=1, targets=1)[0]
    httpx.post(server.url + "/intake/mentions", headers=AUTH, json=b, timeout=60).raise_for_status()
    if not wait_until(lambda: _loaded(server.log) is not None, 300, 0.2):
        raise AssertionError(f"the story index of {server.url} never said it had loaded")


def _cpu(meter: CpuMeter, other: int | None, run: Callable[[], Any]) -> tuple[Any, float]:
    """The CPU seconds of the first server, its database backends and (if any) the second server."""
    before = process_cpu(other) if other else 0.0
    meter.start()
    out = run()
    cpu = meter.stop()["total"]
    if other:
        cpu += (process_cpu(other) or 0.0) - (before or 0.0)
    return out, cpu


def two_instances(first: Server, url: str, fake: FakeSlack, engine: Any, section: Section, tmp: Path, *,
                  protocol: Path, rounds: int, n: int, channels: int, **kw: Any) -> dict[str, int]:
    """A second server on the same database; alternating rounds of the mix sent to the first only, then spread
    over both (each tenth new mention also sent to the other instance at once, as a client's retry would be);
    then the accounts. Returns the accounts (all zero but `stored`, `sent`, `answered_new`, `cards`, `messages`
    and `waited_s` when right)."""
    second, healthy = serve(url, fake, tmp, VIGIE_PROTOCOL_FILE=str(protocol))
    try:
        started(second, kw["run"], channels)
        with engine.connect() as conn:
            mentions_before = conn.execute(text("SELECT count(*) FROM mention")).scalar_one()
            outbox_from = conn.execute(text("SELECT coalesce(max(id), 0) FROM outbox")).scalar_one()
        meter = CpuMeter(first.process.pid, url)
        rates: dict[str, list[float]] = {"one": [], "two": []}
        cpus: dict[str, list[float]] = {"one": [], "two": []}
        answers: list[tuple[int, float, dict[str, Any]]] = []
        sent: set[str] = set()
        failed = 0
        for r in range(rounds):
            for key, urls in (("one", [first.url]), ("two", [first.url, second.url])):
                bodies = wide_mix(n, 70_000_000 + 1_000_000 * (2 * r + (key == "two")), channels=channels, **kw)
                if key == "two":  # the copy right after its original, so it goes to the other instance at once
                    bodies = [x for j, b in enumerate(bodies) for x in ([b, b] if j % 10 == 1 else [b])]
                (got, took), cpu = _cpu(meter, second.process.pid if key == "two" else None,
                                        lambda urls=urls, bodies=bodies: closed_loop(urls, bodies))
                answers += got
                # Sent: a new id the app answered 202 for (a request that failed in the client is counted apart).
                sent |= {str(b["external_id"]) for b, (code, _, _) in zip(bodies, got, strict=True)
                         if code == 202 and not str(b["external_id"]).startswith("warm-")}
                failed += sum(code != 202 for code, _, _ in got)
                rates[key].append(len(bodies) / took)
                cpus[key].append(1000 * cpu / len(bodies))
        meter.close()
        ratios = [t / o for t, o in zip(rates["two"], rates["one"], strict=True)]
        how = f"8 client threads, the mix over {channels} channels; {rounds} alternating rounds of {n} requests"
        section.add("One instance's intake of the mix (the second one running, idle)", statistics.median(rates["one"]),
                    "/s", note=f"{how}, median; CPU {statistics.median(cpus['one']):.1f} ms a mention")
        section.add("Two instances' intake, spread round robin", statistics.median(rates["two"]), "/s",
                    note=f"the same client; one in ten new mentions also sent to the other instance at once; CPU "
                         f"{statistics.median(cpus['two']):.1f} ms a mention (both servers + the database); the "
                         f"second instance answered /healthz {healthy:.1f} s after it was started")
        section.add("Two instances / one", statistics.median(ratios), "×",
                    note="rounds: " + ", ".join(f"{x:.2f}" for x in ratios) + " (2 cores for both servers, "
                         "PostgreSQL and the client)")
        accounts = {**_accounts(engine, fake, answers, sent, mentions_before, outbox_from), "requests_failed": failed}
        a = accounts
        section.add("Two instances: mentions or messages lost or doubled", sum(a[k] for k in (
            "lost", "doubled", "answered_new_twice", "cards_twice", "grouped_cards", "cards_missing", "posted_twice",
            "sent_not_posted")), "",
                    note=f"{a['sent']:,} mentions sent ({a['requests_failed']} requests not answered 202), "
                         f"{a['stored']:,} stored, {a['answered_new']:,} answered new; "
                         f"{a['cards']:,} cards, {a['cards_twice']} posted twice, {a['grouped_cards']} for a grouped "
                         f"mention, {a['cards_missing']} lost (not posted, not queued), {a['cards_queued']} still "
                         f"queued after {a['waited_s']} s of waiting (in {a['cards_queued_channels']} channels); "
                         f"{a['messages']:,} outbox messages marked sent in the phase (cards, backlog), "
                         f"{a['posted_twice']} posted twice, {a['sent_not_posted']} marked sent but not in Slack")
        section.details.update(two_instances={"rates": rates, "cpu_ms": cpus, "accounts": accounts})
        return accounts
    finally:
        second.stop()


def _accounts(engine: Any, fake: FakeSlack, answers: list[tuple[int, float, dict[str, Any]]], sent: set[str],
              mentions_before: int, outbox_from: int) -> dict[str, int]:
    """Nothing lost or doubled: mentions against what was sent and answered, cards and outbox messages against
    the fake Slack's log, once the phase's cards are out."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT external_id, count(*) FROM mention WHERE source = 'x' "
                                 "AND external_id = ANY(:ids) GROUP BY 1"), {"ids": sorted(sent)}).all()
        total = conn.execute(text("SELECT count(*) FROM mention")).scalar_one()
        ids = [int(a["id"]) for code, _, a in answers if code == 202 and not a.get("duplicate")]
    relays = _relay_rows(engine, ids)
    with engine.connect() as conn:  # the team channels' lanes are behind the earlier parts' rows: not waited for
        wide = set(conn.execute(text("SELECT id FROM outbox WHERE id = ANY(:ids) AND channel LIKE :w"),
                                {"ids": list(relays.values()), "w": f"{WIDE}%"}).scalars())
    waited = wait_posted(fake, wide, stall=30)
    with engine.connect() as conn:
        grouped_cards = conn.execute(text(
            "SELECT count(*) FROM outbox o JOIN mention m ON m.id = o.mention_id WHERE o.kind = 'relay' "
            "AND m.state = 'grouped' AND m.id = ANY(:ids)"), {"ids": ids}).scalar_one()
        status = dict(conn.execute(text("SELECT id, status FROM outbox WHERE id = ANY(:ids)"),
                                   {"ids": list(relays.values())}).all())
        queued_in = conn.execute(text("SELECT count(DISTINCT channel) FROM outbox WHERE id = ANY(:ids) "
                                      "AND status IN ('pending', 'sending')"), {"ids": list(relays.values())}).scalar_one()
        sent_rows = set(conn.execute(text(
            "SELECT id FROM outbox WHERE id > :o AND method = 'chat.postMessage' AND status = 'sent'"),
            {"o": outbox_from}).scalars())
    posts = Counter(int(oid) for c in fake.calls("chat.postMessage") if c.ok
                    and (oid := ((c.args.get("metadata") or {}).get("event_payload") or {}).get("outbox_id")) is not None)
    stored = sum(k for _, k in rows)
    return {
        "sent": len(sent), "stored": stored, "answered_new": len(ids),
        "lost": len(sent) - len(rows), "doubled": stored - len(rows) + max(0, total - mentions_before - len(sent)),
        "answered_new_twice": max(0, len(ids) - len(sent)),
        "cards": len(relays), "cards_twice": sum(posts[o] > 1 for o in relays.values()), "grouped_cards": grouped_cards,
        # Not posted yet: still queued (a lane at Slack's pace behind the earlier parts' rows), or lost.
        "cards_queued": sum(posts[o] == 0 and status.get(o) in ("pending", "sending") for o in relays.values()),
        "cards_queued_channels": queued_in,
        "cards_missing": sum(posts[o] == 0 and status.get(o) not in ("pending", "sending") for o in relays.values()),
        "waited_s": round(waited),
        "messages": len(sent_rows), "posted_twice": sum(n > 1 for n in posts.values()),
        "sent_not_posted": len(sent_rows - set(posts)),
    }
