"""The audit trail: append-only within the application, and exported by period as CSV or JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from bot.store.audit import (
    EXPORT_COLUMNS,
    AuditTrailImmutable,
    _refuse_bulk,
    _refuse_change,
    export_audit,
    install_append_only_guard,
)
from bot.store.db import make_engine, upgrade
from bot.store.models import AuditEvent, FeedState

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/a.db")
    upgrade(engine)
    yield engine
    engine.dispose()


def add(engine: Engine, *events: AuditEvent) -> list[int]:
    with Session(engine) as s:
        s.add_all(events)
        s.commit()
        return [e.id for e in events if e.id is not None]


def ev(minutes: float, action: str = "mention.received", **kw: Any) -> AuditEvent:
    return AuditEvent(
        at=T0 + timedelta(minutes=minutes), actor=kw.pop("actor", "system"), action=action, **kw
    )


# --- append-only guard ---------------------------------------------------------------------------------------


def test_guard_refuses_orm_update_and_delete(engine: Engine) -> None:
    install_append_only_guard()
    [event_id] = add(engine, ev(0, reason="first"))
    with Session(engine) as s:
        row = s.get(AuditEvent, event_id)
        assert row is not None
        row.reason = "rewritten"
        with pytest.raises(AuditTrailImmutable, match="append-only"):
            s.commit()
    with Session(engine) as s:
        s.delete(s.get(AuditEvent, event_id))
        with pytest.raises(AuditTrailImmutable):
            s.commit()
    with Session(engine) as s:
        assert s.get(AuditEvent, event_id).reason == "first"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEvent).where(AuditEvent.id == 1).values(reason="rewritten"),  # type: ignore[arg-type]
        update(AuditEvent).values(actor="nobody"),
        delete(AuditEvent).where(AuditEvent.id == 1),  # type: ignore[arg-type]
        delete(AuditEvent),
        delete(AuditEvent.__table__),  # type: ignore[attr-defined]  # Core statement, through a session
    ],
    ids=["update-where", "update-all", "delete-where", "delete-all", "core-delete"],
)
def test_guard_refuses_bulk_statements(engine: Engine, statement: Any) -> None:
    install_append_only_guard()
    add(engine, ev(0, reason="first"))
    with Session(engine) as s, pytest.raises(AuditTrailImmutable):
        s.execute(statement)
    with Session(engine) as s:
        assert [(e.actor, e.reason) for e in s.exec(select(AuditEvent)).all()] == [("system", "first")]


def test_guard_lets_inserts_and_other_tables_through(engine: Engine) -> None:
    install_append_only_guard()
    install_append_only_guard()  # idempotent: still one listener each
    assert event.contains(AuditEvent, "before_update", _refuse_change)
    assert event.contains(AuditEvent, "before_delete", _refuse_change)
    assert event.contains(OrmSession, "do_orm_execute", _refuse_bulk)  # sqlmodel's Session derives from it
    assert list(OrmSession().dispatch.do_orm_execute).count(_refuse_bulk) == 1
    assert len(add(engine, ev(0), ev(1))) == 2
    with Session(engine) as s:
        s.execute(insert(AuditEvent).values(at=T0, actor="system", action="bulk.insert"))
        s.add(FeedState(url="https://example.org/rss"))
        s.commit()
        s.execute(update(FeedState).values(consecutive_failures=2))  # other tables are not guarded
        feed = s.get(FeedState, "https://example.org/rss")
        assert feed is not None
        feed.last_error = "timeout"
        s.commit()
        s.delete(feed)
        s.commit()
        assert len(s.exec(select(AuditEvent)).all()) == 3


# --- export --------------------------------------------------------------------------------------------------


def export(engine: Engine, fmt: str, start: datetime, end: datetime, batch: int = 1000) -> tuple[int, str]:
    out = io.StringIO(newline="")
    count = export_audit(engine, start=start, end=end, fmt=fmt, out=out, batch=batch)  # type: ignore[arg-type]
    return count, out.getvalue()


def sample(engine: Engine) -> None:
    # Inserted out of order, with a tie on `at`: the export sorts by (at, id).
    add(
        engine,
        ev(30, "draft.submitted", actor="U0CM00001", after={"text": "Bonjour ✨", "version": 1}),
        ev(-1, "mention.received"),  # before the period
        ev(0, "mention.received", reason='a "quoted", multi-line\nreason'),  # exactly at start: included
        ev(30, "mention.claimed", actor="U0CM00002", before={"owner": None}, after={"owner": "U0CM00002"}),
        ev(60, "draft.approved"),  # exactly at end: excluded
    )


def test_csv_export(engine: Engine) -> None:
    sample(engine)
    count, text = export(engine, "csv", T0, T0 + timedelta(hours=1))
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert count == len(rows) == 3
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert [r["action"] for r in rows] == ["mention.received", "draft.submitted", "mention.claimed"]
    assert [int(r["id"]) for r in rows] == [3, 1, 4]
    assert rows[0]["at"] == "2026-11-21T09:00:00+00:00"
    assert datetime.fromisoformat(rows[1]["at"]) == T0 + timedelta(minutes=30)
    assert rows[0]["reason"] == 'a "quoted", multi-line\nreason'
    assert (rows[0]["before"], rows[0]["after"], rows[0]["mention_id"]) == ("", "", "")
    assert json.loads(rows[1]["after"]) == {"text": "Bonjour ✨", "version": 1}
    assert json.loads(rows[2]["before"]) == {"owner": None}
    assert rows[2]["actor"] == "U0CM00002"


def test_jsonl_export(engine: Engine) -> None:
    sample(engine)
    count, text = export(engine, "jsonl", T0, T0 + timedelta(hours=1))
    events = [json.loads(line) for line in text.splitlines()]
    assert count == len(events) == 3 and text.endswith("\n")
    assert all(tuple(e) == EXPORT_COLUMNS for e in events)
    assert events[0] == {
        "id": 3,
        "at": "2026-11-21T09:00:00+00:00",
        "actor": "system",
        "action": "mention.received",
        "mention_id": None,
        "before": None,
        "after": None,
        "reason": 'a "quoted", multi-line\nreason',
    }
    assert events[1]["after"] == {"text": "Bonjour ✨", "version": 1}
    assert events[2]["before"] == {"owner": None}


def test_period_bounds(engine: Engine) -> None:
    sample(engine)
    paris = ZoneInfo("Europe/Paris")  # any aware datetime will do: 10:00 in Paris is 09:00 UTC
    assert (
        export(engine, "jsonl", datetime(2026, 11, 21, 10, 0, tzinfo=paris), T0 + timedelta(minutes=30))[0]
        == 1
    )
    assert export(engine, "jsonl", T0 + timedelta(minutes=30), T0 + timedelta(minutes=30))[0] == 0
    assert export(engine, "jsonl", T0 - timedelta(days=1), T0 + timedelta(days=1))[0] == 5
    count, text = export(engine, "csv", T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert count == 0 and text == ",".join(EXPORT_COLUMNS) + "\r\n"  # the header alone


def test_export_refuses_bad_arguments(engine: Engine) -> None:
    naive = datetime(2026, 11, 21, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        export(engine, "csv", naive, T0)
    with pytest.raises(ValueError, match="before start"):
        export(engine, "csv", T0, T0 - timedelta(seconds=1))
    with pytest.raises(ValueError, match="batch"):
        export(engine, "csv", T0, T0, batch=0)
    with pytest.raises(ValueError, match="csv or jsonl"):
        export(engine, "xlsx", T0, T0)


def test_ties_on_at_survive_page_boundaries(engine: Engine) -> None:
    add(engine, *(ev(i // 3) for i in range(10)))  # three events per minute
    for batch in (1, 2, 3, 4):
        _, text = export(engine, "jsonl", T0, T0 + timedelta(hours=1), batch=batch)
        assert [json.loads(line)["id"] for line in text.splitlines()] == list(range(1, 11))


def test_large_export_reads_in_small_pages(engine: Engine) -> None:
    rows = [
        {
            "at": T0 + timedelta(seconds=i // 2),
            "actor": "system",
            "action": "mention.received",
            "reason": f"n{i}",
        }
        for i in range(5000)
    ]
    with engine.begin() as conn:
        conn.execute(insert(AuditEvent), rows)
    selects: list[str] = []

    def count_selects(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "auditevent" in statement:
            selects.append(statement)

    event.listen(engine, "before_cursor_execute", count_selects)
    try:
        count, text = export(engine, "csv", T0, T0 + timedelta(days=1), batch=128)
    finally:
        event.remove(engine, "before_cursor_execute", count_selects)
    ids = [int(r["id"]) for r in csv.DictReader(io.StringIO(text, newline=""))]
    assert count == 5000 and ids == list(range(1, 5001))
    assert len(selects) == 40  # ceil(5000 / 128) pages of at most 128 rows: never the whole table at once
    assert all("LIMIT" in s for s in selects)


def test_csv_export_neutralises_spreadsheet_formulas(tmp_path):
    import csv
    import io
    from datetime import datetime, timedelta

    from bot.store.audit import export_audit
    from bot.store.db import make_engine, session_scope, upgrade
    from bot.store.models import AuditEvent

    engine = make_engine(f"sqlite:///{tmp_path}/f.db")
    upgrade(engine)
    at = datetime(2026, 11, 21, tzinfo=UTC)
    with session_scope(engine) as s:
        s.add(AuditEvent(at=at, actor="U1", action="mention.dismissed", reason='=HYPERLINK("http://evil")'))
    out = io.StringIO()
    export_audit(engine, start=at, end=at + timedelta(days=1), fmt="csv", out=out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["reason"] == "'=HYPERLINK(\"http://evil\")"
