"""The warm bench (issue 16, item 2): the real `vigie serve` on a PostgreSQL database that already holds many
mentions, 50,000 live stories (with their stored signatures) and an outbox backlog, instead of an empty one.

Seeding is set-based, in the server (`INSERT ... SELECT generate_series` for the old mentions and their sent
relay rows, one `INSERT ... SELECT FROM unnest(...)` for the live stories, whose shapes are computed here with
`bot.domain.storms`), on a database of the run's own (`vigie_warm_<random>`, dropped at the end). Then, on
that data, against the fake Slack of the test suite (tests/fakes):

- the first request after a (re)start of the server on the warm database, and its RSS once the story index
  has loaded every live story (the server's `story_index_loaded` log line);
- Slack calls per mention of the normal flow: relay, claim, draft, approve (two approvers), publish;
- intake of a mix (distinct texts, near-copies and exact copies joining live stories, re-sent duplicates),
  one mention per request from 8 client threads, as a ratio to the floor (bench/floor.py) run in the same
  database (its table filled with as many rows) with the same client, in alternating rounds;
- 8 people clicking "claim" at once (signed as Slack signs) while intake runs at half the measured rate:
  acknowledgement p50/p99, and the time from each click to the card's `chat.update` reaching the fake Slack.

The fake Slack paces chat.postMessage per channel as Slack does (the app paces itself too); chat.update is
not throttled, as the target says "when Slack is not throttling" (429s are counted anyway).
"""

from __future__ import annotations

import dataclasses
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.ack import TEAM_WORDS
from bench.common import AUTH, ROOT, SLACK_BURST, SLACK_RATE, Section, pct, wait_until
from bench.cpu import CpuMeter
from bench.intake import _healthy, _measured, throughput_single
from bench.warm_seed import BACKLOG_LANES, QUICK, TEAMS, VOCAB, Sizes, cards_in_fake, seed, story_text, warm_database
from bot.slack.ids import Action
from bot.store import db
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.slack_api import FakeSlack
from tests.slack_requests import block_action, interactive_body, signed_headers, view_submission
from tests.test_restart import free_port, start_server

__all__ = ["QUICK", "Sizes", "run"]

CM, CM2, LEGAL_LEAD, LEGAL_EXPERT = "U0CM00001", "U0CM00002", "U0LEG0001", "U0LEG0002"
# The 8 people clicking at once, each on a card of a channel where the protocol lets them claim.
CLICKERS = (("U0CM00001", "C0GENERAL1"), ("U0CM00002", "C0HR000001"), ("U0FIN0001", "C0FINANCE1"),
            ("U0FIN0002", "C0FINANCE1"), ("U0LEG0001", "C0LEGAL001"), ("U0LEG0002", "C0LEGAL001"),
            ("U0NEWBIE1", "C0LEGAL001"), ("U0DM00001", "C0GENERAL1"))
TARGETS = {"ratio": 0.7, "ack_p99_ms": 100.0, "card_p95_ms": 2000.0, "rss_mb": 250.0, "first_ms": 1000.0}


# ---------------------------------------------------------------------------- the server and its clients


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def rss_mb(self) -> float | None:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def serve(url: str, fake: FakeSlack, tmp: Path, **env: str) -> tuple[Server, float]:
    """A `vigie serve` with Slack's pace and the default lease; the seconds it took to answer /healthz."""
    port = free_port()
    started = time.perf_counter()
    proc = start_server(url, fake.url, port, tmp, VIGIE_CHANNEL_INTERVAL="1.0", VIGIE_OUTBOX_LEASE="30", **env)
    return Server(f"http://127.0.0.1:{port}", proc, tmp / f"server-{port}.log"), time.perf_counter() - started


def body(kind: str, i: int, *, run: str, old: int, targets: int) -> dict[str, object]:
    """One mention of the mix: "distinct", "near" (a near-copy of a live story), "exact" (its exact text under
    a new id) or "dup" (an old stored mention sent again: same source and id)."""
    rng = random.Random(i)
    base = {"source": "x", "url": f"https://x.example/warm/{run}/{i}", "author": f"@fan{i}",
            "published_at": "2026-11-21T09:30:00+01:00", "external_id": f"{run}-{i}"}
    if kind == "dup":
        g = 1 + rng.randrange(max(old, 1))
        return {**base, "external_id": f"warm-{g}", "text": f"Armorine sent again {g}"}
    if kind == "distinct":
        channel = TEAMS[i % 4][1]
        words = " ".join(rng.choice(VOCAB) + rng.choice("xyzw") for _ in range(16))
        return {**base, "text": f"{TEAM_WORDS[channel]} : {words} {run} {i}"}
    k = rng.randrange(targets)
    txt = story_text(k)[0]
    if kind == "near":
        words = txt.split()
        words[len(words) // 2] = f"mot{i}"
        txt = f"RT @fan{i}: " + " ".join(words)
    return {**base, "text": txt}


MIX = ("distinct",) * 8 + ("near",) * 6 + ("exact",) * 3 + ("dup",) * 3  # 40 / 30 / 15 / 15 %


def mix(n: int, start: int, **kw: Any) -> list[dict[str, object]]:
    return [body(MIX[(start + j) % len(MIX)], start + j, **kw) for j in range(n)]


def _signed(client: httpx.Client, payload: dict[str, Any]) -> tuple[int, float, float]:
    """POST an interaction as Slack does; (status, monotonic time sent, ack ms)."""
    data = interactive_body(payload)
    headers = signed_headers(SIGNING_SECRET, data)
    at = time.monotonic()
    r = client.post("/slack/events", content=data, headers=headers)
    return r.status_code, at, (time.monotonic() - at) * 1000


def _click(client: httpx.Client, action: Action, value: int, user: str, channel: str, ts: str = "1.1"
           ) -> tuple[int, float, float]:
    return _signed(client, block_action(action_id=action.value, value=str(value), user=user, channel=channel,
                                        message_ts=ts))


def _quiet(engine: Any, timeout: float = 60) -> None:
    """Wait until no outbox row outside the backlog's lanes is pending, then a moment for the fake to record."""
    def idle() -> bool:
        with engine.connect() as conn:
            return not conn.execute(text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending') "
                                         "AND channel NOT LIKE 'C0BACKLG%'")).scalar_one()
    wait_until(idle, timeout, interval=0.1)
    time.sleep(0.3)


def _relay_ids(engine: Any, ids: list[int], timeout: float) -> dict[int, tuple[str, str]]:
    def posted() -> dict[int, tuple[str, str]]:
        with engine.connect() as conn:
            return {m: (c, ts) for m, c, ts in conn.execute(text(
                "SELECT id, channel, relay_ts FROM mention WHERE id = ANY(:ids) AND relay_ts IS NOT NULL"),
                {"ids": ids})}
    if not wait_until(lambda: len(posted()) == len(ids), timeout, interval=0.2):
        raise AssertionError(f"only {len(posted())} of {len(ids)} relay cards posted")
    return posted()


def _calls(fake: FakeSlack, since: int) -> list[Any]:
    """Calls received since index `since`, the backlog's deliveries left out."""
    return [c for c in fake.calls()[since:] if not str(c.args.get("channel", "")).startswith("C0BACKLG")]


def _opened(fake: FakeSlack, before: int) -> dict[str, Any]:
    """The view of the next views.open after the first `before` ones (the app may open it after its ack)."""
    if not wait_until(lambda: len(fake.calls("views.open")) > before, 30, 0.05):
        raise AssertionError("the form was never opened")
    return fake.calls("views.open")[before].args["view"]


def flow(server: Server, fake: FakeSlack, engine: Any, section: Section) -> dict[str, list[str]]:
    """One mention through relay, claim, draft, two approvals, publish: the Slack calls of each step."""
    steps: dict[str, list[str]] = {}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        mark = len(fake.calls())

        def step(name: str) -> None:
            nonlocal mark
            _quiet(engine)
            calls = fake.calls()
            steps[name] = [c.method for c in _calls(fake, mark)]
            mark = len(calls)

        r = client.post("/intake/mentions", headers=AUTH, json={
            "source": "x", "external_id": "flow-1", "url": "https://x.example/flow/1", "author": "@client",
            "text": "Un avocat annonce un procès contre Armorine pour ses palets", "published_at":
            "2026-11-21T09:30:00+01:00"})
        mid = int(r.json()["mentions"][0]["id"])
        step("relay")
        ((channel, ts),) = _relay_ids(engine, [mid], 30).values()
        _click(client, Action.claim, mid, LEGAL_EXPERT, channel, ts)
        step("claim")
        opened = len(fake.calls("views.open"))
        _click(client, Action.draft, mid, LEGAL_EXPERT, channel, ts)
        _signed(client, view_submission(_opened(fake, opened), user=LEGAL_EXPERT, values={
            "text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.", "network": "x",
            "language": "fr", "label": "public"}))
        step("draft")
        with engine.connect() as conn:
            draft_id = conn.execute(text("SELECT max(id) FROM draft WHERE mention_id = :m"), {"m": mid}).scalar_one()
        _click(client, Action.approve, draft_id, CM, channel, ts)
        _click(client, Action.approve, draft_id, LEGAL_LEAD, channel, ts)
        step("approve")
        opened = len(fake.calls("views.open"))
        _click(client, Action.publish, draft_id, CM, channel, ts)
        _signed(client, view_submission(_opened(fake, opened), user=CM,
                                        values={"url": "https://x.example/armorine/status/99"}))
        step("publish")
        with engine.connect() as conn:
            state = conn.execute(text("SELECT state FROM mention WHERE id = :m"), {"m": mid}).scalar_one()
    for name, methods in steps.items():
        counts = ", ".join(f"{m} {n}" for m, n in sorted(
            {m: methods.count(m) for m in methods}.items()))
        section.add(f"Slack calls for one mention: {name}", len(methods), "",
                    note=(counts or "none") + (" (two approvers)" if name == "approve" else ""))
    section.add("Slack calls for one mention, relay to publish", sum(map(len, steps.values())), "",
                note=f"the mention ended {state}")
    return steps


def click_cards(server: Server, engine: Any, rounds: int, run: str) -> list[list[tuple[str, int, str, str]]]:
    """Open cards for each round's 8 clicks, posted before the load starts: [(user, mention id, channel, ts)]."""
    bodies, who = [], []
    for r in range(rounds):
        for p, (user, channel) in enumerate(CLICKERS):
            i = r * len(CLICKERS) + p
            bodies.append({"source": "x", "external_id": f"{run}-click-{i}", "url": f"https://x.example/c/{run}/{i}",
                           "author": f"@c{i}", "published_at": "2026-11-21T09:30:00+01:00",
                           "text": body("distinct", 90_000_000 + i, run=run, old=1, targets=1)["text"]
                           .replace(TEAM_WORDS[TEAMS[(90_000_000 + i) % 4][1]], TEAM_WORDS[channel], 1)})
            who.append(user)
    with httpx.Client(base_url=server.url, timeout=60) as client:
        r = client.post("/intake/mentions", headers=AUTH, json=bodies)
        r.raise_for_status()
    ids = [int(m["id"]) for m in r.json()["mentions"]]
    posted = _relay_ids(engine, ids, timeout=rounds * 3 * 1.5 + 60)
    flat = [(who[i], mid, *posted[mid]) for i, mid in enumerate(ids)]
    return [flat[r * len(CLICKERS):(r + 1) * len(CLICKERS)] for r in range(rounds)]


def intake_vs_floor(server: Server, url: str, section: Section, sizes: Sizes, tmp: Path, *, run: str, old: int
                    ) -> float:
    """The mix, one mention per request from 8 threads, against the floor on the same database; returns the
    app's median rate (its capacity for the load below)."""
    port = free_port()
    with open(tmp / f"floor-{port}.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.floor", "--port", str(port), "--database-url", url],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    floor_url = f"http://127.0.0.1:{port}"
    rows: dict[str, list[dict[str, float]]] = {"floor": [], "app": []}
    app_meter = CpuMeter(server.process.pid, url)
    floor_meter = CpuMeter(proc.pid, url)
    kw = {"old": old, "targets": sizes.copy_targets}
    try:
        if not wait_until(lambda: _healthy(floor_url) or proc.poll() is not None, 60, 0.1) or proc.poll() is not None:
            raise AssertionError((tmp / f"floor-{port}.log").read_text()[-3000:])
        for r in range(sizes.rounds):
            app_bodies = mix(sizes.mix, 10_000_000 * (r + 1), run=run, **kw)
            floor_bodies = [{**b, "external_id": f"floor-{r}-{j}"} for j, b in enumerate(app_bodies)]
            rows["floor"].append(_measured(floor_meter, sizes.mix, lambda: throughput_single(
                floor_url, "/floor/single", floor_bodies)))
            rows["app"].append(_measured(app_meter, sizes.mix, lambda: throughput_single(
                server.url, "/intake/mentions", app_bodies)))
    finally:
        app_meter.close()
        floor_meter.close()
        proc.terminate()
        proc.wait(15)
    med = lambda key, k: statistics.median(x[k] for x in rows[key])  # noqa: E731
    ratios = [a["rate"] / f["rate"] for a, f in zip(rows["app"], rows["floor"], strict=True)]
    cpu = [a["cpu_ms"] / f["cpu_ms"] for a, f in zip(rows["app"], rows["floor"], strict=True) if f["cpu_ms"]]
    n = f"{sizes.rounds} rounds of {sizes.mix} requests, median"
    section.add("Floor on the warm database, one mention per request", med("floor", "rate"), "/s",
                note=f"its table holds {old + sizes.stories:,} rows; {n}")
    section.add("Warm intake of the mix, one mention per request", med("app", "rate"), "/s",
                note=f"40 % distinct, 30 % near-copies and 15 % exact copies of live stories, 15 % re-sent; {n}")
    section.add("Warm intake / floor", statistics.median(ratios), "×", above=TARGETS["ratio"], target="≥ 0.7×",
                note="rounds: " + ", ".join(f"{x:.2f}" for x in ratios))
    section.add("Warm intake, CPU per mention", med("app", "cpu_ms"), "ms",
                note=f"server {med('app', 'server_cpu_ms'):.2f} + database {med('app', 'db_cpu_ms'):.2f} ms; "
                     f"floor {med('floor', 'cpu_ms'):.2f} ms")
    if cpu:
        section.add("Warm CPU per mention / floor's", statistics.median(cpu), "×", below=2.0 + 1e-9, target="≤ 2×")
    section.details["intake_rounds"] = rows
    return med("app", "rate")


class Load:
    """Intake at a steady `rate` (open loop: request i is due at start + i / rate) until stopped."""

    def __init__(self, server: Server, rate: float, bodies: list[dict[str, object]]):
        self.server, self.rate, self.bodies = server, rate, bodies
        self.stop_event, self.sent, self.refused = threading.Event(), 0, 0
        self._next = 0
        self._lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(4)]

    def __enter__(self) -> Load:
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(30)
        self.elapsed = time.monotonic() - self.started

    def _work(self) -> None:
        if self.rate <= 0:
            return
        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            while not self.stop_event.is_set():
                with self._lock:
                    i = self._next
                    self._next += 1
                if i >= len(self.bodies):
                    return
                delay = self.started + i / self.rate - time.monotonic()
                if delay > 0 and self.stop_event.wait(delay):
                    return
                code = client.post("/intake/mentions", headers=AUTH, json=self.bodies[i]).status_code
                with self._lock:
                    self.sent += 1
                    self.refused += code != 202


def clicks(server: Server, fake: FakeSlack, engine: Any, section: Section,
           rounds: list[list[tuple[str, int, str, str]]], *, rate: float, bodies: list[dict[str, object]]) -> None:
    """Rounds of 8 simultaneous claims while intake runs at `rate` (0: none, the control)."""
    under = rate > 0
    label = "under load" if under else "no intake running (control)"
    key = "" if under else "_control"
    acks: list[float] = []
    clicked: list[tuple[str, int, str, str, float]] = []
    bad = 0
    mark = len(fake.calls())
    with Load(server, rate, bodies) as load:
        time.sleep(2 if under else 0)  # the load settles
        for cards in rounds:
            barrier = threading.Barrier(len(cards))

            def one(card: tuple[str, int, str, str]) -> tuple[int, float, float]:
                user, mid, channel, ts = card
                with httpx.Client(base_url=server.url, timeout=30) as client:
                    payload = block_action(action_id=Action.claim.value, value=str(mid), user=user, channel=channel,
                                           message_ts=ts)
                    barrier.wait()
                    return _signed(client, payload)

            with ThreadPoolExecutor(len(cards)) as pool:
                for card, (code, at, ms) in zip(cards, pool.map(one, cards), strict=True):
                    acks.append(ms)
                    bad += code != 200
                    clicked.append((*card, at))
            time.sleep(1.5)
        # Let the card updates of the last round arrive while the load still runs.
        wait_until(lambda: False, 3)
    with engine.connect() as conn:
        owner = dict(conn.execute(text("SELECT id, owner FROM mention WHERE id = ANY(:ids)"),
                                  {"ids": [c[1] for c in clicked]}).all())
    wait_until(lambda: all(_updated(fake, c) is not None for c in clicked if owner.get(c[1]) == c[0]), 30, 0.2)
    to_card = [(u - c[4]) * 1000 for c in clicked if owner.get(c[1]) == c[0] and (u := _updated(fake, c)) is not None]
    claimed = sum(owner.get(c[1]) == c[0] for c in clicked)
    # Where the time goes: the card update's outbox row, from its commit (the click's transaction) to sent.
    with engine.connect() as conn:
        queued = [float(ms) for (ms,) in conn.execute(text(
            "SELECT extract(epoch FROM min(sent_at) - min(created_at)) * 1000 FROM outbox "
            "WHERE kind = 'card_update' AND mention_id = ANY(:ids) AND sent_at IS NOT NULL GROUP BY mention_id"),
            {"ids": [c[1] for c in clicked if owner.get(c[1]) == c[0]]})]
    throttled = sum(c.status == 429 for c in _calls(fake, mark))
    load_note = (f"intake at {load.sent / load.elapsed:.0f} /s meanwhile (half the rate measured above: "
                 f"{rate:.0f} /s asked), {load.refused} refused") if under else "no intake; the backlog is delivered"
    section.add(f"Ack of 8 people clicking claim at once, {label}, p50", pct(acks, 50), "ms")
    section.add(f"Ack of 8 people clicking claim at once, {label}, p99", pct(acks, 99), "ms",
                below=TARGETS["ack_p99_ms"], target="p99 < 100 ms",
                note=f"{len(acks)} clicks in {len(rounds)} rounds of 8; {load_note}" + (f"; {bad} not 200" if bad else ""))
    suffix = "" if under else f", {label}"
    section.add(f"Click → card updated in Slack (chat.update received){suffix}, p50", pct(to_card, 50), "ms")
    section.add(f"Click → card updated in Slack (chat.update received){suffix}, p95", pct(to_card, 95), "ms",
                below=TARGETS["card_p95_ms"], target="p95 < 2 s",
                note=f"{len(to_card)} of {claimed} claims made (of {len(clicked)} clicks); {throttled} calls "
                     f"answered 429 meanwhile")
    section.add(f"… of which in the outbox (card update row written → sent){suffix}, p50", pct(queued, 50), "ms",
                note=f"p95 {pct(queued, 95):,.0f} ms")
    section.details.update({f"ack{key}_ms": acks, f"click_to_card{key}_ms": to_card, f"outbox{key}_ms": queued})


def _updated(fake: FakeSlack, click: tuple[str, int, str, str, float]) -> float | None:
    """When the fake Slack first received a chat.update of the clicked card after the click."""
    _, _, channel, ts, at = click
    times = [c.at for c in fake.calls("chat.update") if c.ok and c.args.get("ts") == ts and c.at >= at]
    return min(times) if times else None


def _loaded(log: Path) -> str | None:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return None
    return next((line for line in lines if "story_index_loaded" in line), None)


def run(admin_url: str, section: Section, tmp: Path, sizes: Sizes) -> None:
    """Seed a warm database, then measure on it (see the module's docstring)."""
    stories = min(sizes.stories, sizes.mentions // 2)
    sizes = dataclasses.replace(sizes, stories=stories, copy_targets=min(sizes.copy_targets, stories))
    now = datetime.now(UTC)
    run_id = uuid.uuid4().hex[:6]
    old = sizes.mentions - sizes.stories
    with warm_database(admin_url) as url:
        section.details.setdefault("databases", []).append(make_url(url).database)  # all dropped at the end
        took = seed(url, sizes, now)
        section.add("Seeding the warm database", sum(took.values()), "s",
                    note=f"{sizes.mentions:,} mentions, {sizes.stories:,} live stories with signatures, "
                         f"{sizes.backlog:,} pending outbox rows in {BACKLOG_LANES} channels; "
                         + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
        fake = FakeSlack(token=BOT_TOKEN).start()
        fake.rate_limit(SLACK_RATE, burst=SLACK_BURST)  # chat.postMessage per channel; chat.update not throttled
        for user in {u for u, _ in CLICKERS} | {CM, CM2, LEGAL_LEAD, LEGAL_EXPERT}:
            fake.add_user(user, name=user, locale="fr-FR")
        cards_in_fake(url, fake, list(range(old + 1, old + 1 + sizes.copy_targets)))
        engine = db.make_engine(url)
        server, healthy = serve(url, fake, tmp)
        try:
            started = time.perf_counter()
            with httpx.Client(base_url=server.url, timeout=60) as client:
                r = client.post("/intake/mentions", headers=AUTH,
                                json=body("near", 1, run=run_id, old=old, targets=sizes.copy_targets))
            first = (time.perf_counter() - started) * 1000
            joined = r.status_code == 202 and r.json()["mentions"][0].get("status") != "relayed"
            section.add(f"First request after a restart with {sizes.stories:,} live stories", first, "ms",
                        below=TARGETS["first_ms"], target="< 1 s",
                        note=f"a near-copy of a live story (answered {r.status_code}); the process answered "
                             f"/healthz {healthy:.1f} s after it was started")
            if not wait_until(lambda: _loaded(server.log) is not None, 300, 0.5):
                raise AssertionError("the story index never said it had loaded")
            time.sleep(1)
            section.add(f"Server RSS with {sizes.stories:,} live stories loaded", server.rss_mb(), "MB",
                        below=TARGETS["rss_mb"] + 1e-9, target="≤ 250 MB",
                        note="/proc/<pid>/status VmRSS after `story_index_loaded`: "
                             + _loaded(server.log).split("story_index_loaded", 1)[1][:120].strip())  # type: ignore[union-attr]
            flow(server, fake, engine, section)
            rounds = click_cards(server, engine, sizes.control_rounds + sizes.click_rounds, run_id)
            clicks(server, fake, engine, section, rounds[:sizes.control_rounds], rate=0, bodies=[])
            capacity = intake_vs_floor(server, url, section, sizes, tmp, run=run_id, old=old)
            load_bodies = mix(int(capacity * 120) + 100, 50_000_000, run=run_id, old=old,
                              targets=sizes.copy_targets)
            clicks(server, fake, engine, section, rounds[sizes.control_rounds:], rate=capacity / 2, bodies=load_bodies)
            with engine.connect() as conn:
                counts = dict(conn.execute(text("SELECT state = 'grouped', count(*) FROM mention "
                                                "WHERE id > :m GROUP BY 1"), {"m": old + sizes.stories}).all())
                pending = conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'pending'")).scalar_one()
            section.notes.append(
                f"Mentions stored by this run: {counts.get(False, 0):,} with a card, {counts.get(True, 0):,} "
                f"grouped into stories; outbox rows still pending at the end: {pending:,} (the backlog's channels "
                f"and the team channels at Slack's one message a second). The first request joined its story: {joined}.")
            section.details["seed_seconds"] = took
            more(admin_url, url, server, fake, engine, section, tmp, sizes, capacity=capacity, run=run_id, old=old)
        finally:
            server.stop()
            engine.dispose()
            fake.stop()


def more(admin_url: str, url: str, server: Server, fake: FakeSlack, engine: Any, section: Section, tmp: Path,
         sizes: Sizes, *, capacity: float, run: str, old: int) -> None:
    """bench/warm_more.py on the same data: `vigie import` beside this server, then (restarted with channels
    enough for intake's cards) relay latency at half capacity, then a second instance beside it."""
    from bench import warm_more  # it imports this module

    kw = {"run": run, "old": old, "targets": sizes.copy_targets}
    warm_more.import_rates(admin_url, url, section, tmp, rows=sizes.import_rows, rounds=sizes.rounds)
    server.stop()
    protocol = warm_more.wide_protocol(tmp, sizes.wide_channels)
    wide, _ = serve(url, fake, tmp, VIGIE_PROTOCOL_FILE=str(protocol))
    try:
        warm_more.started(wide, run, sizes.wide_channels)
        warm_more.relay_under_load(wide, fake, engine, section, rate=capacity / 2, seconds=sizes.relay_seconds,
                                   channels=sizes.wide_channels, **kw)
        warm_more.two_instances(wide, url, fake, engine, section, tmp, protocol=protocol, rounds=sizes.rounds,
                                n=sizes.mix, channels=sizes.wide_channels, **kw)
    finally:
        wide.stop()
