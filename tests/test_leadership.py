"""Several instances on one PostgreSQL database: one leader runs the jobs, each reminder is sent once, and
when the leader dies (its connection goes, and its advisory lock with it) another one takes over."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.scheduler import Leadership
from bot.store.db import make_engine
from bot.store.models import Reminder
from tests.conftest import AUTH, drain, mention


@pytest.fixture
def postgres(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("leadership uses PostgreSQL advisory locks; set VIGIE_TEST_DATABASE_URL to run it")
    return database_url


def test_one_leader_and_a_handover_when_it_dies(postgres, engine):
    a, b = Leadership(make_engine(postgres)), Leadership(make_engine(postgres))
    assert a.acquire() is True
    assert b.acquire() is False
    assert a.acquire() is True  # still the leader
    # The leader's process dies: PostgreSQL closes its connection, which releases the lock.
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                          "AND objid = :k AND granted"), {"k": 0x56494732})
        conn.commit()
    # Termination is asynchronous: like a real instance, B tries again at each tick until the lock is free.
    deadline = time.monotonic() + 10
    while not b.acquire():
        assert time.monotonic() < deadline, "the lock was never released"
        time.sleep(0.05)
    assert a.acquire() is False  # the old leader notices it lost the lock and does not come back
    b.release()
    assert a.acquire() is True
    a.release()


def test_two_instances_sweeping_together_send_each_reminder_once(postgres, engine, slack, settings):
    clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Europe/Paris")))
    one, two = build_runtime(settings, clock=clock), build_runtime(settings, clock=clock)
    one.start()
    two.start()
    try:
        from fastapi.testclient import TestClient

        from bot.http import build_http_app

        with TestClient(build_http_app(one)) as http:
            # Ten different mentions (identical texts would be copies of one story, with one card).
            ids = [http.post("/intake/mentions", headers=AUTH, json=mention(i)).json()
                   ["mentions"][0]["id"] for i in range(10)]
        drain(one)
        clock.set(datetime(2026, 11, 23, 17, 30, tzinfo=ZoneInfo("Europe/Paris")))
        # Both instances sweep at the same moment (as if both believed they lead): the unique keys decide.
        threads = [threading.Thread(target=rt.escalation.sweep) for rt in (one, two) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        drain(one)
        drain(two)
        with Session(engine) as s:
            rows = s.exec(select(Reminder)).all()
        assert len(rows) == 3 * len(ids)  # 50 %, 100 %, +30 min for each mention, once
        reminders = [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts")]
        assert len(reminders) == 3 * len(ids)
    finally:
        one.stop()
        two.stop()


def test_killing_the_leader_process_hands_the_jobs_over(postgres, engine, slack, tmp_path):
    """Two real `vigie serve` processes with their schedulers on: SIGKILL the leader, the other one takes
    the lock and sends the remaining escalation steps, each exactly once."""
    import os
    import signal

    import httpx

    from tests.conftest import INTAKE_TOKEN, TEST_PROTOCOL
    from tests.test_restart import free_port, start_server

    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(TEST_PROTOCOL.read_text() + """sla:
  defaults:
    critical: {first_response: 1m, approved: 1h, published: 2h, round_the_clock: true}
escalation:
  critical:
    - {at: "10%", notify: [owner_or_team]}
    - {at: "50%", notify: [team_lead, community_managers]}
""")
    (tmp_path / "roster.csv").write_text((TEST_PROTOCOL.parent / "roster.csv").read_text())
    sep = "&" if "?" in postgres else "?"
    servers = {}
    for name in ("a", "b"):
        port = free_port()
        servers[name] = (start_server(f"{postgres}{sep}application_name=vigie-{name}", slack.url, port, tmp_path,
                                      VIGIE_RUN_SCHEDULER="true", VIGIE_SWEEP_SECONDS="1",
                                      VIGIE_PROTOCOL_FILE=str(protocol)), port)

    def leader() -> str | None:
        with engine.connect() as conn:
            return conn.execute(text(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted"), {"k": 0x56494732}).scalar()

    try:
        deadline = time.monotonic() + 15
        while leader() is None:
            assert time.monotonic() < deadline, "no instance became the leader"
            time.sleep(0.2)
        first = leader().removeprefix("vigie-")
        other = "b" if first == "a" else "a"
        r = httpx.post(f"http://127.0.0.1:{servers[other][1]}/intake/mentions",
                       headers={"Authorization": f"Bearer {INTAKE_TOKEN}"},
                       json=mention(1, text="Intoxication : boycott de la marque !"))
        assert r.status_code == 202
        os.kill(servers[first][0].pid, signal.SIGKILL)  # before the first step (6 s) is due
        servers[first][0].wait()
        deadline = time.monotonic() + 15
        while leader() != f"vigie-{other}":
            assert time.monotonic() < deadline, "the surviving instance did not take over"
            time.sleep(0.2)
        deadline = time.monotonic() + 60
        while True:
            with Session(engine) as s:
                steps = sorted(r.step for r in s.exec(select(Reminder)).all() if r.stage == "first_response")
            if steps == ["10%", "50%"] or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert steps == ["10%", "50%"]
        def ladder_messages() -> list:
            # The ladder's own messages (an off-hours alert may come too, depending on the real clock).
            return [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts")
                    and "hors des heures ouvrées" not in c.args["text"]
                    and ("attendue avant" in c.args["text"] or "en retard" in c.args["text"])]

        deadline = time.monotonic() + 10
        while len(ladder_messages()) < 2:
            assert time.monotonic() < deadline, "reminders not delivered"
            time.sleep(0.2)
        time.sleep(2)  # a few more sweeps: nothing is sent twice
        assert len(ladder_messages()) == 2
    finally:
        for proc, _port in servers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
