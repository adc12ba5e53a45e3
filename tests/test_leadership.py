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


# pg_locks lists the whole cluster's locks: without this, a test would see (or kill) the leader of another run's
# database on the same server (parallel workers, other people's runs), and lose its own leader to another's kill.
THIS_DATABASE = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"


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
                          "AND objid = :k AND granted AND " + THIS_DATABASE), {"k": 0x56494732})
        conn.commit()
    # Termination is asynchronous: like a real instance, B tries again at each tick until the lock is free.
    deadline = time.monotonic() + 60  # generous: a loaded machine; only a lock that never goes waits this long
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
        drain(one, timeout=120)  # generous: ten cards through the fake Slack on a loaded machine
        clock.set(datetime(2026, 11, 23, 17, 30, tzinfo=ZoneInfo("Europe/Paris")))
        # Both instances sweep at the same moment (as if both believed they lead): the unique keys decide.
        threads = [threading.Thread(target=rt.escalation.sweep) for rt in (one, two) for _ in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        drain(one, timeout=120)
        drain(two, timeout=120)
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
    import subprocess

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

    def leader() -> tuple[str, object] | None:
        """The lock holder's application name, and when its lock connection last ran a query (each tick of its
        jobs checks the lock on that connection: a new value means a new tick)."""
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT a.application_name, a.query_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted AND l." + THIS_DATABASE),
                {"k": 0x56494732}).first()
        return None if row is None else (row[0], row[1])

    def steps() -> list[str]:
        with Session(engine) as s:
            return sorted(r.step for r in s.exec(select(Reminder)).all() if r.stage == "first_response")

    def ladder_messages() -> list:
        # The ladder's own messages (an off-hours alert may come too, depending on the real clock).
        return [c for c in slack.calls("chat.postMessage") if c.args.get("thread_ts")
                and "hors des heures ouvrées" not in c.args["text"]
                and ("attendue avant" in c.args["text"] or "en retard" in c.args["text"])]

    def wait_for(condition, what: str, timeout: float) -> None:
        # Generous: two servers, their schedulers and PostgreSQL share a loaded 2-core machine. The behaviour
        # under test is "eventually, and exactly once"; only a broken handover waits this long.
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, what
            time.sleep(0.2)

    try:
        wait_for(lambda: leader() is not None, "no instance became the leader", 120)
        first = leader()[0].removeprefix("vigie-")  # type: ignore[index]
        other = "b" if first == "a" else "a"

        def refused() -> bool:
            # The other instance's jobs have run at least once (each run asks for the lock first: refused, as the
            # leader holds it). Its log (INFO, as `vigie serve` runs) is where that is seen from outside.
            log = (tmp_path / f"server-{servers[other][1]}.log").read_text(errors="replace")
            return "executed successfully" in log and "leadership_acquired" not in log

        # So the handover is a follower trying again, not just the first try of an instance that came up late.
        deadline = time.monotonic() + 120
        while not refused():
            assert time.monotonic() < deadline, "the other instance never ran its jobs as a follower"
            time.sleep(0.2)
        r = httpx.post(f"http://127.0.0.1:{servers[other][1]}/intake/mentions",
                       headers={"Authorization": f"Bearer {INTAKE_TOKEN}"},
                       json=mention(1, text="Intoxication : boycott de la marque !"), timeout=60)
        assert r.status_code == 202
        os.kill(servers[first][0].pid, signal.SIGKILL)  # before the first step (6 s) is due, as a rule
        servers[first][0].wait()
        # Whatever the load, the second step (30 s) was not due yet: at least that one is the survivor's.
        assert "50%" not in steps()
        wait_for(lambda: (leader() or ("",))[0] == f"vigie-{other}", "the surviving instance did not take over",
                 120)
        wait_for(lambda: steps() == ["10%", "50%"], "the steps were not all sent", 180)
        wait_for(lambda: len(ladder_messages()) >= 2, "reminders not delivered", 120)
        # A few more ticks of the survivor's jobs (seen on its lock connection; a tick starts only once the one
        # before it is over): whatever its sweeps and its outbox worker do next, nothing is sent twice.
        ticks = {leader()}
        deadline = time.monotonic() + 120
        while len(ticks) < 4:
            assert time.monotonic() < deadline, "the survivor stopped ticking"
            time.sleep(0.2)
            ticks.add(leader())
        assert len(ladder_messages()) == 2
        assert steps() == ["10%", "50%"]
    finally:
        for proc, _port in servers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
