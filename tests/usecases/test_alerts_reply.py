"""Alerts channels with `mark: both`: the original message gets a reaction and a reply in its thread, in the
protocol's language, naming the team channel with a link to the card; Vigie's own reply coming back as a message
event makes nothing; the same alert delivered twice at once gives one mention per link, one reaction, one reply.

Payloads are the fixtures of tests/fixtures/alerts (shapes of ../shared/slack-spec: bot messages, attachments,
unfurls), delivered signed through the real HTTP app to the fake Slack. SQLite, and PostgreSQL with
VIGIE_TEST_DATABASE_URL set.
"""

from __future__ import annotations

import copy
import json
import shutil
import threading

import pytest

from tests.conftest import TEST_PROTOCOL, drain, make_settings
from tests.usecases.test_alerts_channel import ALERTS, FIXTURES, alert, deliver
from tests.usecases.test_alerts_channel import mentions as stored

LEGAL = "C0LEGAL001"


@pytest.fixture
def settings(engine, slack, database_url, tmp_path):  # type: ignore[no-untyped-def]
    protocol = tmp_path / "protocol.yaml"
    shutil.copy(TEST_PROTOCOL.parent / "roster.csv", tmp_path / "roster.csv")
    protocol.write_text(TEST_PROTOCOL.read_text(encoding="utf-8")
                        + f"\nalerts:\n  - channel: {ALERTS}\n    team: legal\n    mark: both\n", encoding="utf-8")
    return make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=str(protocol))


def replies(slack) -> list:  # type: ignore[no-untyped-def]
    return [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == ALERTS]


def cards(slack) -> list:  # type: ignore[no-untyped-def]
    return [c for c in slack.calls("chat.postMessage") if c.args.get("channel") == LEGAL]


def test_the_alert_gets_a_reaction_and_a_reply_in_its_thread_with_the_cards_link(http, slack, runtime):
    payload = alert(slack, "talkwalker_bot_message.json")
    deliver(http, payload)
    drain(runtime)
    [mention] = stored(runtime)
    assert mention.extra == {"sentiment": "negative"}  # the tool's own "Sentiment" field, kept
    [card] = cards(slack)
    [reply] = replies(slack)
    ts = payload["event"]["ts"]
    assert reply.args["thread_ts"] == ts
    permalink = slack.last("chat.getPermalink").response["permalink"]
    assert slack.last("chat.getPermalink").args["message_ts"] == card.response["ts"]
    # French, the protocol's language, with its non-breaking space before the colon.
    assert reply.args["text"] == f"Relayé par Vigie dans <#{LEGAL}>\u00a0: <{permalink}|voir la fiche>"
    [reaction] = slack.calls("reactions.add")
    assert reaction.args["timestamp"] == ts
    # In the fake Slack, the reply sits in the alert's thread.
    [posted] = [m for m in slack.messages(ALERTS) if m["ts"] == reply.response["ts"]]
    assert posted["thread_ts"] == ts


def test_our_own_reply_coming_back_as_an_event_makes_nothing(http, slack, runtime):
    deliver(http, alert(slack, "talkwalker_bot_message.json"))
    drain(runtime)
    [reply] = replies(slack)
    # What Slack sends for an app's message in a thread (MessageBotPayload in the slack-spec): bot_id, thread_ts.
    echo = json.loads((FIXTURES / "talkwalker_bot_message.json").read_text(encoding="utf-8"))
    echo["event_id"] = "Ev0ECHO"
    echo["event"] = {"type": "message", "channel": ALERTS, "bot_id": "B0VIGIE001", "user": "U0VIGIEBOT",
                     "text": reply.args["text"], "ts": reply.response["ts"], "event_ts": reply.response["ts"],
                     "thread_ts": reply.args["thread_ts"], "parent_user_id": "U0BOTUSER1",
                     "bot_profile": {"id": "B0VIGIE001", "name": "Vigie", "app_id": "A0VIGIE001"},
                     "channel_type": "channel"}
    deliver(http, echo)
    drain(runtime)
    assert len(stored(runtime)) == 1 and len(replies(slack)) == 1 and len(cards(slack)) == 1


def test_two_links_two_cards_one_reply(http, slack, runtime):
    deliver(http, alert(slack, "meltwater_app_attachments.json"))
    drain(runtime)
    assert len(stored(runtime)) == 2 and len(cards(slack)) == 2
    [reply] = replies(slack)
    lines = reply.args["text"].splitlines()
    assert len(lines) == 2 and all(line.startswith(f"Relayé par Vigie dans <#{LEGAL}>") for line in lines)


@pytest.mark.parametrize("rounds", [3])
def test_the_same_alert_delivered_twice_at_once_gives_one_reply(http, slack, runtime, rounds):
    for round_no in range(rounds):
        payload = alert(slack, "meltwater_app_attachments.json", event_id=f"Ev0RACE{round_no}a")
        for attachment in payload["event"]["attachments"]:  # new links each round: new mentions
            for key in ("title_link", "from_url", "original_url"):
                if attachment.get(key):
                    attachment[key] += f"?round={round_no}"
        twin = copy.deepcopy(payload)
        twin["event_id"] = f"Ev0RACE{round_no}b"  # another delivery of the same message
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def send(body: dict) -> None:
            try:
                barrier.wait(timeout=10)
                deliver(http, body)
            except BaseException as exc:  # noqa: BLE001 -- reported below
                errors.append(exc)

        threads = [threading.Thread(target=send, args=(body,)) for body in (payload, twin)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        drain(runtime)
        assert errors == []
        assert len(stored(runtime)) == 2 * (round_no + 1)
        assert len(cards(slack)) == 2  # the later rounds' texts are copies: counted on the first cards
        assert len([r for r in replies(slack) if r.args["thread_ts"] == payload["event"]["ts"]]) == 1
        assert len([r for r in slack.calls("reactions.add") if r.args["timestamp"] == payload["event"]["ts"]]) == 1


def test_the_mark_option_defaults_to_a_reaction_and_refuses_a_value_it_does_not_know():
    from bot.protocol.errors import ProtocolError
    from bot.protocol.load import parse_protocol

    base = TEST_PROTOCOL.read_text(encoding="utf-8") + f"\nalerts:\n  - channel: {ALERTS}\n"
    assert parse_protocol(base, base_dir=TEST_PROTOCOL.parent).alerts[0].mark == "reaction"
    with pytest.raises(ProtocolError) as refused:
        parse_protocol(base + "    mark: thread\n", base_dir=TEST_PROTOCOL.parent)
    said = str(refused.value)
    assert "alerts" in said and "mark" in said and all(word in said for word in ("reaction", "reply", "both"))
