"""Answers where the person is: an ephemeral answer to a click made in a thread carries that thread's `thread_ts`,
so Slack shows it in the thread, not in the channel. Driven through the real HTTP app with Slack's block_actions
payload shape (`container.thread_ts`, `message.thread_ts`); the fake Slack records what chat.postEphemeral got,
and the arguments are checked against Slack's method spec (tests/slackspec.py)."""

from __future__ import annotations

import json

import pytest

from handlers.actions import thread_of
from tests import slackspec
from tests.driver import CM, LEGAL_EXPERT, LEGAL_LEAD, STRANGER, Driver, send
from tests.slack_requests import block_action


@pytest.fixture
def loop(http, slack, runtime):
    for user, locale in ((CM, "fr-FR"), (LEGAL_LEAD, "fr-FR"), (LEGAL_EXPERT, "fr-FR"), (STRANGER, "en-US")):
        slack.add_user(user, name=user, locale=locale)
    return Driver(http, slack, runtime)


def click(loop: Driver, action_id: str, value: int, user: str, *, ts: str, thread_ts: str | None) -> None:
    """A click on the message `ts`, which is a reply in thread `thread_ts` (or a message in the channel when
    None), as Slack sends it."""
    payload = block_action(action_id=action_id, value=str(value), user=user, channel=loop.channel, message_ts=ts)
    if thread_ts is not None:
        payload["container"]["thread_ts"] = thread_ts
        payload["message"]["thread_ts"] = thread_ts
    send(loop.http, payload)
    loop.drain()


def answers(loop: Driver, user: str) -> list[dict]:
    return [c.args for c in loop.slack.calls("chat.postEphemeral") if c.args["user"] == user]


def spec_problems(args: dict) -> list[str]:
    return slackspec.check_message(args, method="chat.postEphemeral")


def draft_card_ts(loop: Driver, relay_ts: str, draft_id: int) -> str:
    [card] = [m["ts"] for m in loop.slack.messages(loop.channel)
              if m.get("thread_ts") == relay_ts and m["ts"] != relay_ts
              and '"draft_approve"' in json.dumps(m.get("blocks") or []) and str(draft_id) in json.dumps(m["blocks"])]
    return card


def test_a_refusal_to_a_click_on_a_draft_card_in_the_thread_shows_in_that_thread(loop):
    mid = loop.intake("Un avocat annonce un procès contre la marque")
    relay_ts = loop._relay_ts(mid)
    loop.click("mention_claim", mid, LEGAL_EXPERT)
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.",
                               "network": "x", "language": "fr", "label": "public"})
    draft = loop.draft(mid)
    card_ts = draft_card_ts(loop, relay_ts, draft.id)
    assert card_ts != relay_ts

    # Nobody approves their own draft: the refusal is answered in the thread where the card is.
    before = len(answers(loop, LEGAL_EXPERT))
    click(loop, "draft_approve", draft.id, LEGAL_EXPERT, ts=card_ts, thread_ts=relay_ts)
    [refusal] = answers(loop, LEGAL_EXPERT)[before:]
    assert "propre" in refusal["text"]
    assert refusal["thread_ts"] == relay_ts and refusal["channel"] == loop.slack.channel_id(loop.channel)
    assert spec_problems(refusal) == []
    assert loop.slack.ephemerals(loop.channel)[-1]["thread_ts"] == relay_ts  # what Slack was given to show

    # A refusal for a click outside the thread (a modal button on the same card) also lands in the thread.
    click(loop, "draft_publish", draft.id, CM, ts=card_ts, thread_ts=relay_ts)
    [publish] = answers(loop, CM)[-1:]
    assert publish["thread_ts"] == relay_ts and spec_problems(publish) == []


def test_a_click_on_the_card_in_the_channel_is_answered_in_the_channel(loop):
    mid = loop.intake("Un avocat annonce un procès contre la marque")
    relay_ts = loop._relay_ts(mid)
    loop.click("mention_claim", mid, LEGAL_EXPERT)  # the card now has a thread
    # The relay card is the thread's parent: Slack sends thread_ts == ts; the person is in the channel.
    click(loop, "mention_claim", mid, STRANGER, ts=relay_ts, thread_ts=relay_ts)
    [refused] = answers(loop, STRANGER)
    assert "thread_ts" not in refused and spec_problems(refused) == []


def test_the_claim_answers_follow_the_thread_in_one_transaction(loop):
    # A card shown as a reply in a thread: the claim's acknowledgement (queued with the claim, in _run) and a
    # refusal (queued with the refusal's audit row, in record_refusal) carry the thread.
    mid = loop.intake("Un avocat annonce un procès contre la marque")
    relay_ts = loop._relay_ts(mid)
    reply_ts = loop.slack.add_message(loop.channel, "carte", thread_ts=relay_ts, user=CM)
    click(loop, "mention_claim", mid, STRANGER, ts=reply_ts, thread_ts=relay_ts)
    click(loop, "mention_claim", mid, LEGAL_EXPERT, ts=reply_ts, thread_ts=relay_ts)
    [refused], [claimed] = answers(loop, STRANGER), answers(loop, LEGAL_EXPERT)
    assert refused["thread_ts"] == relay_ts and claimed["thread_ts"] == relay_ts
    assert spec_problems(refused) == [] and spec_problems(claimed) == []


def test_thread_of_reads_slacks_payload_shape() -> None:
    in_thread = block_action(action_id="x", value="1", message_ts="2.000002")
    in_thread["container"]["thread_ts"] = "1.000001"
    assert thread_of(in_thread) == "1.000001"
    only_message = block_action(action_id="x", value="1", message_ts="2.000002")
    only_message["message"]["thread_ts"] = "1.000001"
    assert thread_of(only_message) == "1.000001"
    assert thread_of(block_action(action_id="x", value="1")) is None  # a message in the channel
    parent = block_action(action_id="x", value="1", message_ts="1.000001")
    parent["message"]["thread_ts"] = "1.000001"
    assert thread_of(parent) is None  # the thread's parent, clicked in the channel
    assert thread_of({"type": "block_actions", "channel": {"id": "C1"}}) is None
