"""Intake's writes, one short statement per kind (mentions, their relay rows in the outbox, audit events).

On PostgreSQL each kind is one `INSERT ... SELECT FROM unnest(...)` with one array parameter per column: the
statement's text is the same for one row or five hundred, so psycopg parses it once and, from its fifth use,
runs it as a server-side prepared statement (psycopg's `prepare_threshold`). SQLAlchemy's multi-row
`INSERT ... VALUES (...), (...)` made a new, long text for each batch size, which psycopg re-parsed in Python
(about 40 % of a batch, measured in BENCHMARKS.md). Values are bound as they are, without SQLAlchemy's type
processing: times are aware UTC datetimes (intake's `now`), JSON columns are dumped here.

A new mention that gets a card is written with its relay's outbox id (`relay_outbox_id`), taken from the
outbox's sequence in the same INSERT (PostgreSQL) or reserved under SQLite's write lock (the transaction
began with BEGIN IMMEDIATE, bot.store.db.session_scope): the outbox row is then inserted with that id, and the
mention row is never updated to record it (which rewrote all of its index entries).

SQLite has no arrays: it gets SQLAlchemy Core statements executed with many parameter sets, or, for a large
batch (an import's), one driver-level executemany of plain tuples (`_sqlite_params`).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, LargeBinary, func, select
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection

from bot.store.models import AuditEvent, Mention, Outbox, Story

_MENTION = Mention.__table__  # type: ignore[attr-defined]
_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
_AUDIT_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]

# (column, PostgreSQL array type); JSON columns travel as text and are cast back per element.
MENTION_COLUMNS = (
    ("source", "text"), ("external_id", "text"), ("url", "text"), ("author", "text"), ("text", "text"),
    ("published_at", "timestamptz"), ("received_at", "timestamptz"), ("language", "text"),
    ("language_detected", "bool"), ("reach", "int8"), ("tags", "json"), ("team", "text"), ("severity", "text"),
    ("reasons", "json"), ("status", "text"), ("flagged_by", "text"), ("state", "text"), ("owner", "text"),
    ("reroutes", "int4"), ("first_response_due", "timestamptz"), ("published_due", "timestamptz"),
    ("first_response_at", "timestamptz"), ("approved_at", "timestamptz"), ("published_at_reply", "timestamptz"),
    ("closed_at", "timestamptz"), ("story_id", "int4"), ("extra", "json"),
)
OUTBOX_COLUMNS = (
    ("id", "int4"), ("dedupe_key", "text"), ("kind", "text"), ("method", "text"), ("channel", "text"),
    ("payload", "json"), ("status", "text"), ("attempts", "int4"), ("created_at", "timestamptz"),
    ("next_attempt_at", "timestamptz"), ("mention_id", "int4"),
)
AUDIT_COLUMNS = (
    ("at", "timestamptz"), ("actor", "text"), ("action", "text"), ("mention_id", "int4"), ("before", "json"),
    ("after", "json"), ("reason", "text"),
)


def _unnest(table: str, columns: tuple[tuple[str, str], ...], *, extra: str = "", returning: str = "",
            conflict: bool = True) -> str:
    names = [c for c, _ in columns]
    arrays = ", ".join(f"%({c})s::{'text' if kind == 'json' else kind}[]" for c, kind in columns)
    select_list = ", ".join(f"u.{c}::json" if kind == "json" else f"u.{c}" for c, kind in columns)
    extra_names, extra_values = ("", "") if not extra else (", " + extra.split("=", 1)[0].strip(),
                                                           ", " + extra.split("=", 1)[1].strip())
    sql = (f"INSERT INTO {table} ({', '.join(names)}{extra_names}) SELECT {select_list}{extra_values} "
           f"FROM unnest({arrays}{', %(relay)s::bool[]' if extra else ''}) AS u({', '.join(names)}"
           f"{', relay' if extra else ''})")
    if conflict:
        sql += " ON CONFLICT DO NOTHING"
    return sql + (f" RETURNING {returning}" if returning else "")


# The relay's outbox id comes from the outbox's own sequence, in the same statement.
_PG_MENTIONS = _unnest("mention", MENTION_COLUMNS,
                       extra="relay_outbox_id = CASE WHEN u.relay THEN nextval('outbox_id_seq') END",
                       returning="id, source, external_id, relay_outbox_id")
_PG_OUTBOX = _unnest("outbox", OUTBOX_COLUMNS, conflict=False)
_PG_AUDIT = _unnest("auditevent", AUDIT_COLUMNS, conflict=False)


def _arrays(rows: list[dict[str, Any]], columns: tuple[tuple[str, str], ...]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, kind in columns:
        if kind == "json":
            out[name] = [None if r[name] is None else json.dumps(r[name], ensure_ascii=False, separators=(",", ":"))
                         for r in rows]
        else:
            out[name] = [r[name] for r in rows]
    return out


@cache
def _sqlite_mentions() -> Any:
    return sqlite.insert(_MENTION).on_conflict_do_nothing().returning(
        _MENTION.c.id, _MENTION.c.source, _MENTION.c.external_id, _MENTION.c.relay_outbox_id)


def insert_mentions(conn: Connection, rows: list[dict[str, Any]], relay: list[bool]) -> list[Any]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING (id, source, external_id, relay_outbox_id) of the rows
    inserted (the ones already stored, same source and external id, are left out). `relay[i]`: row i gets a
    card, so an outbox id is taken for it and written in its `relay_outbox_id`."""
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql(_PG_MENTIONS, {**_arrays(rows, MENTION_COLUMNS), "relay": relay}).all()
    # SQLite: the write lock is held (BEGIN IMMEDIATE), so nobody else takes outbox ids meanwhile.
    next_id = int(conn.execute(select(func.coalesce(func.max(_OUTBOX.c.id), 0))).scalar_one()) + 1
    if len(rows) < _SQLITE_MANY:
        params = []
        for row, wanted in zip(rows, relay, strict=True):
            params.append({**row, "relay_outbox_id": next_id if wanted else None})
            next_id += wanted
        return conn.execute(_sqlite_mentions(), params).all()
    # A large batch (an import's): one executemany of plain tuples, each value through the column type's own
    # bind processor (what SQLAlchemy would store), then the rows inserted read back by id: under the write
    # lock every id above the previous largest is one of ours (SQLite gives max(id) + 1). SQLAlchemy's
    # RETURNING path spent more on its per-row bookkeeping than SQLite on the rows.
    before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM mention").scalar_one()
    relay_ids = []
    for wanted in relay:
        relay_ids.append(next_id if wanted else None)
        next_id += wanted
    names = [c for c, _ in MENTION_COLUMNS]
    conn.exec_driver_sql(_sqlite_insert("mention", (*names, "relay_outbox_id"), ignore=True),
                         _sqlite_params(conn, _MENTION, names, rows, extra=relay_ids))
    return conn.exec_driver_sql("SELECT id, source, external_id, relay_outbox_id FROM mention WHERE id > ?",
                                (before,)).all()


_SQLITE_MANY = 50  # rows from which SQLite's executemany path pays


@cache
def _sqlite_insert(table: str, names: tuple[str, ...], *, ignore: bool = False) -> str:
    return (f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            + (" ON CONFLICT DO NOTHING" if ignore else ""))


def _sqlite_params(conn: Connection, table: Any, names: list[str], rows: list[dict[str, Any]],
                   extra: list[Any] | None = None) -> list[tuple[Any, ...]]:
    dialect = conn.dialect
    columns = []
    for name in names:
        process = table.c[name].type._cached_bind_processor(dialect)  # noqa: SLF001 - SQLAlchemy's own, cached
        columns.append([r[name] for r in rows] if process is None else [process(r[name]) for r in rows])
    if extra is not None:
        columns.append(extra)
    return list(zip(*columns, strict=True))


def insert_outbox(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Outbox rows whose ids were taken beforehand (see `insert_mentions`): a plain INSERT, so an id or a
    dedupe key already taken is an error, never a row silently left out."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_OUTBOX, _arrays(rows, OUTBOX_COLUMNS))
    else:
        conn.execute(sa_insert(_OUTBOX), rows)


_SA_AUDIT = sa_insert(_AUDIT_TABLE)


def insert_audit(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_AUDIT, _arrays(rows, AUDIT_COLUMNS))
    elif len(rows) >= _SQLITE_MANY:
        names = [c for c, _ in AUDIT_COLUMNS]
        conn.exec_driver_sql(_sqlite_insert("auditevent", tuple(names)),
                             _sqlite_params(conn, _AUDIT_TABLE, names, rows))
    else:
        conn.execute(_SA_AUDIT, rows)


# --- stories: the columns are the row's own (whatever bot.store.stories.story_row gives), typed from the table -----


def _array_type(column: Any) -> str:
    kind = column.type
    kind = getattr(kind, "impl", kind)  # a TypeDecorator (UTCDateTime) stores its implementation's type
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Integer):
        return "int8"
    if isinstance(kind, DateTime):
        return "timestamptz"
    if isinstance(kind, LargeBinary):
        return "bytea"
    return "text"


@cache
def _pg_stories(names: tuple[str, ...]) -> tuple[str, tuple[tuple[str, str], ...]]:
    table = Story.__table__  # type: ignore[attr-defined]
    columns = tuple((name, _array_type(table.c[name])) for name in names)
    sql = _unnest("story", columns, conflict=False, returning="id")
    return sql.replace(" RETURNING id", " ON CONFLICT (key) DO NOTHING RETURNING id"), columns


def insert_stories(conn: Connection, rows: list[dict[str, Any]]) -> set[int] | None:
    """New stories in one `unnest` statement on PostgreSQL (ON CONFLICT (key) DO NOTHING); the ids inserted.
    None elsewhere, or for rows that do not all have the same columns: the caller uses its own statement."""
    if not rows or conn.dialect.name != "postgresql":
        return None
    names = tuple(rows[0])
    if any(tuple(r) != names for r in rows):
        return None
    sql, columns = _pg_stories(names)
    return {int(r.id) for r in conn.exec_driver_sql(sql, _arrays(rows, columns))}
