"""Slack faults (issue #7, item 2), through the real gateway against the fake Slack over HTTP, with a manual
clock: 5xx and timeouts are retried with capped backoff and never re-post a message Slack may have posted;
a channel that refuses the bot and a refused token are held (nothing lost), said once to the community
managers, probed slowly, and delivered in order once a person has fixed them."""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select
from structlog.testing import capture_logs

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.outbox.queue import (
    HOLD_RETRY,
    PAUSE_KEY,
    TOKEN_PROBE,
    enqueue,
    retry_failed,
    slack_health,
    tell_community_managers,
)
from bot.outbox.worker import OutboxWorker
from bot.slack.gateway import SlackGateway
from bot.slack.views import cards
from bot.store.db import session_scope
from bot.store.models import Outbox
from tests.conftest import AUTH, BOT_TOKEN, make_settings, mention

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
CMS = ["U0CM00001", "U0CM00002"]
FINANCE = "C0FINANCE1"


@pytest.fixture
def clock():
    return ManualClock(T0)


def make_worker(engine, slack, clock, token=BOT_TOKEN):
    gateway = SlackGateway(token=token, base_url=slack.url, timeout=1)
    return OutboxWorker(engine=engine, gateway=gateway, clock=clock, channel_interval=1.0, rng=random.Random(7),
                        tell=tell_community_managers(CMS, "en", as_message=cards.notice))


@pytest.fixture
def worker(engine, slack, clock):
    return make_worker(engine, slack, clock)


def post(engine, clock, channel=FINANCE, text="hello"):
    with session_scope(engine) as s:
        return enqueue(s, kind="notice", method="chat.postMessage", now=clock.now(),
                       args={"channel": channel, "text": text})


def rows(engine, channel=None):
    with Session(engine) as s:
        query = select(Outbox).order_by(Outbox.id)
        if channel is not None:
            query = query.where(Outbox.channel == channel)
        return s.exec(query).all()


def run_for(worker, clock, seconds):
    """What the worker's loop does, on the manual clock: a pass, then sleep until something is due.
    Returns the number of passes (a bug that spins would show here as well as in Slack's call count)."""
    end = clock.now() + timedelta(seconds=seconds)
    passes = 0
    while clock.now() < end:
        worker.run_once()
        passes += 1
        clock.advance(seconds=max(0.05, worker.seconds_until_due()))
    return passes


def told(slack, user, contains):
    return [c.args["text"] for c in slack.calls("chat.postMessage")
            if c.ok and c.args["channel"] == user and contains in c.args["text"]]


# --- transient faults: backoff, cap, no tight loop -------------------------------------------------------


def test_slack_down_for_an_hour_is_retried_at_a_capped_pace_then_posted_once(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", status=500, times=10_000)
    post(engine, clock, text="relay")
    passes = run_for(worker, clock, 3600)
    posts = slack.calls("chat.postMessage")
    # 1, 2, 4 ... 256 s, then every 300 s (±25 %): about 9 + 11 tries in an hour, never a tight loop.
    assert 14 <= len(posts) <= 30, len(posts)
    assert passes <= 2 * len(posts) + 5
    # Each retry of a post answered 5xx looked in the channel first (Slack may have posted).
    assert len(slack.calls("conversations.history")) == len(posts) - 1
    [row] = rows(engine)
    assert row.status == "pending" and row.last_error == "in doubt: internal_error"
    assert (row.next_attempt_at - clock.now()).total_seconds() <= 300 * 1.25
    slack.reset()  # Slack is back
    run_for(worker, clock, 400)
    assert rows(engine)[0].status == "sent"
    assert [m["text"] for m in slack.messages(FINANCE)] == ["relay"]


def test_ratelimited_without_retry_after_over_ten_minutes_backs_off(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", status=429, send_retry_after=False, times=10_000)
    post(engine, clock)
    run_for(worker, clock, 600)
    calls = slack.calls("chat.postMessage")
    assert all(c.status == 429 and "Retry-After" not in c.headers for c in calls)
    assert 6 <= len(calls) <= 14, len(calls)  # 1+2+4+...+256 s, then 300 s: not 600 calls


def test_ratelimited_with_retry_after_waits_exactly_that(engine, slack, clock, worker):
    slack.fail_next("chat.postMessage", status=429, retry_after=30, times=3)
    post(engine, clock)
    run_for(worker, clock, 95)
    assert len(slack.calls("chat.postMessage")) == 4  # t=0, 30, 60, 90: the last one went through
    assert rows(engine)[0].status == "sent" and rows(engine)[0].attempts == 1


# --- timeouts: in doubt, looked for, never posted twice ----------------------------------------------------


def test_gateway_timeout_comes_from_settings_and_is_short(engine, slack, database_url):
    default = build_runtime(make_settings(database_url, slack.url), migrate=False)
    assert default.gateway.client.timeout == 10
    tight = build_runtime(make_settings(database_url, slack.url, VIGIE_SLACK_TIMEOUT=3), migrate=False)
    assert tight.gateway.client.timeout == 3
    short_lease = build_runtime(make_settings(database_url, slack.url, VIGIE_OUTBOX_LEASE=6), migrate=False)
    assert short_lease.gateway.client.timeout == 2  # a call always ends well within the lease
    for rt in (default, tight, short_lease):
        rt.engine.dispose()


def test_timeout_after_slack_posted_is_reconciled_not_posted_again(engine, slack, clock, worker):
    slack.hang_next("chat.postMessage", 1.6, carried_out=True)  # the client gives up after 1 s
    post(engine, clock, text="relay")
    worker.run_once()
    [row] = rows(engine)
    assert row.status == "pending" and row.last_error == "in doubt: timeout"
    assert (row.next_attempt_at - T0).total_seconds() >= 2  # twice the client's patience before looking
    slack.wait_for("chat.postMessage")  # Slack finished posting after the client had gone
    clock.set(row.next_attempt_at)
    worker.run_once()
    [row] = rows(engine)
    assert worker.stats.reconciled == 1
    assert len(slack.calls("chat.postMessage")) == 1
    [message] = slack.messages(FINANCE)
    assert row.status == "sent" and row.ts == message["ts"]


def test_timeout_when_slack_dropped_the_post_posts_it_once(engine, slack, clock, worker):
    slack.hang_next("chat.postMessage", 1.6, carried_out=False)
    post(engine, clock, text="relay")
    worker.run_once()
    slack.wait_for("chat.postMessage")
    clock.set(rows(engine)[0].next_attempt_at)
    worker.run_once()
    assert len(slack.calls("conversations.history")) == 1
    assert [m["text"] for m in slack.messages(FINANCE)] == ["relay"]
    assert rows(engine)[0].status == "sent" and worker.stats.reconciled == 0


def test_timeout_on_a_thread_reply_is_looked_for_in_the_thread(engine, slack, clock, worker):
    parent = worker.gateway.call("chat.postMessage", channel=FINANCE, text="card")["ts"]
    with session_scope(engine) as s:
        enqueue(s, kind="thread", method="chat.postMessage", now=clock.now(),
                args={"channel": FINANCE, "thread_ts": parent, "text": "draft v1"})
    slack.hang_next("chat.postMessage", 1.6, carried_out=True)
    worker.run_once()
    slack.wait_for("chat.postMessage", 2)
    clock.set(rows(engine)[0].next_attempt_at)
    worker.run_once()
    assert worker.stats.reconciled == 1 and slack.calls("conversations.replies")
    assert [m["text"] for m in slack.messages(FINANCE)] == ["card", "draft v1"]


def test_connection_lost_after_posting_is_not_resent_blindly(engine, slack, clock, worker):
    """The SDK's default retry handler would re-send at once after a connection lost mid-answer: a duplicate.
    The gateway leaves it to the outbox, which looks first."""
    slack.hang_up_next("chat.postMessage")
    post(engine, clock, text="relay")
    worker.run_once()
    [row] = rows(engine)
    assert row.last_error == "in doubt: connection_lost"
    assert len(slack.calls("chat.postMessage")) == 1  # no immediate retry inside the SDK
    clock.set(row.next_attempt_at)
    worker.run_once()
    assert [m["text"] for m in slack.messages(FINANCE)] == ["relay"] and worker.stats.reconciled == 1


def test_a_timeout_on_an_update_is_simply_retried(engine, slack, clock, worker):
    ts = worker.gateway.call("chat.postMessage", channel=FINANCE, text="card")["ts"]
    with session_scope(engine) as s:
        enqueue(s, kind="card_update", method="chat.update", now=clock.now(),
                args={"channel": FINANCE, "ts": ts, "text": "card v2"})
    slack.hang_next("chat.update", 1.6)
    worker.run_once()
    slack.wait_for("chat.update")
    clock.set(rows(engine)[0].next_attempt_at)
    worker.run_once()
    assert rows(engine)[0].status == "sent"
    assert not slack.calls("conversations.history")  # an update is idempotent: nothing to look for
    assert slack.messages(FINANCE)[0]["text"] == "card v2"


# --- a channel that refuses the bot: held, told once, resumed in order ---------------------------------------


def test_bot_removed_from_a_channel_holds_it_tells_once_and_resumes_in_order(engine, slack, clock, worker):
    legal = slack.add_channel("#legal", is_member=False)  # the bot was removed
    for i in range(3):
        post(engine, clock, channel=legal, text=f"legal {i}")
    post(engine, clock, text="finance")
    with capture_logs() as logs:
        run_for(worker, clock, 30 * 60)
    # Held, not failed: nothing is lost; the other channel is not held up.
    assert [r.status for r in rows(engine, legal)] == ["pending"] * 3
    assert rows(engine, legal)[0].last_error == f"held: not_in_channel in {legal}"
    assert rows(engine, FINANCE)[0].status == "sent"
    # Tried again slowly: once at the start, then every HOLD_RETRY.
    tries = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == legal]
    assert HOLD_RETRY == timedelta(minutes=5) and len(tries) == 6  # at 0, 5, 10, 15, 20 and 25 minutes
    # Said once, to each community manager by direct message, with what to do.
    for cm in CMS:
        [notice] = told(slack, cm, "can no longer post")
        assert f"<#{legal}>" in notice and "/invite @Vigie" in notice and "3 messages" in notice
    assert len([e for e in logs if e["event"] == "outbox_channel_held"]) == 1

    slack.add_channel("#legal", is_member=True)  # a person invited the bot back
    run_for(worker, clock, HOLD_RETRY.total_seconds() + 10)
    assert [m["text"] for m in slack.messages(legal)] == ["legal 0", "legal 1", "legal 2"]
    assert all(r.status == "sent" for r in rows(engine))
    for cm in CMS:
        assert len(told(slack, cm, "can no longer post")) == 1
        [back] = told(slack, cm, "can post in")
        assert f"<#{legal}>" in back
    # ...and paced: one message a second in the channel.
    sent = [r.sent_at for r in rows(engine, legal)]
    assert all((b - a).total_seconds() >= 1.0 for a, b in itertools.pairwise(sent))


@pytest.mark.parametrize(("error", "words"), [("is_archived", "is archived"),
                                              ("channel_not_found", "cannot find the channel")])
def test_archived_or_missing_channel_is_held_and_told_once(engine, slack, clock, worker, error, words):
    slack.fail_channel("C0LEGAL001", error)
    post(engine, clock, channel="C0LEGAL001", text="a")
    post(engine, clock, channel="C0LEGAL001", text="b")
    run_for(worker, clock, 12 * 60)
    worker.run_once()  # the try due now (at 15 minutes): still refused; the next is 5 minutes away
    assert [r.status for r in rows(engine, "C0LEGAL001")] == ["pending", "pending"]
    for cm in CMS:
        assert len(told(slack, cm, words)) == 1
    slack.heal_channel("C0LEGAL001")
    assert retry_failed(engine, now=clock.now()) == 1  # `vigie outbox retry`: no need to wait for the probe
    run_for(worker, clock, 5)
    assert [m["text"] for m in slack.messages("C0LEGAL001")] == ["a", "b"]


def test_the_broken_channel_is_never_where_it_is_told(engine, slack, clock, worker):
    slack.fail_channel(CMS[0], "channel_not_found")  # one manager's DM is broken (deactivated account)
    post(engine, clock, channel=CMS[0], text="reminder")
    run_for(worker, clock, 10)
    assert told(slack, CMS[1], "cannot find") and not told(slack, CMS[0], "cannot find")


# --- a refused token: everything paused, probed slowly, told once when it works again -----------------------


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive"])
def test_refused_token_pauses_all_deliveries_then_delivers_everything(engine, slack, clock, worker, error):
    slack.refuse_token(error)
    for i in range(3):
        post(engine, clock, text=f"finance {i}")
    post(engine, clock, channel="C0HR000001", text="hr")
    with capture_logs() as logs:
        passes = run_for(worker, clock, 30 * 60)
    # One refused post, then only auth.test every TOKEN_PROBE: nothing else bothers Slack, nothing spins.
    assert len(slack.calls("chat.postMessage")) == 1
    probes = slack.calls("auth.test")
    assert TOKEN_PROBE == timedelta(minutes=5) and len(probes) == 5  # at 5, 10, 15, 20 and 25 minutes
    assert passes < 20
    assert [e["error"] for e in logs if e["event"] == "slack_token_refused"] == [error]  # logged once
    assert all(r.status == "pending" for r in rows(engine))  # held, nothing lost or failed
    health = slack_health(engine)
    assert health["token_refused"]["error"] == error

    slack.refuse_token(None)  # a new token was installed
    run_for(worker, clock, TOKEN_PROBE.total_seconds() + 10)
    assert [m["text"] for m in slack.messages(FINANCE)] == ["finance 0", "finance 1", "finance 2"]
    assert [m["text"] for m in slack.messages("C0HR000001")] == ["hr"]
    for cm in CMS:  # told once, afterwards (Slack could not be told while the token was refused)
        [notice] = told(slack, cm, "refused Vigie's token")
        assert error in notice and "4 messages" in notice
    assert slack_health(engine) == {}
    with Session(engine) as s:
        assert s.exec(select(Outbox).where(Outbox.dedupe_key == PAUSE_KEY)).first() is None


def test_token_rotated_and_restarted_probes_at_once_and_delivers(engine, slack, clock):
    revoked = make_worker(engine, slack, clock, token="xoxb-revoked-0000")  # Slack answers invalid_auth
    post(engine, clock, text="relay")
    run_for(revoked, clock, 60)
    assert rows(engine)[0].status == "pending" and slack_health(engine)["token_refused"]["error"] == "invalid_auth"

    restarted = make_worker(engine, slack, clock)  # SLACK_BOT_TOKEN rotated, process restarted
    restarted.start()  # start-up looks at once instead of waiting for the next probe
    try:
        slack.wait_for("chat.postMessage", 2)  # the relay, then the managers' notices
    finally:
        restarted.stop()
    run_for(restarted, clock, 5)
    assert [m["text"] for m in slack.messages(FINANCE)] == ["relay"]
    # The old process had not probed yet (its probe was 5 minutes away): the restart did, at once.
    assert [c.ok for c in slack.calls("auth.test")] == [True]
    for cm in CMS:
        assert len(told(slack, cm, "invalid_auth")) == 1


def test_healthz_reports_a_refused_token(runtime, http, slack):
    slack.refuse_token("token_revoked")
    r = http.post("/intake/mentions", json=mention(1), headers=AUTH)
    assert r.status_code == 202
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while "slack" not in http.get("/healthz").json() and datetime.now(UTC) < deadline:
        runtime.worker.wake()
        time.sleep(0.05)
    body = http.get("/healthz").json()
    assert http.get("/healthz").status_code == 200  # the intake still works and stores everything
    assert body["status"] == "degraded" and body["slack"]["token_refused"]["error"] == "token_revoked"
    assert body["outbox"].get("failed", 0) == 0


def test_a_channel_backed_off_through_an_outage_resumes_as_soon_as_slack_answers_again(engine, slack, clock, worker):
    """Twenty minutes of 5xx push a channel's backoff to its cap (300 s). Once Slack answers again in any
    channel, the backed-off channel goes within seconds, not at the end of its backoff."""
    slack.fail_next("chat.postMessage", status=500, times=10_000)
    post(engine, clock, channel=FINANCE, text="stuck through the outage")
    run_for(worker, clock, 1200)
    worker.run_once()  # one more failed try: the row now waits out a full backoff
    [row] = rows(engine)
    assert (row.next_attempt_at - clock.now()).total_seconds() > 200  # near the 300 s cap by now
    slack.reset()  # Slack is back...
    post(engine, clock, channel="C0LEGAL001", text="a new message elsewhere")
    worker.run_once()  # ...and answers it
    assert [m["text"] for m in slack.messages("C0LEGAL001")] == ["a new message elsewhere"]
    resumed_at = clock.now()
    run_for(worker, clock, 5)
    assert [m["text"] for m in slack.messages(FINANCE)] == ["stuck through the outage"]
    sent = rows(engine, FINANCE)[0].sent_at
    assert (sent - resumed_at).total_seconds() <= 2


def test_after_an_outage_a_post_that_got_no_answer_still_waits_before_it_is_looked_for(engine, slack, clock, worker):
    """A post that timed out may still be in Slack's hands: Slack's return brings it forward, but to twice the
    gateway's timeout from then (not at once), and it is looked for before it is sent again."""
    slack.hang_next("chat.postMessage", seconds=1.5, carried_out=False, times=4)
    post(engine, clock, channel=FINANCE, text="timed out")
    for _ in range(4):  # four timeouts in a row: a backoff of several seconds, in doubt each time
        clock.set(rows(engine, FINANCE)[0].next_attempt_at)
        worker.run_once()
    [row] = rows(engine, FINANCE)
    assert row.last_error == "in doubt: timeout" and (row.next_attempt_at - clock.now()).total_seconds() > 4
    post(engine, clock, channel="C0LEGAL001", text="x")
    worker.run_once()  # Slack answers in another channel
    due = rows(engine, FINANCE)[0].next_attempt_at
    assert (due - clock.now()).total_seconds() == 2.0  # twice the 1 s timeout, from Slack's return
    clock.set(due + timedelta(seconds=1))
    worker.run_once()
    assert [m["text"] for m in slack.messages(FINANCE)] == ["timed out"]  # looked for, then posted once
