"""Slack delivering the same request again (`X-Slack-Retry-Num`, or a load balancer replaying it to another
instance) has no second effect: one draft, one audit row, one Slack message.

Every request goes through the real signed HTTP path (Bolt's signature check, then the listeners); the
second delivery is byte-for-byte the first, re-signed with a fresh timestamp as Slack does on a retry.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlmodel import Session, select

from bot.store.models import AuditEvent, Draft, Mention
from tests.conftest import AUTH, SIGNING_SECRET, drain, mention
from tests.slack_requests import (
    block_action,
    interactive_body,
    message_shortcut,
    signed_headers,
    view_submission,
)

EXPERT, CM = "U0LEG0002", "U0CM00001"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


def deliver(http, body: str, *, content_type: str = "application/x-www-form-urlencoded", retry: bool = False):
    headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
    if retry:
        headers.update(RETRY)
    r = http.post("/slack/events", content=body, headers=headers)
    assert r.status_code == 200, r.text  # a retry is acknowledged too, or Slack would keep retrying
    return r


def twice(http, runtime, payload: dict) -> None:
    body = interactive_body(payload)
    deliver(http, body)
    drain(runtime)
    deliver(http, body, retry=True)
    drain(runtime)


def audit(runtime, action: str) -> list[AuditEvent]:
    with Session(runtime.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


@pytest.fixture
def relayed(http, slack, runtime) -> int:
    for user in (EXPERT, CM):
        slack.add_user(user, name=user, locale="fr-FR")
    r = http.post("/intake/mentions", headers=AUTH, json=mention(1, text="Un avocat annonce un procès"))
    drain(runtime)
    return r.json()["mentions"][0]["id"]


def event_callback(event: dict, event_id: str = "Ev0VIGIE0001") -> str:
    return json.dumps({
        "token": "legacy-verification-token", "team_id": "T0TEAM0001", "api_app_id": "A0VIGIE001",
        "type": "event_callback", "event_id": event_id, "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": "T0TEAM0001", "user_id": "U0VIGIEBOT", "is_bot": True}],
        "is_ext_shared_channel": False, "event_context": "4-eyJldCI6ImFwcF9ob21lX29wZW5lZCJ9",
    })


def test_a_retried_event_is_handled_once(http, slack, runtime):
    body = event_callback({"type": "app_home_opened", "user": CM, "channel": "D0CM000001", "tab": "home",
                           "event_ts": f"{time.time():.6f}"})
    deliver(http, body, content_type="application/json")
    drain(runtime)
    deliver(http, body, content_type="application/json", retry=True)
    drain(runtime)
    assert len(slack.calls("views.publish")) == 1
    # A new event (another event_id) is work again: the deduplication is by delivery, not by user.
    deliver(http, event_callback({"type": "app_home_opened", "user": CM, "channel": "D0CM000001", "tab": "home",
                                  "event_ts": f"{time.time():.6f}"}, event_id="Ev0VIGIE0002"),
            content_type="application/json")
    drain(runtime)
    assert len(slack.calls("views.publish")) == 2


def test_a_retried_button_click_claims_once(http, slack, runtime, relayed):
    posted_before = len(slack.calls("chat.postMessage"))
    twice(http, runtime, block_action(action_id="mention_claim", value=str(relayed), user=EXPERT,
                                      channel="C0LEGAL001"))
    assert len(audit(runtime, "mention.claimed")) == 1
    assert len(slack.calls("chat.postMessage")) == posted_before + 1  # "X prend en charge" in the thread
    [told] = slack.calls("chat.postEphemeral")  # "it is yours", once; no "you already own it"
    assert told.args["user"] == EXPERT
    assert len(slack.calls("chat.update")) == 1  # the card refreshed once


def test_a_retried_view_submission_makes_one_draft(http, slack, runtime, relayed):
    deliver(http, interactive_body(block_action(action_id="mention_draft", value=str(relayed), user=EXPERT,
                                                channel="C0LEGAL001")))
    drain(runtime)
    view = slack.last("views.open").args["view"]
    twice(http, runtime, view_submission(view, user=EXPERT, values={
        "text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.",
        "network": "x", "language": "fr", "label": "public"}))
    with Session(runtime.engine) as s:
        drafts = s.exec(select(Draft).where(Draft.mention_id == relayed)).all()
        relay_ts = s.get(Mention, relayed).relay_ts
    assert [d.version for d in drafts] == [1]
    assert len(audit(runtime, "draft.submitted")) == 1
    thread = [m["text"] for m in slack.messages("C0LEGAL001") if m.get("thread_ts") == relay_ts
              and m["ts"] != relay_ts]
    assert sum(text.startswith("Brouillon v1") for text in thread) == 1, thread  # one draft card
    assert sum("attente d'approbation" in text for text in thread) == 1, thread  # approvers told once
    asks = [c for c in slack.calls("chat.postMessage") if "approbation est attendue" in c.args["text"]]
    assert len(asks) == len({c.args["channel"] for c in asks}) > 0  # one direct message per approver


def test_a_retried_shortcut_flags_once_and_answers_once(http, slack, runtime):
    twice(http, runtime, message_shortcut(text="Grève annoncée", ts="1763719200.000900"))
    with Session(runtime.engine) as s:
        assert len(s.exec(select(Mention)).all()) == 1
    assert len(slack.calls("chat.postMessage")) == 1
    assert len(slack.calls("chat.postEphemeral")) == 1  # not a second "already flagged"
    assert len(audit(runtime, "mention.received")) == 1


def test_a_second_click_is_not_a_retry(http, slack, runtime, relayed):
    """Two separate clicks (two trigger ids) are two requests: the second one is answered, not swallowed."""
    click = block_action(action_id="mention_claim", value=str(relayed), user=EXPERT, channel="C0LEGAL001")
    deliver(http, interactive_body(click))
    drain(runtime)
    deliver(http, interactive_body({**click, "trigger_id": "123.456.second",
                                    "actions": [{**click["actions"][0], "action_ts": "1763719301.000001"}]}))
    drain(runtime)
    assert len(audit(runtime, "mention.claimed")) >= 1
    assert len(slack.calls("chat.postEphemeral")) + len(slack.calls("chat.postMessage")) >= 3


def test_handled_deliveries_are_forgotten_after_a_day(engine):
    from datetime import UTC, datetime, timedelta

    from bot.store.deliveries import KEEP, first_delivery, forget_deliveries

    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert first_delivery(engine, "event:old", now=now - KEEP - timedelta(seconds=1))
    assert first_delivery(engine, "event:recent", now=now - timedelta(minutes=5))
    assert forget_deliveries(engine, now=now) == 1
    assert not first_delivery(engine, "event:recent", now=now)  # Slack's retries come within minutes
    assert first_delivery(engine, "event:old", now=now)
