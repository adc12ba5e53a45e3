"""Intake's writes (bot.store.bulk): the relay's outbox id is written with the mention (never by an UPDATE
afterwards), and a database connection closed under the pool (no pre-ping any more) costs no request."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text
from sqlmodel import Session, select

from bot.intake.schema import MentionIn
from bot.store.db import make_engine
from bot.store.models import Mention, Outbox
from bot.usecases.intake import Vigie
from tests.conftest import AUTH, mention


def _statements(engine):  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("batch", [1, 7])
def test_relay_outbox_id_is_written_by_the_insert(http, runtime, batch):
    seen, stop = _statements(runtime.engine)
    try:
        bodies = [mention(100 + i, text=f"grève {i} {mention(100 + i)['text']}") for i in range(batch)]
        r = http.post("/intake/mentions", json=bodies if batch > 1 else bodies[0], headers=AUTH)
        assert r.status_code == 202, r.text
    finally:
        stop()
    assert not [s for s in seen if s.startswith("update mention")], "the mention row was updated after its insert"
    ids = [m["id"] for m in r.json()["mentions"]]
    with Session(runtime.engine) as s:
        for mid in ids:
            m = s.get(Mention, mid)
            relay = s.exec(select(Outbox).where(Outbox.kind == "relay", Outbox.mention_id == mid)).one()
            assert m is not None and m.relay_outbox_id == relay.id
            assert relay.payload["mention_id"] == mid and relay.dedupe_key == f"relay:{mid}"


def test_a_resent_batch_queues_no_second_card(http, runtime):
    bodies = [mention(300 + i) for i in range(3)]
    assert http.post("/intake/mentions", json=bodies, headers=AUTH).status_code == 202
    again = http.post("/intake/mentions", json=[*bodies, mention(310)], headers=AUTH)
    assert again.status_code == 202 and again.json()["duplicates"] == 3
    with Session(runtime.engine) as s:
        relays = s.exec(select(Outbox).where(Outbox.kind == "relay")).all()
        assert len(relays) == 4
        for row in relays:
            assert s.get(Mention, row.mention_id).relay_outbox_id == row.id  # type: ignore[union-attr]


def test_a_connection_closed_by_the_database_costs_no_request(runtime, database_url):
    """pg_terminate_backend on the pool's one connection: the next intake is stored all the same (no pre-ping:
    the dead connection is found by the first statement, the pool is invalidated, intake retries once)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend: PostgreSQL only")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)  # its own pool, no worker sharing it
    vigie = Vigie(engine=engine, protocol=runtime.protocol, clock=runtime.clock)
    admin = make_engine(database_url)
    try:
        assert not vigie.ingest([MentionIn.model_validate(mention(1))], actor="test")[0].duplicate
        with engine.connect() as conn:  # the pool's connection, given back to the pool afterwards
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
            conn.commit()
        deadline = time.monotonic() + 10
        with admin.connect() as conn:  # gone for the server before the next request
            while conn.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).first():
                assert time.monotonic() < deadline
                # pg_stat_activity is a snapshot taken once per transaction: a new one for each look, or a
                # backend that exits after the first look is seen alive until the deadline.
                conn.rollback()
                time.sleep(0.05)
        result = vigie.ingest([MentionIn.model_validate(mention(2))], actor="test")[0]
        assert not result.duplicate
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        with Session(engine) as s:
            stored = s.get(Mention, result.id)
            assert stored is not None and stored.external_id == "post-2" and stored.relay_outbox_id is not None
    finally:
        engine.dispose()
        admin.dispose()
