"""The per-channel pace is shared through the database (issue #6, items 3 and 4): a worker that never saw a
channel still waits for the pace another one set, and two workers on one PostgreSQL database, racing for the
same rows (SKIP LOCKED), keep a channel at one message a second with no 429 left unhandled."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock, SystemClock
from bot.outbox.queue import OutboxWorker
from bot.slack.gateway import SlackGateway
from bot.store.db import session_scope
from bot.store.models import Outbox
from bot.usecases.intake import enqueue
from tests.conftest import BOT_TOKEN

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
FINANCE, HR = "C0FINANCE1", "C0HR000001"


def new_worker(engine, slack, clock):
    gateway = SlackGateway(token=BOT_TOKEN, base_url=slack.url, timeout=2)
    return OutboxWorker(engine=engine, gateway=gateway, clock=clock, channel_interval=1.0, rng=random.Random())


def post(engine, now, channel, text):
    with session_scope(engine) as s:
        enqueue(s, kind="notice", method="chat.postMessage", now=now, args={"channel": channel, "text": text})


def statuses(engine):
    with Session(engine) as s:
        return Counter(s.exec(select(Outbox.status)).all())


def test_a_worker_that_never_saw_the_channel_keeps_its_pace(engine, slack):
    clock = ManualClock(T0)
    first, second = new_worker(engine, slack, clock), new_worker(engine, slack, clock)
    for i in range(3):
        post(engine, T0, FINANCE, f"m{i}")
    assert first.run_once() == 1
    assert second.run_once() == 0  # no memory of the channel in this object: the database says "wait"
    clock.advance(seconds=0.9)
    assert second.run_once() == 0 and 0.05 <= second.seconds_until_due() <= 0.15
    clock.advance(seconds=0.1)
    assert second.run_once() == 1
    assert first.run_once() == 0


def test_a_429_retry_after_is_seen_by_every_worker(engine, slack):
    clock = ManualClock(T0)
    first, second = new_worker(engine, slack, clock), new_worker(engine, slack, clock)
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    post(engine, T0, FINANCE, "m0")
    first.run_once()
    clock.advance(seconds=6.5)
    assert second.run_once() == 0
    clock.advance(seconds=0.5)
    assert second.run_once() == 1
    assert [m["text"] for m in slack.messages(FINANCE)] == ["m0"]


def test_two_workers_share_one_database_and_keep_one_message_a_second(engine, slack):
    if engine.dialect.name != "postgresql":
        pytest.skip("several workers share the outbox with FOR UPDATE SKIP LOCKED: PostgreSQL only")
    slack.rate_limit(1.0)  # Slack's ~1 message/s per channel: 429 + Retry-After beyond it
    workers = [new_worker(engine, slack, SystemClock()) for _ in range(2)]
    now = SystemClock().now()
    for i in range(6):
        post(engine, now, FINANCE, f"finance {i}")
        post(engine, now, HR, f"hr {i}")
    for w in workers:
        w.start()
    try:
        deadline = time.monotonic() + 20
        while statuses(engine).get("sent", 0) < 12 and time.monotonic() < deadline:
            for w in workers:
                w.wake()  # both look as often as they can: any pace kept only in memory would be broken
            time.sleep(0.01)
    finally:
        for w in workers:
            w.stop()
    assert statuses(engine) == {"sent": 12}
    assert slack.stats["ratelimited"] == 0  # not one post beyond the pace, so no 429 to handle
    # Both took part (the rows went to whichever claimed first), and together sent each message once.
    assert sum(w.stats.sent for w in workers) == 12 and all(w.stats.sent for w in workers)
    for channel, prefix in ((FINANCE, "finance"), (HR, "hr")):
        posts = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == channel]
        assert [c.args["text"] for c in posts] == [f"{prefix} {i}" for i in range(6)]  # once each, in order
        assert all(b.at - a.at >= 0.95 for a, b in itertools.pairwise(posts))
