"""APScheduler wiring only: jobs call services. One leader at a time runs them.

On PostgreSQL the leader is the instance holding a session-level advisory lock on a connection of its own;
the others try again at every tick, so when the leader dies (its connection closes, the lock goes with it)
another one takes over within a tick. Jobs are sweeps over stored state, so a handover or a restart
catches up by itself. SQLite means a single instance: it is always the leader.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError

log = structlog.get_logger(__name__)
LEADER_LOCK = 0x56494732  # "VIG2": distinct from the migration lock


class Leadership:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def is_leader(self) -> bool:
        return self._conn is not None or self.engine.dialect.name != "postgresql"

    def acquire(self) -> bool:
        """Am I the leader now? Takes the lock if it is free; checks that a held lock is still alive."""
        if self.engine.dialect.name != "postgresql":
            return True
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    return True
                except Exception:  # noqa: BLE001 - whatever broke the connection, the lock is gone with it
                    log.warning("leadership_lost")
                    self._drop()
            try:
                conn = self.engine.connect()
            except (OperationalError, InterfaceError) as exc:
                # The database is down or restarting: nobody can lead; try again at the next tick.
                log.warning("leadership_unavailable", error=type(exc).__name__)
                return False
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK}).scalar())
                conn.commit()
            except (OperationalError, InterfaceError) as exc:
                conn.invalidate()
                conn.close()
                log.warning("leadership_unavailable", error=type(exc).__name__)
                return False
            if got:
                self._conn = conn
                log.info("leadership_acquired")
            else:
                conn.close()
            return got

    def release(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
                    self._conn.commit()
                except Exception:  # noqa: BLE001, S110 - closing the connection below releases it anyway
                    pass
                self._drop()

    def _drop(self) -> None:
        try:
            self._conn.invalidate()  # type: ignore[union-attr]  # never return a lock-holding connection to the pool
            self._conn.close()  # type: ignore[union-attr]
        finally:
            self._conn = None


class Jobs:
    def __init__(self, leadership: Leadership):
        self.leadership = leadership
        self.scheduler = BackgroundScheduler(timezone="UTC")

    def every(self, seconds: float, name: str, job: Callable[[], object]) -> None:
        def run() -> None:
            if not self.leadership.acquire():
                return
            try:
                job()
            except Exception:  # one failing run must not stop the schedule
                log.exception("job_failed", job=name)

        self.scheduler.add_job(run, "interval", seconds=seconds, id=name, max_instances=1, coalesce=True)

    def start(self) -> None:
        self.scheduler.start()

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.leadership.release()
