"""The audit trail: every decision is a row of `AuditEvent`, written once and never changed.

Two things live here:

- `install_append_only_guard()`: within the application, an audit row can be added but never updated or
  deleted, whether through the ORM (changing or deleting a loaded row) or through a bulk
  `UPDATE`/`DELETE` statement run by a session. A mistake is corrected by a new event, not by editing an old
  one.
- `install_database_guard(connection)`: the same rule in the database itself (a trigger on PostgreSQL and
  SQLite), so raw SQL through any connection is refused too. Installed by a migration. A PostgreSQL
  `TRUNCATE` (an administrator's act, needing the table owner's rights) is not a row change and is not
  stopped; nor is someone who can drop the trigger: that takes database permissions.
- `export_audit()`: the events of a period, as CSV or JSON Lines, for auditors and spreadsheets.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from sqlalchemy import and_, event, or_, select, text
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.orm import ORMExecuteState, Session

from bot.store.db import session_scope
from bot.store.models import AuditEvent, Mention

__all__ = ["EXPORT_COLUMNS", "AuditTrailImmutable", "export_audit", "install_append_only_guard",
           "install_database_guard", "record_refusal", "remove_database_guard"]

EXPORT_COLUMNS = ("id", "at", "actor", "action", "mention_id", "before", "after", "reason")

_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]


class AuditTrailImmutable(Exception):
    """Something tried to change or delete an audit event."""


# --- what was refused -------------------------------------------------------------------------------------


def record_refusal(engine: Engine, *, at: datetime, actor: str, action: str, reason: str,
                   mention_id: int | None = None, after: dict[str, Any] | None = None) -> None:
    """A refused attempt is a decision too: `refused.<action>`, the actor Slack signed for, the reason code,
    and what the request said it was about (`after`; a forged id is kept there, not as a reference)."""
    with session_scope(engine) as s:
        add_refusal(s, at=at, actor=actor, action=action, reason=reason, mention_id=mention_id, after=after)


def add_refusal(s: Session, *, at: datetime, actor: str, action: str, reason: str, mention_id: int | None = None,
                after: dict[str, Any] | None = None) -> None:
    """`record_refusal` in the caller's transaction (which may also queue the answer to the actor)."""
    if mention_id is not None and s.get(Mention, mention_id) is None:
        mention_id = None
    s.add(AuditEvent(at=at, actor=actor, action=f"refused.{action}", mention_id=mention_id, before=None,
                     after=after, reason=reason))


# --- append-only guard -------------------------------------------------------------------------------------


def _refuse_change(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    raise AuditTrailImmutable(
        f"audit event {target.id} cannot be changed or deleted: the audit trail is append-only "
        "(record a new event instead)"
    )


def _refuse_bulk(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and getattr(table, "name", None) == _TABLE.name:
        verb = "UPDATE" if state.is_update else "DELETE"
        raise AuditTrailImmutable(f"{verb} on {_TABLE.name} refused: the audit trail is append-only")


def install_append_only_guard() -> None:
    """Refuse updates and deletes of audit events in every session of this process. Safe to call twice."""
    for name in ("before_update", "before_delete"):
        if not event.contains(AuditEvent, name, _refuse_change):
            event.listen(AuditEvent, name, _refuse_change)
    # On the Session class: applies to every session, sqlmodel's included (a subclass).
    if not event.contains(Session, "do_orm_execute", _refuse_bulk):
        event.listen(Session, "do_orm_execute", _refuse_bulk)


# --- the same rule in the database ---------------------------------------------------------------------------

GUARD_MESSAGE = "the audit trail is append-only"
_GUARD_SQL = {
    "postgresql": [
        f"""CREATE OR REPLACE FUNCTION vigie_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '% on {_TABLE.name} refused: {GUARD_MESSAGE}', TG_OP; END $$""",
        f"DROP TRIGGER IF EXISTS vigie_audit_append_only ON {_TABLE.name}",
        f"""CREATE TRIGGER vigie_audit_append_only BEFORE UPDATE OR DELETE ON {_TABLE.name}
            FOR EACH ROW EXECUTE FUNCTION vigie_audit_append_only()""",
    ],
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS vigie_audit_no_{verb.lower()} BEFORE {verb} ON {_TABLE.name}
            BEGIN SELECT RAISE(ABORT, '{verb} on {_TABLE.name} refused: {GUARD_MESSAGE}'); END"""
        for verb in ("UPDATE", "DELETE")
    ],
}
_UNGUARD_SQL = {
    "postgresql": [f"DROP TRIGGER IF EXISTS vigie_audit_append_only ON {_TABLE.name}",
                   "DROP FUNCTION IF EXISTS vigie_audit_append_only()"],
    "sqlite": [f"DROP TRIGGER IF EXISTS vigie_audit_no_{verb}" for verb in ("update", "delete")],
}


def install_database_guard(connection: Connection) -> None:
    """Make the database refuse UPDATE and DELETE of audit rows, whoever sends them. Safe to run twice."""
    for statement in _GUARD_SQL[connection.dialect.name]:
        connection.execute(text(statement))


def remove_database_guard(connection: Connection) -> None:
    """The migration's downgrade (and what an administrator runs, knowingly, to purge old events)."""
    for statement in _UNGUARD_SQL[connection.dialect.name]:
        connection.execute(text(statement))


# --- export ------------------------------------------------------------------------------------------------


def export_audit(
    engine: Engine,
    *,
    start: datetime,
    end: datetime,
    fmt: Literal["csv", "jsonl"],
    out: TextIO,
    batch: int = 1000,
) -> int:
    """Write the events with start <= at < end, ordered by (at, id), to `out`; return how many.

    CSV: a header row, then one row per event; `at` in ISO 8601 UTC; `before` and `after` as JSON; empty
    cells for missing values. Open a file for it with newline="" (the csv module writes "\\r\\n").
    JSONL: one JSON object per line, same keys.

    Rows are read `batch` at a time (keyset pagination), each page in its own short read: memory stays flat
    and no transaction stays open while `out` is written, however slow it is.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    if end < start:
        raise ValueError("end must not be before start")
    if batch < 1:
        raise ValueError("batch must be at least 1")
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r} (csv or jsonl)")
    writer = csv.writer(out) if fmt == "csv" else None
    if writer is not None:
        writer.writerow(EXPORT_COLUMNS)
    count = 0
    for row in _rows(engine, start, end, batch):
        event = _as_dict(row)
        if writer is not None:
            writer.writerow(_csv_cells(event))
        else:
            out.write(json.dumps(event, ensure_ascii=False) + "\n")
        count += 1
    return count


def _rows(engine: Engine, start: datetime, end: datetime, batch: int) -> Iterator[Row[Any]]:
    at, id_ = _TABLE.c.at, _TABLE.c.id
    query = select(*(_TABLE.c[name] for name in EXPORT_COLUMNS)).where(at >= start, at < end)
    last: Row[Any] | None = None
    while True:
        page_query = query
        if last is not None:  # resume strictly after the last row seen, in (at, id) order
            page_query = query.where(or_(at > last.at, and_(at == last.at, id_ > last.id)))
        with engine.connect() as conn:
            page: Sequence[Row[Any]] = conn.execute(page_query.order_by(at, id_).limit(batch)).all()
        yield from page
        if len(page) < batch:
            return
        last = page[-1]


def _as_dict(row: Row[Any]) -> dict[str, Any]:
    event = dict(row._mapping)
    event["at"] = event["at"].astimezone(UTC).isoformat()
    return event


def _csv_cells(event: dict[str, Any]) -> list[Any]:
    cells = dict(event)
    for name in ("before", "after"):
        if cells[name] is not None:
            cells[name] = json.dumps(cells[name], ensure_ascii=False, sort_keys=True)
    # csv writes None as an empty cell. Text people typed (a reason, a draft) that starts like a formula is
    # prefixed with a quote, so a spreadsheet shows it instead of running it (CSV injection).
    return [_no_formula(cells[name]) for name in EXPORT_COLUMNS]


def _no_formula(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
