"""Two people answering one crisis alert at once, on the real server: one decision, every copy closed once.

Each round proposes a new alert (through the use case: setting the scene), then releases two clicks signed like
Slack's on a barrier (`tests.live.simultaneously`): « Ce n'est pas une crise » twice, or « Ce n'est pas une
crise » against « Déclarer la crise ». Run on SQLite and, with VIGIE_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session, col, func, select

from bot.intake.schema import MentionIn
from bot.slack.ids import Action
from bot.store.models import AuditEvent, Crisis, CrisisSignal, Mention, Outbox
from tests.conftest import SIGNING_SECRET, drain, mention
from tests.live import SlackClient, live_server, simultaneously
from tests.slack_requests import block_action

ROUNDS = int(os.environ.get("VIGIE_RACE_ROUNDS", "50")) // 5 or 1  # each round also opens a crisis room
CM, CM2, DM = "U0CM00001", "U0CM00002", "U0DM00001"
RECIPIENTS = {CM, CM2, DM}
_ids = itertools.count(1)


class Desk:
    def __init__(self, runtime: Any, client: SlackClient):
        self.runtime, self.client = runtime, client

    def new_alert(self) -> int:
        i = next(_ids)
        [result] = self.runtime.vigie.ingest([MentionIn(**mention(500_000 + i))], actor="test")
        with Session(self.runtime.engine) as s:
            m = s.get(Mention, result.id)
        now = self.runtime.vigie.clock.now()
        assert self.runtime.crisis._propose(f"words:race{i}", "crisis_words", {"mention": m.id}, now, mention=m)
        with Session(self.runtime.engine) as s:
            return s.exec(select(CrisisSignal.id).where(CrisisSignal.key == f"words:race{i}")).one()

    def click(self, action: Action, signal: int, user: str) -> Any:
        payload = block_action(action_id=action.value, value=str(signal), user=user, channel="D0CM000001")
        return lambda: self.client.interaction(payload)

    def signal(self, signal: int) -> CrisisSignal:
        with Session(self.runtime.engine) as s:
            found = s.get(CrisisSignal, signal)
            assert found is not None
            return found

    def audit(self, action: str, signal: int) -> list[AuditEvent]:
        with Session(self.runtime.engine) as s:
            rows = s.exec(select(AuditEvent).where(AuditEvent.action == action)).all()
        return [r for r in rows if (r.after or {}).get("signal") == signal or action.startswith("refused.")]

    def closing_updates(self, signal: int) -> list[Outbox]:
        with Session(self.runtime.engine) as s:
            return list(s.exec(select(Outbox).where(col(Outbox.dedupe_key).like(f"crisis-closed:{signal}:%"))).all())

    def end_crisis(self) -> None:
        assert self.client.command("crise fin calme", user=CM).status_code == 200
        with Session(self.runtime.engine) as s:
            assert s.exec(select(func.count()).select_from(Crisis).where(col(Crisis.ended_at).is_(None))).one() == 0


@pytest.fixture
def desk(runtime, slack) -> Iterator[Desk]:
    for user in RECIPIENTS:
        slack.add_user(user, name=user, locale="fr-FR")
    with live_server(runtime) as server:
        yield Desk(runtime, SlackClient(server.url, SIGNING_SECRET))


def test_two_people_saying_not_a_crisis_at_once_make_one_decision(desk):
    for _ in range(ROUNDS):
        signal = desk.new_alert()
        refused_before = len(desk.audit("refused.crisis.not_a_crisis", signal))
        answers = simultaneously([desk.click(Action.not_a_crisis, signal, CM),
                                  desk.click(Action.not_a_crisis, signal, CM2)])
        assert all(a.status_code == 200 for a in answers)
        decision = desk.signal(signal).details["decision"]
        assert decision["kind"] == "dismissed" and decision["by"] in (CM, CM2)
        [event] = desk.audit("crisis.not_a_crisis", signal)
        assert event.actor == decision["by"]
        assert len(desk.audit("refused.crisis.not_a_crisis", signal)) == refused_before + 1  # the other one
        updates = desk.closing_updates(signal)
        assert sorted(u.payload["channel"] for u in updates) == sorted(RECIPIENTS)  # each copy closed once
    drain(desk.runtime, timeout=30)


def test_not_a_crisis_against_declare_at_once_make_one_decision_on_the_alert(desk):
    for _ in range(ROUNDS):
        signal = desk.new_alert()
        answers = simultaneously([desk.click(Action.not_a_crisis, signal, CM),
                                  desk.click(Action.declare_crisis, signal, CM2)])
        assert all(a.status_code == 200 for a in answers)
        decision = desk.signal(signal).details["decision"]
        dismissed = desk.audit("crisis.not_a_crisis", signal)
        if decision["kind"] == "declared":  # the declaration came first: « not a crisis » was refused
            assert decision["by"] == CM2 and decision["crisis"] and dismissed == []
        else:  # « not a crisis » came first: the crisis is declared all the same, without this alert
            assert decision["by"] == CM and len(dismissed) == 1
        with Session(desk.runtime.engine) as s:
            assert s.exec(select(func.count()).select_from(Crisis).where(col(Crisis.ended_at).is_(None))).one() == 1
        assert sorted(u.payload["channel"] for u in desk.closing_updates(signal)) == sorted(RECIPIENTS)
        drain(desk.runtime, timeout=30)  # the room is opened after the ack: let it settle before standing down
        desk.end_crisis()
    drain(desk.runtime, timeout=30)


def test_two_people_standing_down_at_once_end_the_crisis_once_and_an_old_button_ends_nothing(desk):
    for _ in range(ROUNDS):
        assert desk.client.command("crise déclarer fuite", user=CM).status_code == 200
        with Session(desk.runtime.engine) as s:
            crisis = s.exec(select(Crisis).where(col(Crisis.ended_at).is_(None))).one()
        drain(desk.runtime, timeout=30)
        answers = simultaneously([desk.click(Action.end_crisis, crisis.id, CM),
                                  desk.click(Action.end_crisis, crisis.id, DM)])
        assert all(a.status_code == 200 for a in answers)
        with Session(desk.runtime.engine) as s:
            ended = s.exec(select(AuditEvent).where(AuditEvent.action == "crisis.ended")).all()
            assert s.get(Crisis, crisis.id).ended_at is not None  # type: ignore[union-attr]
        assert sum((e.after or {}).get("crisis") == crisis.id for e in ended) == 1
    # A new crisis: the last round's button (still on a client that did not refresh) ends nothing.
    assert desk.client.command("crise déclarer encore", user=CM).status_code == 200
    assert desk.click(Action.end_crisis, crisis.id, CM)().status_code == 200
    assert desk.runtime.crisis.active() is not None
    desk.end_crisis()
    drain(desk.runtime, timeout=30)
