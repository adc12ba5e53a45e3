"""The outbox under a backlog: the lanes' heads are read by index seeks (their cost follows the number of
lanes, not of rows) and delivery stays FIFO per channel; a direct message in doubt is looked for in the DM's
history (not posted twice); the doorbell's rings are coalesced."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.outbox.queue import lane_heads, outbox_row
from bot.outbox.worker import OutboxWorker
from bot.slack.gateway import SlackGateway
from bot.store.models import Outbox
from tests.conftest import BOT_TOKEN

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CHANNELS = [f"C0LANE{i:04d}" for i in range(8)]


@pytest.fixture
def clock():
    return ManualClock(T0)


def _gateway(slack, timeout: float = 2) -> SlackGateway:
    return SlackGateway(token=BOT_TOKEN, base_url=slack.url, timeout=timeout)


def _insert(engine, rows) -> None:
    with engine.begin() as conn:
        conn.execute(Outbox.__table__.insert(), rows)  # type: ignore[attr-defined]


def _heads(engine) -> list[int]:
    with Session(engine) as s:
        heads = lane_heads(engine.dialect.name).subquery()
        return sorted(s.exec(select(heads.c.id)).all())


def test_lane_heads_are_the_oldest_undelivered_row_of_each_channel(engine, clock):
    now = clock.now()
    statuses = ["sent", "failed", "sending", "pending", "pending"]
    _insert(engine, [outbox_row(kind="n", method="chat.postMessage", args={"channel": ch, "text": "x"}, now=now)
                     | {"status": statuses[i % len(statuses)]}
                     for i in range(200) for ch in CHANNELS[i % 3:i % 3 + 1]])
    with Session(engine) as s:
        live = s.exec(select(Outbox.channel, Outbox.id).where(col(Outbox.status).in_(["pending", "sending"]))).all()
    expected = sorted({ch: min(i for c, i in live if c == ch) for ch, _ in live}.values())
    assert _heads(engine) == expected and len(expected) == 3


def test_a_backlog_of_thousands_is_delivered_in_order_per_channel(engine, slack, clock):
    now = clock.now()
    # Delivered history first (lower ids), then the backlog, interleaved across channels.
    _insert(engine, [outbox_row(kind="n", method="chat.postMessage", now=now,
                                args={"channel": CHANNELS[i % 3], "text": "old"}) | {"status": "sent"}
                     for i in range(1000)])
    rng = random.Random(5)
    backlog = [(rng.choice(CHANNELS), n) for n in range(2000)]
    _insert(engine, [outbox_row(kind="n", method="chat.postMessage", now=now,
                                args={"channel": ch, "text": f"{ch}:{n}"}) for ch, n in backlog])
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack), clock=clock, channel_interval=0.0,
                          rng=random.Random(1))
    for _ in range(4000):
        if not worker.run_once():
            break
    sent = [c.args["text"] for c in slack.calls("chat.postMessage")]
    assert len(sent) == len(backlog)
    for ch in CHANNELS:
        mine = [int(text.split(":")[1]) for text in sent if text.startswith(f"{ch}:")]
        assert mine == sorted(mine) == [n for c, n in backlog if c == ch]
    assert _heads(engine) == []


def test_a_direct_message_in_doubt_is_looked_for_in_the_dm_not_posted_twice(engine, slack, clock):
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack, timeout=1), clock=clock, channel_interval=1.0,
                          rng=random.Random(7))
    slack.hang_next("chat.postMessage", 1.6, carried_out=True)  # Slack posts it; the client has given up
    _insert(engine, [outbox_row(kind="notice", method="chat.postMessage", now=clock.now(),
                                args={"channel": "U0CM00001", "text": "a notice"})])
    worker.run_once()
    with Session(engine) as s:
        [row] = s.exec(select(Outbox)).all()
    assert row.status == "pending" and row.last_error == "in doubt: timeout"
    slack.wait_for("chat.postMessage")
    clock.set(row.next_attempt_at)
    worker.run_once()
    assert worker.stats.reconciled == 1
    assert len(slack.calls("chat.postMessage")) == 1  # found in the DM's history, not posted again
    [opened] = slack.calls("conversations.open")
    [history] = slack.calls("conversations.history")
    assert opened.args["users"] == "U0CM00001" and history.args["channel"].startswith("D")
    with Session(engine) as s:
        [row] = s.exec(select(Outbox)).all()
    assert row.status == "sent" and row.ts == slack.messages(history.args["channel"])[0]["ts"]


def test_the_doorbell_rings_of_a_burst_make_a_few_passes(engine, slack, clock):
    bell = threading.Event()
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack), clock=clock, doorbell=bell)
    worker.start()
    try:
        time.sleep(0.2)
        before = worker.stats.passes
        for _ in range(100):  # a commit every 2 ms, each ringing
            bell.set()
            time.sleep(0.002)
        time.sleep(0.1)
        passes = worker.stats.passes - before
    finally:
        worker.stop()
    # Each ring would make a pass of its own; coalesced, a pass takes the rings of the next 20 ms.
    assert passes <= 25, passes


def test_pace_next_head_reads_the_lane_by_its_index(engine, clock):
    """The next row of a lane is the one after the sent head in that lane, whatever the backlog elsewhere."""
    from bot.outbox.queue import pace_next_head

    now = clock.now()
    _insert(engine, [outbox_row(kind="n", method="chat.postMessage", now=now, args={"channel": ch, "text": "x"})
                     for _ in range(50) for ch in CHANNELS[:2]])
    with Session(engine) as s:
        ids = s.exec(select(Outbox.id).where(Outbox.channel == CHANNELS[0]).order_by(Outbox.id)).all()
        pace_next_head(s, lane=CHANNELS[0], after=ids[0], ready=now + timedelta(seconds=1))
        s.commit()
        pushed = s.exec(select(Outbox.id).where(Outbox.next_attempt_at > now)).all()
    assert pushed == [ids[1]]
