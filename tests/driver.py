"""The one Slack driver of the scenario tests: people acting in Slack, as Slack sends their acts.

Every request goes through the real HTTP app (`/slack/events`, `/intake/mentions`), signed like Slack's, so
Bolt's real verification accepts or refuses it; every answer is read back from the fake Slack Web API or the
database. Scenario tests build a `Driver` (or use the `loop` / `clocked` fixtures that do) instead of writing
their own `send()`.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlmodel import Session, select

from bot.store.models import Draft, Mention, Reminder
from tests.conftest import AUTH, SIGNING_SECRET, drain, mention
from tests.slack_requests import block_action, interactive_body, signed_headers, trigger_id, view_submission

# The people of tests/fixtures/protocol.yaml the scenarios use.
CM, LEGAL_LEAD, LEGAL_EXPERT, NEWBIE, STRANGER, FIN_EXPERT = (
    "U0CM00001", "U0LEG0001", "U0LEG0002", "U0NEWBIE1", "U0STRANGE1", "U0FIN0002")


def send(http, payload: dict[str, Any], *, secret: str = SIGNING_SECRET, timestamp: int | None = None,
         expect: int | None = 200):
    """An interactive payload (click, modal, shortcut) posted as Slack posts it; `expect=None` takes any status."""
    body = interactive_body(payload)
    r = http.post("/slack/events", content=body, headers=signed_headers(secret, body, timestamp=timestamp))
    if expect is not None:
        assert r.status_code == expect, r.text
    return r


def slash_body(text: str, *, user: str, channel: str) -> str:
    """A `/vigie` command's form body, every field Slack sends, each command its own trigger_id."""
    return urlencode({"token": "t", "team_id": "T0TEAM0001", "team_domain": "acme", "channel_id": channel,
                      "channel_name": "x", "user_id": user, "user_name": "u", "command": "/vigie", "text": text,
                      "api_app_id": "A0VIGIE001", "response_url": "https://hooks.slack.invalid/commands/1",
                      "trigger_id": trigger_id()})


class Driver:
    """Drives the app like the people in the channel would.

    `frozen=True` when the test owns the clock (a `ManualClock`): outbox rows due later are then not waited for.
    """

    def __init__(self, http, slack, runtime, clock=None, *, channel: str = "C0LEGAL001"):
        self.http, self.slack, self.runtime, self.clock = http, slack, runtime, clock
        self.channel = channel

    @property
    def frozen(self) -> bool:
        return self.clock is not None

    def drain(self) -> None:
        drain(self.runtime, frozen=self.frozen)

    # --- acts ---------------------------------------------------------------------------------------------
    def at(self, when: datetime) -> None:
        self.clock.set(when)

    def intake(self, text: str, i: int = 1, **extra) -> int:
        r = self.http.post("/intake/mentions", headers=AUTH, json=mention(i, text=text, **extra))
        assert r.status_code == 202, r.text
        self.drain()
        return r.json()["mentions"][0]["id"]

    def click(self, action_id: str, value: int, user: str, channel: str | None = None) -> None:
        send(self.http, block_action(action_id=action_id, value=str(value), user=user,
                                     channel=channel or self.channel))
        self.drain()

    def modal(self) -> dict:
        return self.slack.last("views.open").args["view"]

    def submit(self, user: str, values: dict[str, str], view: dict | None = None):
        r = send(self.http, view_submission(view or self.modal(), user=user, values=values))
        self.drain()
        return r.json() if r.content else {}

    def slash(self, text: str, user: str = CM, channel: str = "C0GENERAL1") -> str:
        """`/vigie …` as typed by `user`; returns the ephemeral answer's text."""
        body = slash_body(text, user=user, channel=channel)
        r = self.http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["response_type"] == "ephemeral"
        return answer["text"]

    def sweep(self) -> None:
        self.runtime.sweep()
        self.drain()

    # --- what people see ----------------------------------------------------------------------------------
    def ephemeral(self, user: str) -> str:
        calls = [c for c in self.slack.calls("chat.postEphemeral") if c.args["user"] == user]
        assert calls, f"no ephemeral answer for {user}"
        return calls[-1].args["text"]

    def dms(self, user: str) -> list[str]:
        return [c.args["text"] for c in self.slack.calls("chat.postMessage") if c.args["channel"] == user]

    def _relay_ts(self, mention_id: int) -> str:
        with Session(self.runtime.engine) as s:
            return s.get(Mention, mention_id).relay_ts

    def thread(self, mention_id: int) -> list[str]:
        relay_ts = self._relay_ts(mention_id)
        return [m["text"] for m in self.slack.messages(self.channel)
                if m.get("thread_ts") == relay_ts and m["ts"] != relay_ts][::-1]

    def card(self, mention_id: int) -> str:
        relay_ts = self._relay_ts(mention_id)
        [message] = [m for m in self.slack.messages(self.channel) if m["ts"] == relay_ts]
        return json.dumps(message["blocks"], ensure_ascii=False)

    # --- what is stored -----------------------------------------------------------------------------------
    def draft(self, mention_id: int) -> Draft:
        with Session(self.runtime.engine) as s:
            return s.exec(select(Draft).where(Draft.mention_id == mention_id)
                          .order_by(Draft.version.desc())).first()

    def reminders(self, mention_id: int) -> list[tuple[str, str]]:
        with Session(self.runtime.engine) as s:
            return [(r.stage, r.step) for r in s.exec(select(Reminder).where(Reminder.mention_id == mention_id)
                                                       .order_by(Reminder.id)).all()]
