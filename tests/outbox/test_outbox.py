"""Outbox delivery rules, driven step by step with a manual clock against the fake Slack over HTTP."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.outbox.queue import LEASE, MAX_BACKOFF, OutboxWorker, backoff_seconds
from bot.slack.gateway import SlackGateway
from bot.store.db import session_scope
from bot.store.models import Outbox
from bot.usecases.intake import enqueue
from tests.conftest import BOT_TOKEN

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return ManualClock(T0)


@pytest.fixture
def worker(engine, slack, clock):
    gateway = SlackGateway(token=BOT_TOKEN, base_url=slack.url, timeout=2)
    return OutboxWorker(engine=engine, gateway=gateway, clock=clock, channel_interval=1.0, rng=random.Random(1))


def post(engine, clock, channel="C0FINANCE1", text="hello", key=None):
    with session_scope(engine) as s:
        enqueue(s, kind="notice", method="chat.postMessage", now=clock.now(), dedupe_key=key,
                args={"channel": channel, "text": text})


def rows(engine):
    with Session(engine) as s:
        return s.exec(select(Outbox).order_by(Outbox.id)).all()


def test_delivers_once_and_stores_the_ts(engine, slack, clock, worker):
    post(engine, clock, key="k1")
    post(engine, clock, key="k1")  # same dedupe key: recorded once
    assert worker.run_once() == 1
    assert worker.run_once() == 0
    [row] = rows(engine)
    assert row.status == "sent" and row.ts == slack.last("chat.postMessage").response["ts"]


def test_rate_limited_waits_retry_after_without_sleeping(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    post(engine, clock)
    worker.run_once()
    [row] = rows(engine)
    assert row.status == "pending" and row.next_attempt_at == T0 + timedelta(seconds=7)
    assert row.attempts == 0  # a rate limit is not the message's fault
    clock.advance(seconds=6)
    assert worker.run_once() == 0  # not yet
    clock.advance(seconds=1)
    assert worker.run_once() == 1
    assert rows(engine)[0].status == "sent"
    assert len(slack.calls("chat.postMessage")) == 2


def test_rate_limited_without_retry_after_backs_off(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", status=429, send_retry_after=False, times=3)
    post(engine, clock)
    waits = []
    for _ in range(3):
        before = clock.now()
        worker.run_once()
        [row] = rows(engine)
        assert row.status == "pending" and row.last_error == "ratelimited"
        waits.append((row.next_attempt_at - before).total_seconds())
        clock.set(row.next_attempt_at)
    assert all(c.status == 429 and "Retry-After" not in c.headers for c in slack.calls("chat.postMessage"))
    # Never an immediate tight retry: 1, 2, 4 s with jitter, growing while Slack gives no Retry-After.
    assert 0.5 <= waits[0] <= 1.5 and waits[0] < waits[1] < waits[2]
    worker.run_once()
    assert rows(engine)[0].status == "sent"


def test_ratelimited_error_in_a_200_answer_is_a_rate_limit(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", error="ratelimited")  # HTTP 200 {"ok": false, "error": "ratelimited"}
    post(engine, clock)
    worker.run_once()
    [row] = rows(engine)
    assert row.status == "pending" and 0.5 <= (row.next_attempt_at - T0).total_seconds() <= 1.5
    assert worker.stats.rate_limited == 1


def test_server_errors_back_off_exponentially_up_to_a_cap(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", status=500, times=3)
    post(engine, clock)
    waits = []
    for _ in range(3):
        before = clock.now()
        worker.run_once()
        row = rows(engine)[0]
        # A 5xx on a post leaves it in doubt (Slack may have posted): the next try looks first.
        assert row.status == "pending" and row.last_error == "in doubt: internal_error"
        waits.append((row.next_attempt_at - before).total_seconds())
        clock.set(row.next_attempt_at)
    assert waits[0] < waits[1] < waits[2]
    worker.run_once()
    assert rows(engine)[0].status == "sent"
    assert len(slack.calls("conversations.history")) == 3 and len(slack.messages("C0FINANCE1")) == 1
    rng = random.Random(0)
    assert max(backoff_seconds(n, rng) for n in range(1, 40)) <= MAX_BACKOFF * 1.25


def test_a_payload_error_fails_that_row_only_and_the_channel_goes_on(engine, slack, clock, worker):
    failures = []
    worker.on_failure = lambda row, exc: failures.append(exc.error)
    slack.fail_next("chat.postMessage", error="invalid_blocks")
    post(engine, clock, text="bad")
    post(engine, clock, text="next")
    worker.run_once()
    bad, _ = rows(engine)
    assert bad.status == "failed" and "invalid_blocks" in bad.last_error
    assert failures == ["invalid_blocks"]
    clock.advance(seconds=1)
    worker.run_once()
    assert rows(engine)[1].status == "sent"  # the lane is not blocked by the bad row
    assert [m["text"] for m in slack.messages("C0FINANCE1")] == ["next"]


def test_in_order_per_channel_and_paced(engine, slack, clock, worker):
    for i in range(3):
        post(engine, clock, text=f"m{i}")
    post(engine, clock, channel="C0HR000001", text="other")
    assert worker.run_once() == 2  # the head of each channel
    assert worker.run_once() == 0  # finance is paced: one message per second
    clock.advance(seconds=1)
    assert worker.run_once() == 1
    clock.advance(seconds=1)
    worker.run_once()
    texts = [m["text"] for m in reversed(slack.messages("C0FINANCE1"))]
    assert sorted(texts) == ["m0", "m1", "m2"]
    assert [c.args["text"] for c in slack.calls("chat.postMessage") if c.args["channel"] == "C0FINANCE1"] == \
        ["m0", "m1", "m2"]


def test_in_doubt_row_already_posted_is_not_posted_again(engine, slack, clock, worker):
    """The process died after Slack accepted the message but before the ts was stored."""
    post(engine, clock, text="relay")
    [claimed] = worker._claim()  # claimed, then "crash": the row stays `sending` with a lease
    args = worker._resolve_args(claimed)
    worker.gateway.call("chat.postMessage", **args)  # Slack got it
    clock.advance(seconds=LEASE.total_seconds() + 1)
    fresh = OutboxWorker(engine=engine, gateway=worker.gateway, clock=clock)  # the restarted process
    assert fresh.run_once() == 1
    assert fresh.stats.reconciled == 1
    assert len(slack.calls("chat.postMessage")) == 1
    [row] = rows(engine)
    assert row.status == "sent" and row.ts == slack.messages("C0FINANCE1")[0]["ts"]


def test_in_doubt_row_never_posted_is_posted(engine, slack, clock, worker):
    post(engine, clock, text="relay")
    worker._claim()  # crash before calling Slack
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert worker.run_once() == 1
    assert len(slack.calls("chat.postMessage")) == 1
    assert slack.calls("conversations.history")[0].args["include_all_metadata"] in (True, "true", "1", 1)


def test_a_row_leased_by_a_live_worker_is_left_alone(engine, slack, clock, worker):
    post(engine, clock)
    worker._claim()
    other = OutboxWorker(engine=engine, gateway=worker.gateway, clock=clock)
    assert other.run_once() == 0
