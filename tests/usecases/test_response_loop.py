"""The whole response loop on the fake Slack, through signed payloads: relay, claim, draft in the thread,
checks, change request, new version, four-eyes approvals, publication, audit trail."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from bot.domain import deadlines as deadline_rules
from bot.slack.text import slack_date
from bot.store.audit import export_audit
from bot.store.models import Mention
from tests.conftest import drain
from tests.driver import CM, FIN_EXPERT, LEGAL_EXPERT, LEGAL_LEAD, NEWBIE, STRANGER, Driver
from tests.typography import fr

# The people and the Slack driver are shared by every scenario test (tests/driver.py).
Loop = Driver


@pytest.fixture
def loop(http, slack, runtime):
    for user, locale in ((CM, "fr-FR"), (LEGAL_LEAD, "fr-FR"), (LEGAL_EXPERT, "fr-FR"), (NEWBIE, "fr-FR"),
                         (STRANGER, "en-US"), (FIN_EXPERT, "en-GB")):
        slack.add_user(user, name=user, locale=locale)
    return Loop(http, slack, runtime)


def test_from_relay_to_published_reply_with_every_rule_enforced(loop, runtime):
    mid = loop.intake("Un avocat annonce un procès contre la marque")

    # A stranger cannot claim; the answer is in their own language (en-US).
    loop.click("mention_claim", mid, STRANGER)
    assert "team" in loop.ephemeral(STRANGER).lower()
    loop.click("mention_claim", mid, LEGAL_EXPERT)
    assert "prend en charge" in loop.thread(mid)[-1]
    assert f"<@{LEGAL_EXPERT}>" in loop.card(mid)  # the card shows the owner

    # The expert drafts in a modal; the checks find a misspelling, a confidential term and a phone number.
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Notre reponse : le projet Hermine avance, appelez le 06 12 34 56 78.",
                               "network": "x", "language": "fr", "label": "public"})
    v1 = loop.draft(mid)
    assert (v1.version, v1.state, v1.author) == (1, "pending", LEGAL_EXPERT)
    assert {f["code"] for f in v1.findings} >= {"spelling", "confidential_term", "phone"}
    # The approvers are asked once each, by direct message; the thread says so without pinging anyone.
    awaited = [m for m in loop.thread(mid) if "attente d'approbation" in m]
    assert len(awaited) == 1 and "<@" not in awaited[0]
    assert [len(loop.dms(u)) for u in (CM, LEGAL_LEAD, LEGAL_EXPERT)] == [1, 1, 0]

    # Nobody approves their own draft.
    loop.click("draft_approve", v1.id, LEGAL_EXPERT)
    assert "propre" in loop.ephemeral(LEGAL_EXPERT)
    # The community manager asks for changes (with a comment).
    loop.click("draft_request_changes", v1.id, CM)
    loop.submit(CM, {"reason": "Pas de nom de projet ni de numéro, merci."})
    assert loop.draft(mid).state == "changes_requested"

    # A new version: approvals start from zero, checks pass.
    loop.click("draft_edit", v1.id, LEGAL_EXPERT)
    assert loop.modal()["blocks"][0]["element"]["initial_value"].startswith("Notre reponse")
    loop.submit(LEGAL_EXPERT, {"text": "Merci pour votre message. Nous ne commentons pas une procédure en cours.",
                               "network": "x", "language": "fr", "label": "public"})
    v2 = loop.draft(mid)
    assert (v2.version, v2.state, v2.findings) == (2, "pending", [])

    # Four eyes: the CM's approval alone is not enough for a legal matter.
    loop.click("draft_approve", v2.id, CM)
    assert loop.draft(mid).state == "pending"
    # Publishing before approval is refused.
    loop.click("draft_publish", v2.id, CM)
    assert "Pas possible maintenant" in loop.ephemeral(CM) and "relecture" in loop.ephemeral(CM)
    loop.click("draft_approve", v2.id, LEGAL_LEAD)
    assert loop.draft(mid).state == "approved"
    assert any("peut être publié" in m for m in loop.thread(mid))

    # The community manager publishes by hand and gives the public link.
    loop.click("draft_publish", v2.id, CM)
    loop.submit(CM, {"url": "https://x.example/armorine/status/99"})
    assert loop.draft(mid).state == "published"
    with Session(runtime.engine) as s:
        assert s.get(Mention, mid).state == "published"
    assert "mention_claim" not in loop.card(mid)  # a closed mention has no buttons left

    # The audit export tells the whole story.
    out = io.StringIO()
    now = datetime.now(UTC)
    export_audit(runtime.engine, start=now - timedelta(hours=1), end=now + timedelta(hours=1), fmt="jsonl", out=out)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [e["action"] for e in events if not e["action"].startswith("refused.")] == [
        "mention.received", "mention.claimed", "draft.submitted", "draft.request_changes", "draft.submitted",
        "draft.approve", "draft.approve", "draft.published"]
    # ...refused attempts included: who tried, what, and why it was refused.
    assert [(e["actor"], e["action"], e["reason"]) for e in events if e["action"].startswith("refused.")] == [
        (STRANGER, "refused.claim", "not_team_member"), (LEGAL_EXPERT, "refused.approve", "own_draft"),
        (CM, "refused.publish", "state:in_review")]


def test_double_command_needs_a_second_independent_approval(loop):
    mid = loop.intake("Un procès est annoncé", i=2)
    loop.click("mention_draft", mid, NEWBIE)
    loop.submit(NEWBIE, {"text": "Nous ne commentons pas une procédure en cours.", "network": "x",
                         "language": "fr", "label": "public"})
    draft = loop.draft(mid)
    loop.click("draft_approve", draft.id, CM)
    loop.click("draft_approve", draft.id, LEGAL_LEAD)
    assert loop.draft(mid).state == "pending"  # a newcomer's draft needs one more approver
    loop.click("draft_approve", draft.id, LEGAL_EXPERT)
    assert loop.draft(mid).state == "approved"


def test_failing_checks_need_a_written_override_and_labels_block(loop, runtime):
    mid = loop.intake("Un procès est annoncé", i=3)
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "La marge brute reste stable.", "network": "x", "language": "fr",
                               "label": "public"})
    draft = loop.draft(mid)
    loop.click("draft_approve", draft.id, CM)
    assert loop.modal()["callback_id"] == "override_submit"  # not approved yet: a reason is asked
    assert loop.draft(mid).state == "pending"
    answer = loop.submit(CM, {"reason": ""})
    assert answer.get("response_action") == "errors"
    loop.submit(CM, {"reason": "Chiffre déjà public dans le rapport annuel."})
    loop.click("draft_approve", draft.id, LEGAL_LEAD)
    loop.submit(LEGAL_LEAD, {"reason": "Validé avec la finance."})
    assert loop.draft(mid).state == "approved"
    assert any("Chiffre déjà public" in m for m in loop.thread(mid))

    # An internal draft can never be approved for publication.
    mid2 = loop.intake("Un nouveau procès est annoncé demain", i=4)
    loop.click("mention_draft", mid2, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Note interne pour le juridique.", "network": "x", "language": "fr",
                               "label": "internal"})
    loop.click("draft_approve", loop.draft(mid2).id, CM)
    assert loop.draft(mid2).state == "pending"
    assert "public" in loop.ephemeral(CM).lower()


def test_dismiss_needs_a_reason_and_closes_the_mention(loop, runtime):
    mid = loop.intake("Un procès est annoncé", i=5)
    loop.click("mention_dismiss", mid, LEGAL_EXPERT)  # an expert may not dismiss
    assert loop.ephemeral(LEGAL_EXPERT)
    loop.click("mention_dismiss", mid, CM)
    loop.submit(CM, {"reason": "Compte parodique connu."})
    with Session(runtime.engine) as s:
        assert s.get(Mention, mid).state == "dismissed"
    loop.click("mention_claim", mid, LEGAL_EXPERT)  # nothing more can happen to it
    with Session(runtime.engine) as s:
        assert s.get(Mention, mid).owner is None


def test_reroute_moves_the_card(loop, slack, runtime):
    mid = loop.intake("Un procès est annoncé", i=6)
    loop.click("mention_reroute", mid, CM)
    loop.submit(CM, {"team": "finance"})
    drain(runtime)
    [new_card] = [c for c in slack.calls("chat.postMessage") if c.args["channel"] == "C0FINANCE1"]
    assert re.search(r"Réorientée vers l['’]équipe Finance", json.dumps(new_card.args["blocks"], ensure_ascii=False))
    old = loop.card(mid) if False else json.dumps(slack.messages("C0LEGAL001")[-1]["blocks"], ensure_ascii=False)
    assert "Finance" in old and "mention_claim" not in old and f"<@{CM}>" in old  # where it went, and who moved it
    with Session(runtime.engine) as s:
        m = s.get(Mention, mid)
        assert (m.team, m.state, m.channel) == ("finance", "open", "C0FINANCE1")


def test_home_tabs_follow_the_work(loop):
    mid = loop.intake("Un procès est annoncé", i=7)
    loop.click("mention_claim", mid, LEGAL_EXPERT)
    published = {c.args["user_id"]: c.args["view"] for c in loop.slack.calls("views.publish")}
    assert fr(f"n° {mid}") in json.dumps(published[LEGAL_EXPERT], ensure_ascii=False)  # the owner's Home shows it
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": "Nous ne commentons pas une procédure en cours.", "network": "x",
                               "language": "fr", "label": "public"})
    published = {c.args["user_id"]: c.args["view"] for c in loop.slack.calls("views.publish")}
    assert CM in published and LEGAL_LEAD in published  # the approvers awaited see it in their Home
    assert "v1" in json.dumps(published[CM], ensure_ascii=False)


def test_a_mention_received_during_a_crisis_races_one_deadline(loop, runtime):
    """The deadline stored at intake (which the digest's "deadlines kept" measures), the one the reminders race
    and the one the card shows are the same: the crisis factor applied once, by one rule."""
    declared = runtime.crisis.declare(by=CM, reason="test", lang="fr")
    assert declared.ok
    mid = loop.intake("Un avocat annonce un procès contre la marque")
    with Session(runtime.engine) as s:
        m = s.get(Mention, mid)
    race = runtime.escalation.race(m, crisis=True)
    assert race is not None and race.stage == "first_response"
    cfg = runtime.protocol.sla_for(m.team, m.severity)
    plain = runtime.escalation.race(m, crisis=False)
    assert plain is not None and race.deadline < plain.deadline  # the factor shortened it
    assert m.first_response_due == race.deadline  # stored at intake == raced by the reminders
    stage, deadline, _late = runtime.escalation.deadline_of(m)
    assert (stage, deadline) == ("first_response", m.first_response_due)
    assert slack_date(m.first_response_due) in loop.card(mid)  # == shown on the card
    # The publication deadline stored is the crisis one too.
    published = deadline_rules.due(m.received_at, cfg.published, runtime.protocol.calendar,
                                   round_the_clock=cfg.round_the_clock,
                                   crisis_factor=runtime.protocol.crisis.sla_factor)
    assert m.published_due == published
