"""What a person just did is delivered first (issue 16: a click's card update waited 1 to 3 s behind a pass over
a backlog): in one pass, the heads of the interactive share come before rows written earlier; with the worker's
threads running, a card update written while a long pass over a backlog is under way does not wait for its end;
and every lane stays FIFO whichever thread takes its head."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from bot.clock import ManualClock
from bot.outbox.queue import INTERACTIVE_KINDS, Share, in_share, outbox_row
from bot.outbox.worker import OutboxWorker
from bot.slack.gateway import SlackGateway
from bot.store.models import Outbox
from tests.conftest import BOT_TOKEN

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
BACKLOG = [f"C0BACKLG{i:02d}" for i in range(20)]
TEAM = "C0TEAM0001"


@pytest.fixture
def clock():
    return ManualClock(T0)


def _gateway(slack) -> SlackGateway:
    return SlackGateway(token=BOT_TOKEN, base_url=slack.url, timeout=5)


def _insert(engine, rows) -> list[int]:
    table = Outbox.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:  # one by one: the ids in the order written
        return [conn.execute(table.insert().returning(table.c.id), row).scalar_one() for row in rows]


def _backlog(now, per_lane: int) -> list[dict]:
    return [outbox_row(kind="notice", method="chat.postMessage", now=now, args={"channel": ch, "text": f"old {n}"})
            for n in range(per_lane) for ch in BACKLOG]


def _posted_card(engine, slack, now, mention: int) -> int:
    """A relay card already in the channel (its row sent, with its ts): what a click updates."""
    answer = _gateway(slack).call("chat.postMessage", channel=TEAM, text=f"card {mention}")
    [relay] = _insert(engine, [outbox_row(kind="relay", method="chat.postMessage", now=now,
                                          args={"channel": TEAM, "text": f"card {mention}"})
                               | {"status": "sent", "ts": answer["ts"]}])
    return relay


def _card_update(now, mention: int, relay: int, text: str = "claimed") -> dict:
    # Plain chat.update rows (no mention needed): the order is what is tested, not the card's rendering.
    return outbox_row(kind="card_update", method="chat.update", now=now,
                      args={"channel": f"card:{mention}", "ts_from_outbox": relay, "text": text})


def test_the_shares_split_every_row_in_two(engine, clock):
    now = clock.now()
    kinds = [*INTERACTIVE_KINDS, "notice", "relay", "home", "story_card", "thread"]
    _insert(engine, [outbox_row(kind=k, method="chat.postMessage", now=now, args={"channel": ch})
                     for k in kinds for ch in (TEAM, "card:12", "home:U0CM00001")])
    with Session(engine) as s:
        every = set(s.exec(select(Outbox.id)).all())
        mine = {share: set(s.exec(in_share(select(Outbox.id), share)).all()) for share in Share}
        interactive = s.exec(in_share(select(Outbox.kind, Outbox.channel), Share.interactive)).all()
    assert mine[Share.interactive] | mine[Share.rest] == every and not mine[Share.interactive] & mine[Share.rest]
    # A card lane is the interactive thread's whatever its rows (a story refresh too): one deliverer per card.
    assert {(k, ch) for k, ch in interactive} == (
        {(k, ch) for k in INTERACTIVE_KINDS for ch in (TEAM, "card:12", "home:U0CM00001")}
        | {(k, "card:12") for k in kinds})


def test_in_one_pass_a_card_update_goes_before_a_backlog_written_earlier(engine, slack, clock):
    now = clock.now()
    relay = _posted_card(engine, slack, now, mention=7)
    _insert(engine, _backlog(now, per_lane=3))  # 60 rows, 20 lanes: 20 heads due, written before the click
    [update] = _insert(engine, [_card_update(now, 7, relay)])
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack), clock=clock, channel_interval=1.0, batch=50)
    mark = len(slack.calls())
    assert worker.run_once() == 21
    methods = [c.method for c in slack.calls()[mark:]]
    assert methods[0] == "chat.update" and methods[1:] == ["chat.postMessage"] * 20, methods
    with Session(engine) as s:
        assert s.get(Outbox, update).status == "sent"


def test_a_click_is_not_held_up_by_a_full_pass(engine, slack, clock):
    """The batch limit is no bound: with more due heads than a pass takes, the card update is in the pass."""
    now = clock.now()
    relay = _posted_card(engine, slack, now, mention=8)
    _insert(engine, _backlog(now, per_lane=1))
    _insert(engine, [_card_update(now, 8, relay)])
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack), clock=clock, channel_interval=1.0, batch=5)
    mark = len(slack.calls())
    worker.run_once()
    assert [c.method for c in slack.calls()[mark:]][0] == "chat.update"


def test_a_card_update_written_during_a_long_pass_does_not_wait_for_its_end(engine, slack, clock):
    now = clock.now()
    relay = _posted_card(engine, slack, now, mention=9)
    _insert(engine, _backlog(now, per_lane=2))
    slack.fail_next("chat.postMessage", delay=0.15, times=40)  # a slow Slack: one pass over 20 lanes takes 3 s
    bell = threading.Event()
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack), clock=clock, channel_interval=1.0,
                          doorbell=bell)
    worker.start()
    try:
        slack.wait_for("chat.postMessage", count=2, timeout=10)  # the backlog's pass is under way
        _insert(engine, [_card_update(now, 9, relay)])
        written = time.monotonic()
        bell.set()  # as a use case rings after its commit
        [update] = slack.wait_for("chat.update", timeout=10)
    finally:
        worker.stop()
    posts_before = [c for c in slack.calls("chat.postMessage")[1:] if c.at < update.at]
    # One thread for everything sent it after the 20 heads of the pass (3 s); its own thread at once.
    assert len(posts_before) < 12, (len(posts_before), update.at - written)
    assert worker.stats.interactive_passes >= 1


def test_lanes_stay_fifo_whichever_thread_takes_their_head(engine, slack, clock):
    """A team channel's lane: a relay (the other thread's), then an answer to a click (the interactive
    thread's), then a relay; a card's lane: a story refresh, then two updates. With posts slow, an answer that
    jumped its lane would arrive before the relay ahead of it."""
    now = clock.now()
    relay = _posted_card(engine, slack, now, mention=10)
    slack.add_user("U0CM00001", name="cm")
    rows = [
        outbox_row(kind="relay", method="chat.postMessage", now=now, args={"channel": TEAM, "text": "first"}),
        outbox_row(kind="ephemeral", method="chat.postEphemeral", now=now,
                   args={"channel": TEAM, "user": "U0CM00001", "text": "answer"}),
        outbox_row(kind="relay", method="chat.postMessage", now=now, args={"channel": TEAM, "text": "second"}),
        outbox_row(kind="story_card", method="chat.update", now=now,
                   args={"channel": "card:10", "ts_from_outbox": relay, "text": "story"}),
        _card_update(now, 10, relay, "one"),
        _card_update(now, 10, relay, "two"),
    ]
    _insert(engine, rows)
    slack.fail_next("chat.postMessage", delay=0.3, times=2)
    bell = threading.Event()
    worker = OutboxWorker(engine=engine, gateway=_gateway(slack), clock=clock, channel_interval=0.0,
                          doorbell=bell)
    worker.start()
    try:
        slack.wait_for("chat.update", count=3, timeout=10)
        slack.wait_for("chat.postMessage", count=3, timeout=10)
        slack.wait_for("chat.postEphemeral", timeout=10)
    finally:
        worker.stop()
    team = [c.args.get("text") for c in slack.calls() if c.method in ("chat.postMessage", "chat.postEphemeral")
            and c.args.get("text") in ("first", "answer", "second")]
    card = [c.args.get("text") for c in slack.calls("chat.update")]
    assert team == ["first", "answer", "second"]
    assert card == ["story", "one", "two"]
