"""Three `vigie serve` processes on one PostgreSQL database, one fake Slack enforcing one message per second
per channel (429 + Retry-After beyond): intake spread over the three, escalation steps due while they run.
Every mention is relayed exactly once, each escalation step is sent once, and the messages Slack recorded
match the outbox rows one for one: nothing duplicated, nothing lost, no 429 left unhandled.
"""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import Session, select

from bot.store.models import Mention, Outbox, Reminder
from tests.conftest import INTAKE_TOKEN, TEST_PROTOCOL, mention
from tests.test_restart import free_port, start_server

TEAMS = 10  # one channel each: Slack's pace is per channel, so more channels make the test shorter
CRITICAL = 3  # mentions with a crisis word: they get a one-minute SLA whose steps fall due during the test


def write_protocol(tmp: Path) -> Path:
    protocol = yaml.safe_load(TEST_PROTOCOL.read_text())
    for n in range(TEAMS):
        protocol["teams"][f"t{n}"] = {"name": f"Team {n}", "channel": f"C0SCALE{n:03d}"}
        protocol["routing"].append({"team": f"t{n}", "keywords": [f"sujet{n}"]})
    protocol["sla"] = {"defaults": {"critical": {"first_response": "1m", "approved": "1h", "published": "2h",
                                                 "round_the_clock": True}}}
    protocol["escalation"] = {"critical": [{"at": "5%", "notify": ["owner_or_team"]},
                                           {"at": "10%", "notify": ["team_lead", "community_managers"]}]}
    (tmp / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())
    path = tmp / "protocol.yaml"
    path.write_text(yaml.safe_dump(protocol, allow_unicode=True))
    return path


def bodies(count: int) -> list[dict]:
    out = []
    for i in range(count):
        cue = " boycott !" if i < CRITICAL else ""
        out.append(mention(i, text=f"{mention(i)['text']} sujet{i % TEAMS}{cue}"))
    return out


def send_spread(ports: list[int], items: list[dict]) -> list[str]:
    """Four clients, round-robin over the instances; every fourth request is a batch of 10."""
    accepted: list[str] = []
    chunks = []
    rest = list(items)
    for n in itertools.count():
        if not rest:
            break
        size = 10 if n % 4 == 3 else 1
        chunks.append(rest[:size])
        rest = rest[size:]
    lock = threading.Lock()
    work = iter(enumerate(chunks))

    def client() -> None:
        with httpx.Client(timeout=10) as http:
            for n, chunk in work:
                port = ports[n % len(ports)]
                r = http.post(f"http://127.0.0.1:{port}/intake/mentions", json=chunk if len(chunk) > 1 else chunk[0],
                              headers={"Authorization": f"Bearer {INTAKE_TOKEN}"})
                assert r.status_code == 202, r.text
                with lock:
                    accepted.extend(b["external_id"] for b in chunk)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return accepted


def run_three_instances(count: int, database_url: str, engine, slack, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    if not database_url.startswith("postgresql"):
        pytest.skip("several instances need PostgreSQL (row locks, advisory lock); set VIGIE_TEST_DATABASE_URL")
    slack.rate_limit(1.0)  # Slack: about one message per second per channel, 429 + Retry-After beyond
    protocol = write_protocol(tmp_path)
    servers = []
    try:
        def start(port: int) -> None:  # the three start together, racing for the migration lock
            servers.append((start_server(database_url, slack.url, port, tmp_path, VIGIE_PROTOCOL_FILE=str(protocol),
                                         VIGIE_RUN_SCHEDULER="true", VIGIE_SWEEP_SECONDS="1",
                                         VIGIE_CHANNEL_INTERVAL="1.0"), port))

        starting = [threading.Thread(target=start, args=(free_port(),)) for _ in range(3)]
        for th in starting:
            th.start()
        for th in starting:
            th.join()
        assert len(servers) == 3, "an instance did not start (see server-*.log)"
        accepted = send_spread([port for _, port in servers], bodies(count))
        assert len(accepted) == count

        # Wait for the escalation steps (3 s and 6 s after intake) and for the outbox to empty.
        deadline = time.monotonic() + 60 + count / TEAMS * 2
        while True:
            with Session(engine) as s:
                # (an off-hours alert may come too, depending on the real clock: it is checked below with the rest)
                steps = s.exec(select(Reminder).where(Reminder.stage == "first_response")).all()
                busy = s.exec(select(Outbox).where(Outbox.status.in_(["pending", "sending"]))).all()  # type: ignore[attr-defined]
            if len(steps) >= 2 * CRITICAL and not busy:
                break
            assert time.monotonic() < deadline, f"{len(steps)} steps, {len(busy)} deliveries still queued"
            time.sleep(0.5)
        time.sleep(2)  # a few more sweeps on every instance: nothing more may go out
        for proc, _ in servers:
            assert proc.poll() is None, "an instance died"
    finally:
        for proc, _ in servers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, _ in servers:
            proc.wait(10)

    with Session(engine) as s:
        mentions = s.exec(select(Mention)).all()
        rows = s.exec(select(Outbox)).all()
        steps = s.exec(select(Reminder).where(Reminder.stage == "first_response")).all()
    assert sorted(m.external_id for m in mentions) == sorted(accepted)  # stored once each
    assert all(m.status == "relayed" and m.relay_ts for m in mentions), "a mention was not relayed"
    assert Counter((r.mention_id, r.stage, r.step) for r in steps) == Counter(
        {(m.id, "first_response", step): 1 for m in mentions if m.severity == "critical" for step in ("5%", "10%")})
    assert {r.status for r in rows} == {"sent"}, Counter(r.status for r in rows)

    # Slack's side: each outbox message posted exactly once, and nothing posted that the outbox does not hold.
    posted = Counter(c.args["metadata"]["event_payload"]["outbox_id"] for c in slack.calls("chat.postMessage")
                     if c.ok and isinstance(c.args.get("metadata"), dict))
    assert {k: n for k, n in posted.items() if n > 1} == {}, "a message was posted twice"
    assert set(posted) == {r.id for r in rows if r.method == "chat.postMessage"}, "lost or stray messages"
    relays = {r.mention_id: r.ts for r in rows if r.kind == "relay"}
    assert {m.id: m.relay_ts for m in mentions} == relays
    # Whatever 429s the limiter gave (the instances pace each channel on their own clocks, so a few happen),
    # every row was still sent exactly once, and no call was left hanging.
    unanswered = [c for c in slack.calls("chat.postMessage") if c.status is None]
    assert unanswered == []


def test_three_instances_short(database_url, engine, slack, tmp_path):
    run_three_instances(40, database_url, engine, slack, tmp_path)


@pytest.mark.slow
def test_three_instances_300_mentions(database_url, engine, slack, tmp_path):
    run_three_instances(300, database_url, engine, slack, tmp_path)
