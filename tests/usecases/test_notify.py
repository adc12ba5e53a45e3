"""What people get by direct message, and how it stays true: crisis alerts (confirm dialogs, « Ce n'est pas une
crise », updated in place for every recipient), escalation notices and approval requests (excerpt, link to the card,
nobody else named, one ping per person, updated in place when someone acts), and the answers to modals and
shortcuts, shown where the person is. Manual clock, the real HTTP app (tests/driver.py), the fake Slack."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from bot.app import build_runtime
from bot.domain import access
from bot.clock import ManualClock
from bot.http import build_http_app
from bot.store.models import AuditEvent, CrisisSignal
from tests.driver import CM, FIN_EXPERT, LEGAL_EXPERT, LEGAL_LEAD, Driver, send
from tests.slack_requests import block_action, message_shortcut

PARIS = ZoneInfo("Europe/Paris")
CM2, DM = "U0CM00002", "U0DM00001"
RECIPIENTS = (CM, CM2, DM)  # the community managers and the on-call decision maker


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def desk(engine, slack, settings):
    clock = ManualClock(paris(2026, 11, 23, 9, 50))  # a Monday morning
    for user, locale in ((CM, "fr-FR"), (CM2, "fr-FR"), (DM, "en-US"), (LEGAL_EXPERT, "fr-FR"),
                         (LEGAL_LEAD, "fr-FR")):
        slack.add_user(user, name=user, locale=locale)
    runtime = build_runtime(settings, clock=clock)
    runtime.start()
    with TestClient(build_http_app(runtime)) as http:
        yield Driver(http, slack, runtime, clock)
    runtime.stop()
    runtime.engine.dispose()


# --- helpers ------------------------------------------------------------------------------------------------


def alert_posts(desk: Driver, user: str, starts: str = "") -> list:
    return [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == user
            and any(b.get("type") == "actions" for b in c.args.get("blocks") or [])
            and c.args["text"].startswith(starts)]


def shown(desk: Driver, post) -> dict:  # type: ignore[no-untyped-def]
    """The message as its recipient sees it now (after any update)."""
    channel, ts = post.response["channel"], post.response["ts"]
    [message] = [m for m in desk.slack.messages(channel) if m["ts"] == ts]
    return message


def buttons(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]]


def press(desk: Driver, action_id: str, value: int | str, user: str, channel: str = "D0CM000001") -> None:
    send(desk.http, block_action(action_id=action_id, value=str(value), user=user, channel=channel))
    desk.drain()


def spike(desk: Driver, n: int = 6, first: int = 100) -> None:
    for i in range(n):  # n mentions in the window (1 h) against none in the baseline week (min 5)
        desk.intake(f"Encore un message n°{i} sur la marque", first + i)


def signal_id(desk: Driver) -> int:
    with Session(desk.runtime.engine) as s:
        return s.exec(select(CrisisSignal.id).order_by(CrisisSignal.id.desc())).first()  # type: ignore[union-attr]


def audit(desk: Driver, action: str) -> list[AuditEvent]:
    with Session(desk.runtime.engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- crisis alerts -----------------------------------------------------------------------------------------


def test_a_crisis_alert_asks_for_confirmation_offers_not_a_crisis_and_speaks_plainly(desk):
    spike(desk)
    desk.sweep()
    [post] = alert_posts(desk, CM)
    text = post.args["text"]
    assert text.startswith("Pic de mentions") and "6 en 1\u00a0heure" in text
    assert "fenêtre" not in text and "période de référence" not in text
    declare, not_crisis = buttons(post.args)
    assert declare["action_id"] == "crisis_declare" and declare["style"] == "danger"
    confirm = declare["confirm"]  # Block Kit's confirm object: title, text, confirm, deny (plain_text)
    assert {confirm[k]["type"] for k in ("title", "confirm", "deny")} == {"plain_text"}
    assert confirm["title"]["text"] == "Déclarer une crise\u202f?" and confirm["deny"]["text"] == "Annuler"
    assert not_crisis["action_id"] == "crisis_not_a_crisis" and "style" not in not_crisis
    assert not_crisis["text"]["text"] == "Ce n'est pas une crise"
    [en] = alert_posts(desk, DM)  # the decision maker's copy is in the protocol's language, like the channel's
    assert len(buttons(en.args)) == 2


def test_declaring_updates_every_recipients_alert_and_lists_the_spike_mentions(desk):
    spike(desk)
    desk.sweep()
    posts = {user: alert_posts(desk, user) for user in RECIPIENTS}
    assert all(len(p) == 1 for p in posts.values())
    desk.at(paris(2026, 11, 23, 10, 2))
    press(desk, "crisis_declare", signal_id(desk), CM)
    # Every recipient's alert (not only the one clicked) lost its buttons and says who declared, when.
    updates = desk.slack.calls("chat.update")
    for user, [post] in posts.items():
        message = shown(desk, post)
        assert buttons(message) == [], user
        assert f"Crise déclarée par <@{CM}>" in json.dumps(message["blocks"], ensure_ascii=False)
        assert sum(u.args["ts"] == post.response["ts"] for u in updates) == 1  # one update each
    # The announcement lists the mentions that made the spike (low severity, not only open high/critical ones).
    [announced] = [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == "C0CRISIS01"]
    assert "l'origine de l'alerte" in announced.args["text"]
    assert all(f"n°{i} sur la marque" in announced.args["text"] for i in range(6))
    stand_down = buttons(announced.args)
    assert [b["action_id"] for b in stand_down] == ["crisis_end"] and "confirm" in stand_down[0]

    # Standing down (its button asked for confirmation): the summary counts the spike's mentions too.
    desk.at(paris(2026, 11, 23, 10, 30))
    desk.intake("Un dernier message sur la marque", 300)
    press(desk, "crisis_end", stand_down[0]["value"], CM2, channel="C0CRISIS01")
    ended = [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == "C0CRISIS01"][-1]
    assert "Fin de crise" in ended.args["text"] and "Mentions reçues\u00a0: 7" in ended.args["text"], ended.args["text"]
    announcement = shown(desk, announced)
    assert buttons(announcement) == [] and f"Crise levée par <@{CM2}>" in json.dumps(announcement["blocks"],
                                                                                       ensure_ascii=False)


def test_not_a_crisis_closes_the_alert_for_everyone_is_audited_and_the_spike_is_not_proposed_again(desk):
    spike(desk)
    desk.sweep()
    posts = {user: alert_posts(desk, user) for user in RECIPIENTS}
    press(desk, "crisis_not_a_crisis", signal_id(desk), CM2)
    assert "pas une crise" in desk.ephemeral(CM2)
    for user, [post] in posts.items():
        message = shown(desk, post)
        assert buttons(message) == [], user
        assert f"Pas une crise, selon <@{CM2}>" in json.dumps(message["blocks"], ensure_ascii=False)
    [event] = audit(desk, "crisis.not_a_crisis")
    assert event.actor == CM2 and event.after["signal"] == signal_id(desk)
    # The spike grows: it is the same signal, not proposed again, and its closed alerts stay closed.
    def dm_updates() -> int:
        return sum(c.args["channel"].startswith("D") for c in desk.slack.calls("chat.update"))

    updates = dm_updates()
    desk.at(paris(2026, 11, 23, 10, 5))
    spike(desk, 4, first=200)
    desk.sweep()
    assert all(len(alert_posts(desk, user)) == 1 for user in RECIPIENTS)
    assert dm_updates() == updates
    # A second answer to the same alert is told what was decided; nothing changes.
    press(desk, "crisis_not_a_crisis", signal_id(desk), CM)
    assert "déjà traitée" in desk.ephemeral(CM)
    assert len(audit(desk, "crisis.not_a_crisis")) == 1
    # Someone who may not decide is refused.
    press(desk, "crisis_not_a_crisis", signal_id(desk), LEGAL_EXPERT)
    assert "Seul un community manager" in desk.ephemeral(LEGAL_EXPERT)
    assert [e.reason for e in audit(desk, "refused.crisis.not_a_crisis")] == ["already_decided", "not_cm"]


def test_a_growing_spike_updates_its_alerts_in_place_without_a_new_ping(desk):
    spike(desk)
    desk.sweep()
    [post] = alert_posts(desk, CM)
    desk.at(paris(2026, 11, 23, 10, 5))
    spike(desk, 3, first=200)
    desk.sweep()
    assert len(alert_posts(desk, CM)) == 1  # no new message
    message = shown(desk, post)
    assert "9 en 1\u00a0heure" in message["blocks"][0]["text"]["text"] and len(buttons(message)) == 2


def test_an_off_hours_critical_alert_has_the_excerpt_and_the_link_and_names_nobody_else(desk):
    desk.at(paris(2026, 11, 28, 23, 10))  # Saturday night
    desk.intake("Intoxication après avoir mangé vos biscuits, boycott !", 3, reach=50_000)
    desk.at(paris(2026, 11, 28, 23, 10, 30))
    desk.sweep()
    for user in (CM, DM):
        [dm] = [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == user
                and "hors des heures ouvrées" in c.args["text"]]
        text = json.dumps(dm.args["blocks"], ensure_ascii=False)
        assert "> Intoxication après avoir mangé vos biscuits" in text  # the excerpt, quoted
        assert "slack.com/archives/" in text  # the card's permalink (chat.getPermalink)
        assert "<@" not in dm.args["text"] and "<@" not in text  # a one-to-one message names nobody else
    # The crisis alert for its crisis words carries the same context.
    [words] = alert_posts(desk, CM2, starts="La mention")
    assert "> Intoxication" in json.dumps(words.args["blocks"], ensure_ascii=False)


# --- escalation notices --------------------------------------------------------------------------------------


def test_an_escalation_pings_nobody_about_their_own_act_and_its_notices_follow_the_mention(desk):
    desk.channel = "C0LEGAL001"
    mid = desk.intake("Un avocat annonce un procès contre la marque")
    desk.slash(f"escalader {mid} urgent", user=CM)
    desk.drain()
    [thread] = [m for m in desk.thread(mid) if "urgent" in m]
    # The one who escalated is named (by their Slack name), not pinged; the people asked are.
    assert f"<@{CM}>" not in thread and CM in thread and f"<@{LEGAL_LEAD}>" in thread  # named once as who escalated, not pinged as a recipient
    [notice] = [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == DM]
    blocks = json.dumps(notice.args["blocks"], ensure_ascii=False)
    assert "> Un avocat annonce un procès" in blocks and "slack.com/archives/" in blocks
    assert "<@" not in blocks and "<@" not in notice.args["text"]  # a one-to-one message pings nobody else
    # Someone takes the mention: the notice says so in place (no new message).
    desk.click("mention_claim", mid, LEGAL_EXPERT)
    message = shown(desk, notice)
    assert f"Prise en charge par <@{LEGAL_EXPERT}>" in json.dumps(message["blocks"], ensure_ascii=False)
    assert len([c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == DM]) == 1


# --- approval requests -------------------------------------------------------------------------------------


def draft(desk: Driver, mid: int, user: str, text: str, label: str = "public") -> None:
    desk.click("mention_draft", mid, user)
    desk.submit(user, {"text": text, "network": "x", "language": "fr", "label": label})


def approval_asks(desk: Driver, user: str) -> list:
    return [c for c in desk.slack.calls("chat.postMessage") if c.args["channel"] == user
            and "approbation est attendue" in c.args["text"]]


def test_approvers_are_asked_once_each_when_a_version_can_be_approved_and_see_it_decided(desk):
    desk.channel = "C0LEGAL001"
    mid = desk.intake("Un avocat annonce un procès contre la marque")
    desk.click("mention_claim", mid, LEGAL_EXPERT)
    # A draft the checks block for good (an internal label) cannot be approved: nobody is asked.
    draft(desk, mid, LEGAL_EXPERT, "Merci pour votre message.", label="internal")
    assert approval_asks(desk, CM) == [] and approval_asks(desk, LEGAL_LEAD) == []
    # An approvable version: each approver is asked once, by direct message, with the excerpt and the link.
    draft(desk, mid, LEGAL_EXPERT, "Merci pour votre message. Nous ne commentons pas une procédure en cours.")
    [ask_cm], [ask_lead] = approval_asks(desk, CM), approval_asks(desk, LEGAL_LEAD)
    assert approval_asks(desk, LEGAL_EXPERT) == []  # not about one's own draft
    blocks = json.dumps(ask_cm.args["blocks"], ensure_ascii=False)
    assert "<@" not in blocks and LEGAL_EXPERT in blocks  # the author named, not pinged
    assert "> Un avocat annonce" in blocks and "slack.com/archives/" in blocks
    thread = [m for m in desk.thread(mid) if "attente d'approbation" in m]
    assert thread and all("<@" not in m for m in thread)  # the thread pings nobody
    # A new version pings nobody again: the request says it in place.
    draft(desk, mid, LEGAL_EXPERT, "Merci pour votre message. Nous ne commentons pas les procédures.")
    assert len(approval_asks(desk, CM)) == 1 and len(approval_asks(desk, LEGAL_LEAD)) == 1
    assert "Version 3 soumise" in json.dumps(shown(desk, ask_lead)["blocks"], ensure_ascii=False)
    # Approved: every request says who approved, in place.
    v3 = desk.draft(mid)
    desk.click("draft_approve", v3.id, CM)
    for ask in (ask_cm, ask_lead):
        assert f"<@{CM}> a approuvé la version 3" in json.dumps(shown(desk, ask)["blocks"], ensure_ascii=False)
    # Who may see it: every direct message quoting the mention went to someone who may read that mention.
    people, m = desk.runtime.protocol.people, desk.runtime.vigie.mention(mid)
    required = desk.runtime.workflow.required_for(m)
    quoting = [c.args["channel"] for c in desk.slack.calls("chat.postMessage")
               if c.args["channel"].startswith("U") and "> Un avocat" in json.dumps(c.args.get("blocks"))]
    assert quoting and all(access.may_see(u, team=m.team, people=people, reviewing=required) for u in quoting)
    assert not access.may_see(FIN_EXPERT, team=m.team, people=people) and FIN_EXPERT not in quoting


def test_an_approver_who_writes_the_draft_is_not_asked_about_it(desk):
    desk.channel = "C0GENERAL1"
    mid = desk.intake("Bonjour, où trouver vos horaires ?", 7)
    desk.click("mention_claim", mid, CM)
    draft(desk, mid, CM, "Bonjour, nos horaires sont sur notre site.")
    assert approval_asks(desk, CM) == []
    assert len(approval_asks(desk, CM2)) <= 1


# --- answers where the person is -------------------------------------------------------------------------


def card_thread_answers(desk: Driver, user: str, mid: int) -> list[dict]:
    relay_ts = desk._relay_ts(mid)
    return [e for e in desk.slack.ephemerals(desk.channel) if e["user"] == user and e["thread_ts"] == relay_ts]


def test_each_modal_is_confirmed_in_the_cards_thread(desk):
    desk.channel = "C0LEGAL001"
    mid = desk.intake("Un avocat annonce un procès contre la marque")
    desk.click("mention_claim", mid, LEGAL_EXPERT)
    draft(desk, mid, LEGAL_EXPERT, "Notre reponse : la marge brute reste stable.")
    [submitted] = card_thread_answers(desk, LEGAL_EXPERT, mid)
    assert "Brouillon v1 soumis" in submitted["text"] and "2" in submitted["text"]  # with its findings count
    v1 = desk.draft(mid)
    desk.click("draft_approve", v1.id, CM)  # a check failed: a reason is asked
    desk.submit(CM, {"reason": "Chiffre déjà public."})
    [approved] = card_thread_answers(desk, CM, mid)
    assert "Approbation enregistrée" in approved["text"] and "Chiffre déjà public." in approved["text"]
    desk.click("draft_approve", v1.id, LEGAL_LEAD)
    desk.submit(LEGAL_LEAD, {"reason": "Validé avec la finance."})
    desk.click("draft_publish", v1.id, CM)
    desk.submit(CM, {"url": "https://x.example/armorine/status/99"})
    assert "Publication enregistrée" in card_thread_answers(desk, CM, mid)[-1]["text"]


def test_a_shortcut_used_in_a_thread_is_answered_in_that_thread(desk):
    flag = message_shortcut(user=CM, channel="C0RANDOM01", ts="1763719200.000900", text="Grève annoncée")
    flag["message"]["thread_ts"] = "1763719200.000100"  # a reply in a thread
    send(desk.http, flag)
    desk.drain()
    [answer] = [e for e in desk.slack.ephemerals() if e["user"] == CM]
    assert answer["thread_ts"] == "1763719200.000100"
    # "Use as a draft" on someone else's reply: refused, in the thread where it was used.
    use = message_shortcut(user=CM, channel="C0RANDOM01", ts="1763719200.000950", text="Réponse",
                           author=LEGAL_EXPERT, callback_id="use_as_draft")
    use["message"]["thread_ts"] = "1763719200.000100"
    send(desk.http, use)
    desk.drain()
    refusal = [e for e in desk.slack.ephemerals() if e["user"] == CM][-1]
    assert refusal["thread_ts"] == "1763719200.000100" and refusal is not answer
