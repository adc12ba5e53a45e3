"""Engine, sessions and migrations. SQLite by default, PostgreSQL (psycopg 3) by URL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Arbitrary but fixed: every instance takes this PostgreSQL advisory lock while migrating, so two instances
# starting together do not run the same migration twice.
_MIGRATION_LOCK = 0x56494749  # "VIGI"
CONNECT_TIMEOUT_SECONDS = 5
T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets the outbox worker read while intake writes; synchronous=FULL makes a commit survive
            # a power cut, because an acknowledged mention must never be lost.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # Bounded waits, so a request meets a dead or unreachable database with a quick 503 (bot.http) instead
    # of hanging past its client's timeout: libpq waits forever to connect by default, the pool 30 s.
    kwargs.setdefault("pool_timeout", 10)
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, **kwargs.pop("connect_args", {})}
    # No pre-ping: it cost a `SELECT 1` round trip on every checkout, i.e. every request (issue 16). A connection
    # the database closed (a restart, pg_terminate_backend) fails its next statement instead; SQLAlchemy then
    # sees a disconnect and invalidates the whole pool, so the connections opened before it are replaced too,
    # and the use cases that can run twice retry once on a fresh connection (`retry_on_disconnect`).
    return create_engine(url, pool_pre_ping=False, connect_args=connect_args, **kwargs)


def disconnected(exc: BaseException) -> bool:
    """The error came from a connection the database had closed (SQLAlchemy has invalidated the pool)."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retry_on_disconnect(work: Callable[[], T]) -> T:
    """Run `work` (one whole transaction), and once more if its connection turned out to be closed by the
    database. Only for work that may run twice: intake is (a mention already stored is a duplicate, its card
    queued once)."""
    try:
        return work()
    except DBAPIError as exc:
        if not disconnected(exc):
            raise
    return work()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work that writes: commit on success, roll back on error.

    On SQLite the transaction starts with `BEGIN IMMEDIATE`, which takes the database's one write lock at once:
    left to itself, pysqlite begins a transaction only at the first INSERT or UPDATE, so the reads an action
    checks its rules against would run outside it, and two clicks could both pass a check that only one may
    pass. On PostgreSQL an action locks the rows it decides on (`bot.store.locks`).
    """
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (start-up and `vigie db upgrade` both call this)."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
