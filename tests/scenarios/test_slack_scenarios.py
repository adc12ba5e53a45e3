"""Slack's requests as Slack sends them: signed, form-encoded, through Bolt's real verification."""

from __future__ import annotations

import json
import time

from sqlmodel import Session, select

from bot.store.models import Mention
from tests import driver
from tests.conftest import SIGNING_SECRET, drain
from tests.slack_requests import block_action, interactive_body, message_shortcut


def send(http, payload, *, secret=SIGNING_SECRET, timestamp=None):
    """The shared driver's `send`, any status accepted: these scenarios look at refusals too."""
    return driver.send(http, payload, secret=secret, timestamp=timestamp, expect=None)


def test_flagging_a_slack_message_relays_it_and_tells_the_flagger(http, slack, runtime):
    slack.add_user("U0AUTHOR01", name="Camille Martin")
    r = send(http, message_shortcut(text="Un avocat parle d'un procès contre la marque", channel="C0RANDOM01",
                                    ts="1763719200.000100", author="U0AUTHOR01", user="U0FLAGGER1"))
    assert r.status_code == 200
    [relay] = slack.wait_for("chat.postMessage")
    assert relay.args["channel"] == "C0LEGAL001"
    [ephemeral] = slack.wait_for("chat.postEphemeral")
    assert ephemeral.args["user"] == "U0FLAGGER1" and ephemeral.args["channel"] == "C0RANDOM01"
    assert "Juridique" in ephemeral.args["text"]
    drain(runtime)
    with Session(runtime.engine) as s:
        [m] = s.exec(select(Mention)).all()
    assert (m.source, m.external_id, m.flagged_by) == ("slack", "C0RANDOM01:1763719200.000100", "U0FLAGGER1")
    assert m.author == "Camille Martin"
    assert m.url.startswith("https://")


def test_flagging_the_same_message_twice_relays_once(http, slack, runtime):
    payload = message_shortcut(text="Grève annoncée", ts="1763719200.000300")
    send(http, payload)
    drain(runtime)  # one person after the other (listeners run after the ack, so they could overlap)
    send(http, {**payload, "user": {"id": "U0OTHER001", "name": "other"}})
    slack.wait_for("chat.postEphemeral", count=2)
    drain(runtime)
    assert len(slack.calls("chat.postMessage")) == 1
    second = slack.calls("chat.postEphemeral")[1]
    assert second.args["user"] == "U0OTHER001" and "déjà signalé" in second.args["text"]


def test_unsigned_forged_or_stale_requests_are_refused(http, slack):
    payload = message_shortcut(text="forged")
    assert send(http, payload, secret="wrong-secret").status_code == 401
    assert send(http, payload, timestamp=int(time.time()) - 301).status_code == 401
    body = interactive_body(payload)
    assert http.post("/slack/events", content=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 401
    time.sleep(0.2)
    assert slack.calls("chat.postMessage") == [] and slack.calls("chat.postEphemeral") == []


def test_a_button_for_an_unknown_mention_acks_and_explains(http, slack):
    slack.add_user("U0FIN0002", name="fin", locale="en-US")
    r = send(http, block_action(action_id="mention_claim", value="999", user="U0FIN0002"))
    assert r.status_code == 200
    [call] = slack.wait_for("chat.postEphemeral")
    assert call.args["user"] == "U0FIN0002" and call.args["text"] == "This mention no longer exists."


def test_hostile_text_is_neutralised_on_the_card(http, slack):
    from tests.conftest import AUTH, mention

    hostile = ("<!channel> <!here> <@U123> <!subteam^S1> <https://evil.example|bank.example> &lt;!channel&gt; "
               "\u200b<!everyone>\u202e")
    r = http.post("/intake/mentions", headers=AUTH, json=mention(
        1, text=hostile, author="<@U0CEO0001> <!channel>", source="<!here>",
        url="https://evil.example/path?q=<x>|y"))
    assert r.status_code == 202
    [call] = slack.wait_for("chat.postMessage")
    sent = json.dumps({"text": call.args["text"], "blocks": call.args["blocks"]}, ensure_ascii=False)
    for bad in ("<!channel>", "<!here>", "<@U123>", "<!subteam^S1>", "<!everyone>", "|bank.example>",
                "<@U0CEO0001>", "\u200b", "\u202e"):
        assert bad not in sent, bad
    assert "&amp;lt;!channel&amp;gt;" in sent  # an escaped sequence stays visibly literal
    assert "&lt;!channel&gt;" in sent  # the text is still shown, harmlessly
    # The only link on the card is the « Voir le post » button's, percent-encoded, with the real host beside it.
    [button] = [e for b in call.args["blocks"] if b["type"] == "actions" for e in b["elements"] if e.get("url")]
    assert button["url"] == "https://evil.example/path?q=%3Cx%3E%7Cy"
    assert "evil.example · mention n°" in sent and "<https://" not in sent


def test_two_people_flagging_at_once_still_relay_once(http, slack, runtime):
    import threading

    payload = message_shortcut(text="Grève annoncée", ts="1763719200.000400")
    others = [payload, {**payload, "user": {"id": "U0OTHER001", "name": "other"}}]
    threads = [threading.Thread(target=send, args=(http, p)) for p in others]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    slack.wait_for("chat.postEphemeral", count=2)
    drain(runtime)
    assert len(slack.calls("chat.postMessage")) == 1
    answers = sorted("déjà signalé" in c.args["text"] for c in slack.calls("chat.postEphemeral"))
    assert answers == [False, True]  # one was told it is relayed, the other that it already was
