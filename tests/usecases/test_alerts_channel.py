"""Alerts channels through the real HTTP app: a monitoring tool's post, delivered as Slack delivers it (a signed
`event_callback`), becomes one mention in its team's channel, and the post gets a reaction; a message in a channel
the protocol does not list is ignored; the same alert delivered twice at once is stored once.

Runs on SQLite, and on PostgreSQL with VIGIE_TEST_DATABASE_URL set.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.store.models import Mention
from tests.conftest import SIGNING_SECRET, TEST_PROTOCOL, drain, make_settings
from tests.slack_requests import signed_headers

FIXTURES = Path(__file__).parents[1] / "fixtures" / "alerts"
ALERTS = "C0ALERTS01"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


@pytest.fixture
def settings(engine, slack, database_url, tmp_path):  # type: ignore[no-untyped-def]
    """The test protocol with one alerts channel whose mentions all go to the legal team."""
    protocol = tmp_path / "protocol.yaml"
    shutil.copy(TEST_PROTOCOL.parent / "roster.csv", tmp_path / "roster.csv")  # named relative to the protocol
    protocol.write_text(TEST_PROTOCOL.read_text(encoding="utf-8")
                        + f"\nalerts:\n  - channel: {ALERTS}\n    team: legal\n", encoding="utf-8")
    return make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(protocol))


def alert(slack, name: str, *, channel: str = ALERTS, event_id: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    """A fixture's payload, its message first posted in the fake Slack (so it can be reacted to)."""
    payload = copy.deepcopy(json.loads((FIXTURES / name).read_text(encoding="utf-8")))
    ts = slack.add_message(channel, payload["event"].get("text") or "", user="U0BOTUSER1")
    payload["event"].update(channel=channel, ts=ts, event_ts=ts)
    if event_id:
        payload["event_id"] = event_id
    return payload


def deliver(http, payload: dict, *, retry: bool = False) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps(payload)
    headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
    if retry:
        headers.update(RETRY)
    r = http.post("/slack/events", content=body, headers=headers)
    assert r.status_code == 200, r.text


def mentions(runtime) -> list[Mention]:  # type: ignore[no-untyped-def]
    with Session(runtime.engine) as s:
        return list(s.exec(select(Mention)).all())


def test_an_integration_post_becomes_one_mention_in_its_team_channel_and_is_marked(http, slack, runtime):
    payload = alert(slack, "talkwalker_bot_message.json")
    deliver(http, payload)
    drain(runtime)
    [m] = mentions(runtime)
    assert (m.source, m.external_id, m.author, m.team) == (
        "talkwalker-alerts", "https://forum.nord-industrie.example/t/greve-acme-roubaix/4412", "cgt_roubaix", "legal")
    cards = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == "C0LEGAL001"]
    assert len(cards) == 1 and "forum.nord-industrie.example" in json.dumps(cards[0].args)
    [reaction] = slack.calls("reactions.add")
    assert reaction.args == {"channel": ALERTS, "timestamp": payload["event"]["ts"], "name": "eyes"} | {
        k: v for k, v in reaction.args.items() if k not in ("channel", "timestamp", "name")}


def test_a_message_in_a_channel_not_listed_is_ignored(http, slack, runtime):
    deliver(http, alert(slack, "meltwater_app_attachments.json", channel="C0RANDOM01"))
    drain(runtime)
    assert mentions(runtime) == []
    assert slack.calls("reactions.add") == [] and slack.calls("chat.postMessage") == []


def test_housekeeping_and_an_unfurl_added_later_make_nothing_new(http, slack, runtime):
    deliver(http, alert(slack, "channel_join_ignored.json", event_id="Ev0JOIN"))
    person = alert(slack, "message_changed_unfurl.json", event_id="Ev0FIRST")
    original = copy.deepcopy(person)
    original["event"] = {**person["event"]["message"], "channel": ALERTS, "attachments": []}
    original["event"].update(ts=person["event"]["ts"], event_ts=person["event"]["ts"])
    person["event"]["message"]["ts"] = person["event"]["ts"]  # the edit names the original message
    person["event_id"] = "Ev0EDITED"
    deliver(http, original)
    drain(runtime)
    deliver(http, person)
    drain(runtime)
    [m] = mentions(runtime)
    assert m.external_id == "https://www.youtube.com/watch?v=Acm3K3ttl20"
    assert len(slack.calls("reactions.add")) == 1


@pytest.mark.parametrize("same_event", [True, False], ids=["slack-retry", "two-deliveries"])
def test_the_same_alert_delivered_twice_at_once_is_stored_once(http, slack, runtime, same_event):
    payload = alert(slack, "meltwater_app_attachments.json", event_id="Ev0RACE1")
    twin = copy.deepcopy(payload)
    if not same_event:
        twin["event_id"] = "Ev0RACE2"  # another delivery of the same message: only the URLs tell
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def send(body: dict, retry: bool) -> None:
        try:
            barrier.wait(timeout=10)
            deliver(http, body, retry=retry)
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(payload, False)),
               threading.Thread(target=send, args=(twin, same_event))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain(runtime)
    assert errors == []
    stored = mentions(runtime)
    assert sorted(m.external_id for m in stored) == [
        "https://www.dailytrade.example/news/acme-kettle-recall",
        "https://www.quotidien-lyonnais.example/eco/acme-retards-livraison-21112026"]
    assert len([c for c in slack.calls("chat.postMessage") if c.args["channel"] == "C0LEGAL001"]) == 2
    assert len(slack.calls("reactions.add")) == 1
