"""The protocol enforced over time, on a manual clock: the escalation ladder, on-call, crisis mode, /vigie."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.clock import ManualClock
from bot.domain import oncall
from bot.http import build_http_app
from bot.protocol.load import oncall_rotation
from bot.store.models import Crisis
from tests.conftest import AUTH, SIGNING_SECRET, drain, mention
from tests.driver import Driver
from tests.slack_requests import block_action, interactive_body, signed_headers
from tests.typography import fr

PARIS = ZoneInfo("Europe/Paris")
CM1, CM2, DM, LEGAL_EXPERT = "U0CM00001", "U0CM00002", "U0DM00001", "U0LEG0002"


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


class Clocked(Driver):
    """The shared Slack driver (tests/driver.py) on a clock the test moves: people act at given instants."""


@pytest.fixture
def clocked(engine, slack, settings):
    clock = ManualClock(paris(2026, 11, 23, 9, 0))  # a Monday morning in Paris
    for user, locale in ((CM1, "fr-FR"), (CM2, "fr-FR"), (DM, "en-US"), (LEGAL_EXPERT, "fr-FR")):
        slack.add_user(user, name=user, locale=locale)
    runtime = build_runtime(settings, clock=clock)
    runtime.start()
    with TestClient(build_http_app(runtime)) as http:
        yield Clocked(http, slack, runtime, clock)
    runtime.stop()
    runtime.engine.dispose()


def test_a_mention_left_alone_climbs_the_ladder_once_each_step(clocked):
    mid = clocked.intake("Joli packaging !", 1)  # general team, low: first response within 8 business hours
    card = json.dumps(clocked.slack.messages("C0GENERAL1")[0]["blocks"], ensure_ascii=False)
    assert "première réponse attendue avant <!date^1795449600^" in card  # 17:00 Paris = 16:00 UTC
    clocked.at(paris(2026, 11, 23, 12, 59))
    clocked.sweep()
    assert clocked.reminders(mid) == []
    clocked.at(paris(2026, 11, 23, 13, 0))  # half of 8 business hours after 09:00
    clocked.sweep()
    clocked.sweep()  # a second sweep (or a second instance) changes nothing
    assert clocked.reminders(mid) == [("first_response", "50%")]
    clocked.at(paris(2026, 11, 23, 17, 30))  # the deadline (17:00) and +30 min have both passed: catch up
    clocked.sweep()
    assert clocked.reminders(mid) == [("first_response", "50%"), ("first_response", "100%"),
                                      ("first_response", "+30m")]
    assert len(clocked.dms(DM)) == 1 and "Mention n°\u00a01 " in clocked.dms(DM)[0]
    thread = [c.args["text"] for c in clocked.slack.calls("chat.postMessage") if c.args.get("thread_ts")]
    assert sum("attendue avant" in t for t in thread) == 1  # the 50 % reminder
    assert sum("en retard" in t for t in thread) == 2  # at the deadline, then 30 min later
    relay_ts = clocked.runtime.vigie.mention(mid).relay_ts
    [card] = [m for m in clocked.slack.messages("C0GENERAL1") if m["ts"] == relay_ts]
    assert "première réponse en retard" in json.dumps(card["blocks"], ensure_ascii=False)
    clocked.at(paris(2026, 11, 24, 10, 0))
    clocked.sweep()
    assert len(clocked.reminders(mid)) == 3  # nothing new for first response


def test_a_mention_claimed_in_time_is_not_escalated(clocked):
    mid = clocked.intake("Un procès est annoncé", 2)  # legal
    clocked.at(paris(2026, 11, 23, 10, 0))
    body = interactive_body(block_action(action_id="mention_claim", value=str(mid), user=LEGAL_EXPERT,
                                         channel="C0LEGAL001"))
    clocked.http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    drain(clocked.runtime, frozen=True)
    clocked.at(paris(2026, 11, 23, 17, 30))
    clocked.sweep()
    assert [r for r in clocked.reminders(mid) if r[0] == "first_response"] == []


def test_a_critical_mention_on_saturday_night_reaches_the_on_call_people(clocked):
    clocked.at(paris(2026, 11, 28, 23, 10))
    mid = clocked.intake("Intoxication après avoir mangé vos biscuits, boycott !", 3, reach=50_000)
    clocked.at(paris(2026, 11, 28, 23, 10, 30))  # the next sweep, within a minute
    clocked.sweep()
    assert ("alert", "off-hours") in clocked.reminders(mid)
    on_call_cm = CM1  # week 46 of the rotation that started on 2026-01-05
    def alerts(user: str) -> list[str]:
        return [t for t in clocked.dms(user) if "hors des heures ouvrées" in t]

    assert len(alerts(on_call_cm)) == 1 and len(alerts(DM)) == 1
    assert alerts(CM2) == []  # not on call this week
    # Its crisis words also propose a crisis, once, to every community manager and the on-call decision maker.
    assert all(sum("mots de crise" in t for t in clocked.dms(u)) == 1 for u in (CM1, CM2, DM))
    # Critical is round the clock: 30 minutes to a first response, then late, in the night.
    clocked.at(paris(2026, 11, 28, 23, 45))
    clocked.sweep()
    assert ("first_response", "100%") in clocked.reminders(mid)


def test_vigie_command_in_both_languages_with_bad_input(clocked):
    clocked.intake("Un procès est annoncé", 4)
    assert "attribuer" in clocked.slash("aide")
    assert "assign" in clocked.slash("help", user=DM)  # DM's Slack locale is English
    assert "Juridique" in clocked.slash("statut")
    assert "Legal" in clocked.slash("status", user=DM)
    protocol = clocked.slash("protocole juridique")
    assert "<@U0LEG0001>" in protocol and "équipe Juridique" in protocol and "24 h/24" in protocol
    assert "Astreinte" in clocked.slash("astreinte") and "<@U0CM00001>" in clocked.slash("astreinte qui")
    assert "asign" in clocked.slash("asign 1 <@U0LEG0002>", user=DM) or "assign" in clocked.slash("asign 1", user=DM)
    error = clocked.slash("attribuer abc")
    assert "aide" in error
    assert clocked.slash("voir 999") == "Cette mention n'existe plus."
    assert "U0LEG0002" in clocked.slash("attribuer 1 <@U0LEG0002|camille>")
    assert "juste" not in clocked.slash("x" * 2100)


def test_on_call_take_and_swap(clocked):
    assert "<@U0CM00001>" in clocked.slash("astreinte qui")
    assert "<@U0CM00002>" in clocked.slash("astreinte prendre weekend", user=CM2)
    clocked.at(paris(2026, 11, 28, 12, 0))  # Saturday noon: CM2 took the weekend
    assert "<@U0CM00002>" in clocked.slash("astreinte qui")
    assert "rotation" in clocked.slash("astreinte echanger <@U0LEG0002>", user=CM2) or \
        "pas d'astreinte" in clocked.slash("astreinte echanger <@U0LEG0002>", user=CM2)
    assert clocked.slash("astreinte prendre", user=LEGAL_EXPERT).startswith("Seul un community manager")


def test_a_spike_proposes_a_crisis_which_is_declared_and_stood_down(clocked):
    for i in range(6):  # 6 mentions in the hour against none in the baseline week
        clocked.intake(f"Encore un message n°{i} sur la marque", 100 + i)
    clocked.sweep()
    def proposals() -> list:
        return [c for c in clocked.slack.calls("chat.postMessage")
                if c.args["channel"] == CM1 and c.args["text"].startswith("Pic de mentions")]

    assert len(proposals()) == 1 and proposals()[0].args["blocks"][1]["elements"][0]["action_id"] == "crisis_declare"
    clocked.sweep()  # proposed once
    assert len(proposals()) == 1
    body = interactive_body(block_action(action_id="crisis_declare", value="spike", user=CM1, channel="D0CM000001"))
    clocked.http.post("/slack/events", content=body, headers=signed_headers(SIGNING_SECRET, body))
    drain(clocked.runtime, frozen=True)
    [declared] = [c for c in clocked.slack.calls("chat.postMessage") if c.args["channel"] == "C0CRISIS01"]
    assert "Crise déclarée" in declared.args["text"] and "nous regardons" in declared.args["text"]
    [invite] = clocked.slack.calls("conversations.invite")
    assert invite.args["users"] == f"{CM1},{DM}"  # who declared it, and the decision makers
    assert "Crise déclarée" in clocked.slash("crise statut")
    # During the crisis a reply also needs a decision maker.
    assert "decision_maker" in clocked.runtime.workflow.required_for(
        clocked.runtime.vigie.mention(1))
    clocked.at(paris(2026, 11, 23, 11, 0))
    assert "bilan" in clocked.slash("crise fin Retour au calme").lower()
    drain(clocked.runtime, frozen=True)
    ended = [c for c in clocked.slack.calls("chat.postMessage") if c.args["channel"] == "C0CRISIS01"][-1]
    assert "Fin de crise" in ended.args["text"] and "Chronologie" in ended.args["text"]
    with Session(clocked.runtime.engine) as s:
        assert s.exec(select(Crisis)).one().ended_at is not None
    assert clocked.slash("crise declarer", user=LEGAL_EXPERT).startswith("Seul un community manager")


def test_with_the_example_protocol_a_saturday_night_critical_mention_reaches_on_call(engine, slack, database_url):
    from tests.conftest import make_settings

    settings = make_settings(database_url, slack.url, VIGIE_PROTOCOL_FILE=None)  # runs on the shipped example
    clock = ManualClock(paris(2026, 11, 28, 23, 40))  # Saturday night
    runtime = build_runtime(settings, clock=clock)
    runtime.start()
    try:
        with TestClient(build_http_app(runtime)) as http:
            r = http.post("/intake/mentions", headers=AUTH, json=mention(
                1, text="Intoxication alimentaire après vos biscuits : rappel produit ?", reach=200_000))
            assert r.status_code == 202
        drain(runtime)
        clock.advance(seconds=30)  # the next sweep
        runtime.sweep()
        drain(runtime)
        protocol = runtime.protocol
        at = clock.now()
        expected = {oncall.on_call(at, rotation) for role in ("community_managers", "decision_makers")
                    if (rotation := oncall_rotation(protocol, role)) is not None} - {None}
        assert expected, "the example protocol names on-call rotations"
        alerted = {c.args["channel"] for c in slack.calls("chat.postMessage")
                   if "hors des heures ouvrées" in c.args.get("text", "")}
        assert expected <= alerted
    finally:
        runtime.stop()
        runtime.engine.dispose()
