"""Test databases: a SQLite file by default, a fresh PostgreSQL database when VIGIE_TEST_DATABASE_URL is set.

Each pytest-xdist worker gets its own database, migrated once; tests start from empty tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bot.config import Settings

TEST_DB_ENV = "VIGIE_TEST_DATABASE_URL"


def postgres_admin_url() -> str | None:
    raw = os.environ.get(TEST_DB_ENV)
    if not raw:
        return None
    # Normalise the same way the application does (postgresql:// -> psycopg 3 driver).
    return Settings.model_validate({"DATABASE_URL": raw}).database_url


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    admin = postgres_admin_url()
    if admin is None:
        yield f"sqlite:///{tmp_dir / f'vigie-{uuid.uuid4().hex[:8]}.db'}"
        return
    name = f"vigie_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin_engine.dispose()


def empty_tables(engine: Engine) -> None:
    from sqlmodel import SQLModel

    import bot.store.models  # noqa: F401

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # The audit trail refuses DELETE (bot.store.audit's database guard): lift it for the wipe, then restore.
            from bot.store.audit import install_database_guard, remove_database_guard

            remove_database_guard(conn)
            for table in reversed(SQLModel.metadata.sorted_tables):
                conn.execute(table.delete())
            install_database_guard(conn)
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None


def _has_sqlite_sequence(conn) -> bool:  # type: ignore[no-untyped-def]
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None
