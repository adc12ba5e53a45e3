"""bench/warm.py must not rot: the warm part runs here at a tiny size (2,000 mentions) on the real app. It seeds
a PostgreSQL database of its own (set-based SQL, arrays), so it runs on PostgreSQL only."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import create_engine, text

from bench import warm
from bench.common import Section
from tests import dbutil


def _databases(admin: str) -> set[str]:
    engine = create_engine(admin)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'vigie_warm_%'")).scalars())
    finally:
        engine.dispose()


def test_the_warm_bench_runs(tmp_path):
    admin = dbutil.postgres_admin_url()
    if admin is None:
        pytest.skip("the warm bench seeds PostgreSQL with generate_series and arrays: set VIGIE_TEST_DATABASE_URL")
    section = Section("warm")
    sizes = dataclasses.replace(warm.QUICK, mix=30, click_rounds=1, backlog=100, import_rows=200)
    warm.run(admin, section, tmp_path, sizes)
    figures = {f.name: f for f in section.figures}

    # The warm database and the import's empty ones, each of its own name, are dropped at the end (other runs'
    # databases of the same prefix may come and go meanwhile: only this run's are looked for).
    made = section.details["databases"]
    assert len(made) == len(set(made)) == 2 and all(n.startswith("vigie_warm_") for n in made)
    assert not set(made) & _databases(admin), "the run's databases are dropped at the end"
    first = figures["First request after a restart with 500 live stories"]
    assert first.value is not None and first.value > 0
    assert "The first request joined its story: True" in section.notes[0]
    assert figures["Server RSS with 500 live stories loaded"].value > 0
    assert "stories=500" in figures["Server RSS with 500 live stories loaded"].note
    # The normal flow reached its end, its relay is one message, and each step made Slack calls.
    assert "ended published" in figures["Slack calls for one mention, relay to publish"].note
    assert figures["Slack calls for one mention: relay"].value == 1
    for step in ("claim", "draft", "approve", "publish"):
        assert figures[f"Slack calls for one mention: {step}"].value >= 1
    assert figures["Warm intake / floor"].value > 0 and figures["Floor on the warm database, one mention per request"].value > 0
    # 8 people clicked at once; the 7 the protocol lets claim got their card updated, each timed.
    assert len(section.details["ack_ms"]) == 8
    assert len(section.details["click_to_card_ms"]) == 7
    assert all(ms > 0 for ms in section.details["click_to_card_ms"])
    # The same clicks with no intake running, the control the figures under load are read against.
    assert len(section.details["ack_control_ms"]) == 8 and len(section.details["click_to_card_control_ms"]) == 7
    # The card update's outbox row was found for every claim: the part of the wait spent in the outbox.
    assert len(section.details["outbox_ms"]) == 7 and all(ms >= 0 for ms in section.details["outbox_ms"])
    assert "7 of 7 claims made (of 8 clicks)" in figures["Click → card updated in Slack (chat.update received), p95"].note

    # `vigie import --history` on the warm database, beside the same file into an empty one (both databases of
    # the run's own, dropped: checked above).
    assert len(section.details["import"]["warm"]) == len(section.details["import"]["empty"]) == 1
    assert figures["`vigie import --history` on the warm database"].value > 0
    assert figures["Import warm / empty"].value > 0
    assert section.details["import"]["stored_warm"] == [200]  # every row of the export stored in the warm database
    assert "0 lines with errors" in figures["Import warm / empty"].note
    # Relay latency while intake runs at half its rate: every distinct mention's card reached the fake Slack.
    relay = figures["Relay latency under load (202 → card accepted by Slack), p95"]
    cards = len(section.details["relay_under_load_ms"])
    assert cards > 0 and relay.note.startswith(f"{cards} of {cards} cards posted")
    assert all(ms > 0 for ms in section.details["relay_under_load_ms"])
    # Two instances on the warm database: nothing lost or doubled, every card and message posted once.
    accounts = section.details["two_instances"]["accounts"]
    assert accounts["sent"] > 0 and accounts["stored"] == accounts["answered_new"] == accounts["sent"]
    assert accounts["cards"] > 0 and accounts["messages"] >= accounts["cards"]
    wrong = ("lost", "doubled", "answered_new_twice", "cards_twice", "grouped_cards", "cards_missing", "posted_twice",
             "sent_not_posted", "requests_failed")  # (a card still queued in a team channel's lane, at Slack's pace, is not lost)
    assert {k: accounts[k] for k in wrong} == dict.fromkeys(wrong, 0)
    assert figures["Two instances: mentions or messages lost or doubled"].value == 0
    # What the outbox delivered meanwhile is counted against what intake queued (not asserted: it is the figure).
    assert section.details["relay_load"]["outbox_rows_queued"] > 0 and section.details["relay_load"]["seconds"] > 0
    assert figures["Two instances / one"].value > 0
