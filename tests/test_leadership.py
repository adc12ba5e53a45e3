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
from bot.db import make_engine
from bot.models import Reminder
from bot.scheduler import Leadership
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
            ids = [http.post("/intake/mentions", headers=AUTH, json=mention(i, text="Joli packaging")).json()
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
