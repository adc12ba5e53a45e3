"""Relay cards tell the truth at a glance (issue 15): through the real flow (signed payloads, the fake Slack), the
card shows in each state exactly the actions that state allows, its title and state in words, the severity
once with one short reason, human names instead of stored keys, and checks against Slack's Block Kit limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session

from bot.slack.views import cards as views
from bot.slack.views import modals
from bot.store.models import Mention
from tests import slackspec
from tests.driver import CM, LEGAL_EXPERT, LEGAL_LEAD, Driver, send
from tests.slack_requests import block_action
from tests.typography import fr

OPEN = {"mention_claim", "mention_draft", "mention_reroute", "mention_dismiss", "mention_open_post", "mention_more"}
CLAIMED = OPEN - {"mention_claim"}
IN_REVIEW = {"mention_dismiss", "mention_open_post", "mention_more"}
READY = {"mention_open_post", "mention_more"}
CLOSED = {"mention_open_post"}
LEGAL = "C0LEGAL001"


@pytest.fixture
def loop(http, slack, runtime):
    for user in (CM, LEGAL_LEAD, LEGAL_EXPERT):
        slack.add_user(user, name=user, locale="fr-FR")
    return Driver(http, slack, runtime)


def card_message(loop: Driver, mention_id: int, channel: str | None = None) -> dict[str, Any]:
    """The relay card in `channel` (the mention's, by default) as Slack now shows it (after every chat.update
    the fake Slack received)."""
    with Session(loop.runtime.engine) as s:
        mention = s.get(Mention, mention_id)
        relay_ts, channel = mention.relay_ts, channel or mention.channel
    cards = [m for m in loop.slack.messages(channel) if m.get("thread_ts") in (None, m["ts"])
             and fr(f"mention n° {mention_id}") + "\"" in json.dumps(m["blocks"], ensure_ascii=False)]
    assert cards, f"no card of mention {mention_id} in {channel}"
    return next((m for m in cards if m["ts"] == relay_ts), cards[-1])


def actions_of(blocks: list[dict[str, Any]]) -> set[str]:
    return {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}


def overflow_of(blocks: list[dict[str, Any]]) -> set[str]:
    return {o["value"].split(":")[0] for b in blocks if b["type"] == "actions" for e in b["elements"]
            if e["type"] == "overflow" for o in e["options"]}


def shown_text(blocks: list[dict[str, Any]]) -> str:
    """Every text a reader sees on a card, but the quoted post itself (outside words are the author's)."""
    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                if not node["text"].startswith("> "):
                    texts.append(node["text"])
            for key, value in node.items():
                if key not in ("url", "value", "action_id", "block_id"):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(texts)


def check(loop: Driver, mention_id: int, expected: set[str], channel: str | None = None) -> str:
    """The card's actions are exactly `expected`; every chat.update / chat.postMessage of it was within Slack's
    limits. Returns the card's visible text."""
    message = card_message(loop, mention_id, channel)
    assert actions_of(message["blocks"]) == expected
    for call in loop.slack.calls("chat.update") + loop.slack.calls("chat.postMessage"):
        if call.args.get("blocks"):
            assert slackspec.check_message(call.args, method=call.method) == [], call.args
    return shown_text(message["blocks"])


def submit_draft(loop: Driver, mention_id: int, text: str) -> None:
    loop.click("mention_draft", mention_id, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": text, "network": "x", "language": "fr", "label": "public"})


def test_each_state_shows_only_the_actions_it_allows(loop):
    mid = loop.intake("Un avocat annonce un procès contre la marque")
    text = check(loop, mid, OPEN)
    assert overflow_of(card_message(loop, mid)["blocks"]) == {"assign", "holding"}
    assert "Nouvelle mention" in text and "à prendre en charge" in text

    loop.click("mention_claim", mid, LEGAL_EXPERT)  # claimed: nobody can claim it again
    text = check(loop, mid, CLAIMED)
    assert "Nouvelle mention" not in text and "prise en charge" in text and f"<@{LEGAL_EXPERT}>" in text

    submit_draft(loop, mid, "Notre reponse arrive.")  # in review: the draft card in the thread carries the rest
    text = check(loop, mid, IN_REVIEW)
    assert overflow_of(card_message(loop, mid)["blocks"]) == {"assign", "holding"}
    assert "relecture" in text

    # Changes requested: the mention is back to drafting (claimed), with a draft to rewrite.
    loop.click("draft_request_changes", loop.draft(mid).id, CM)
    loop.submit(CM, {"reason": "Une faute."})
    assert loop.draft(mid).state == "changes_requested"
    check(loop, mid, CLAIMED)

    submit_draft(loop, mid, "Merci pour votre message. Nous ne commentons pas une procédure en cours.")
    check(loop, mid, IN_REVIEW)
    loop.click("draft_approve", loop.draft(mid).id, CM)
    loop.click("draft_approve", loop.draft(mid).id, LEGAL_LEAD)
    assert loop.draft(mid).state == "approved"
    text = check(loop, mid, READY)  # approved: no drafting, rerouting, assigning nor dismissing
    assert overflow_of(card_message(loop, mid)["blocks"]) == {"holding"}
    assert "approuvée" in text

    loop.click("draft_publish", loop.draft(mid).id, CM)
    loop.submit(CM, {"url": "https://x.example/armorine/status/99"})
    text = check(loop, mid, CLOSED)  # published: only the link to the post
    assert "Réponse publiée" in text and f"Publiée par <@{CM}>" in text and "Nouvelle mention" not in text


def test_a_dismissed_card_says_who_closed_it_and_why(loop):
    mid = loop.intake("Un procès est annoncé", i=2)
    dismiss = next(e for b in card_message(loop, mid)["blocks"] if b["type"] == "actions"
                   for e in b["elements"] if e["action_id"] == "mention_dismiss")
    assert "style" not in dismiss  # not a red button on every card...
    assert dismiss["confirm"]["style"] == "danger" and "?" in dismiss["confirm"]["title"]["text"]  # ...it asks first
    loop.click("mention_dismiss", mid, CM)
    loop.submit(CM, {"reason": "Compte parodique connu."})
    text = check(loop, mid, CLOSED)
    assert "Mention écartée" in text and f"Écartée par <@{CM}>\u202f: Compte parodique connu." in text
    assert "Nouvelle mention" not in text and "à prendre en charge" not in text


def test_a_rerouted_card_keeps_only_the_link_and_the_new_one_starts_open(loop, slack, runtime):
    mid = loop.intake("Un procès est annoncé", i=3)
    loop.click("mention_reroute", mid, CM)
    loop.submit(CM, {"team": "finance"})
    old = [m for m in slack.messages(LEGAL) if m.get("thread_ts") in (None, m["ts"])][-1]
    assert actions_of(old["blocks"]) == CLOSED
    old_text = shown_text(old["blocks"])
    assert "Mention réorientée" in old_text and f"Finance par <@{CM}>" in old_text
    assert "Nouvelle mention" not in old_text
    text = check(loop, mid, OPEN, channel="C0FINANCE1")
    assert re.search(r"Réorientée vers l['’]équipe Finance ·", text), text


def test_no_stored_key_reaches_the_card(loop, runtime):
    """Source `twitter`, network `x`, language `fr`: the card names them; no key, no « fr (détectée) »."""
    mid = loop.intake("Un avocat annonce un procès contre la marque", i=4, source="twitter", language="fr")
    text = check(loop, mid, OPEN)
    assert "X (Twitter)" in text and "français" in text
    assert not re.search(r"\btwitter\b|\bfr\b|· x ·|\(détectée\)|Pourquoi ici", text), text
    # The severity is said once, as a lower-case word with one short reason.
    assert len(re.findall(r"\b(faible|moyenne|haute|critique)\b", text, re.IGNORECASE)) == 1, text

    mid2 = loop.intake("Ambiance tendue au service client depuis la réorganisation", i=5, source="glassdoor")
    text = check(loop, mid2, OPEN)  # the human resources team follows Glassdoor
    assert "Publiée sur Glassdoor, que suit cette équipe ·" in text and "glassdoor" not in text
    assert "(détection automatique)" in text

    # The draft form names the networks; the draft card names network, language and label.
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    network = next(b for b in loop.modal()["blocks"] if b["block_id"] == "network")
    labels = {o["value"]: o["text"]["text"] for o in network["element"]["options"]}
    assert labels["x"] == "X (Twitter)" and labels["email"] == "e-mail" and labels["other"] == "autre canal"
    loop.submit(LEGAL_EXPERT, {"text": "Nous ne commentons pas une procédure en cours.", "network": "x",
                               "language": "fr", "label": "public"})
    draft_card = json.dumps([m["blocks"] for m in loop.slack.messages(LEGAL) if m.get("blocks")
                             and "draft_approve" in json.dumps(m["blocks"])], ensure_ascii=False)
    assert "pour X (Twitter), en français (public)" in draft_card and "· x ·" not in draft_card


def test_an_approved_draft_card_awaits_nobody(loop):
    mid = loop.intake("Un procès est annoncé", i=6)
    submit_draft(loop, mid, "Merci pour votre message. Nous ne commentons pas une procédure en cours.")
    draft = loop.draft(mid)

    def draft_card() -> str:
        [message] = [m for m in loop.slack.messages(LEGAL) if m.get("blocks")
                     and f'"draft:{draft.id}"' in json.dumps(m["blocks"])]
        return shown_text(message["blocks"])

    assert "Approbations requises" in draft_card()  # awaited while pending
    [message] = [m for m in loop.slack.messages(LEGAL) if f'"draft:{draft.id}"' in json.dumps(m.get("blocks") or [])]
    assert "danger" not in json.dumps(message["blocks"])  # no red button on the draft card either
    loop.click("draft_approve", draft.id, CM)
    loop.click("draft_approve", draft.id, LEGAL_LEAD)
    card = draft_card()
    assert "approuvé, prêt à publier" in card and "Approbations requises" not in card and ":hourglass" not in card


def test_the_holding_statement_card_is_approved_without_awaiting_anyone(loop):
    mid = loop.intake("Un procès est annoncé", i=7)
    send(loop.http, {**block_action(action_id="mention_more", value="", user=CM, channel=LEGAL),
                     "actions": [{"action_id": "mention_more", "block_id": f"mention:{mid}", "type": "overflow",
                                  "selected_option": {"value": f"holding:{mid}"}, "action_ts": "1"}]})
    loop.drain()
    loop.submit(CM, {"statement": "on-regarde"})
    [holding] = [m for m in loop.slack.messages(LEGAL) if m.get("blocks")
                 and "attente (v1)" in json.dumps(m["blocks"], ensure_ascii=False)]
    text = shown_text(holding["blocks"])
    assert "approuvé, prêt à publier" in text and "Approbations requises" not in text and ":hourglass" not in text
    assert "pour X (Twitter), en français" in text
    assert actions_of(holding["blocks"]) == {"draft_publish"}  # manual mode: a person publishes it
    check(loop, mid, OPEN)  # the mention itself is still to be answered


# --- the builder alone, in both languages ---------------------------------------------------------------

def _card(lang: str, **kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = dict(
        mention_id=7, team_name="Legal", source="x", author="@bob", text="Texte", url="https://x.example/s/1",
        published_at=datetime(2026, 11, 21, 9, 30, tzinfo=UTC), severity="high", reach=12000, language="fr",
        language_detected=False, channel="C1", lang=lang,
        reasons=[{"code": "route.keyword", "params": {"team": "legal", "keywords": ["procès"]}},
                 {"code": "severity.default", "params": {"severity": "medium"}},
                 {"code": "severity.reach", "params": {"reach": 12000, "threshold": 10000, "severity": "high"}}])
    values.update(kw)
    return views.relay_card(**values)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_confirm_dialog_and_the_titles_exist_in_both_languages(lang):
    card = _card(lang)
    assert slackspec.check_message(card) == []
    [dismiss] = [e for b in card["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "mention_dismiss"]
    confirm = dismiss["confirm"]
    assert all(confirm[k]["text"] and not confirm[k]["text"].startswith("card.") for k in ("title", "text", "confirm",
                                                                                           "deny"))
    text = shown_text(card["blocks"])
    assert ("high, wide audience" if lang == "en" else "haute, forte audience") in text
    assert ("French" if lang == "en" else "français") in text and "card." not in text
    for state in ("claimed", "in_review", "ready", "published", "dismissed"):
        shown = shown_text(_card(lang, state=state, owner="U1")["blocks"])
        assert "card." not in shown and "state." not in shown
        assert ("New mention" not in shown) and ("Nouvelle mention" not in shown)


def test_the_post_button_only_for_a_url_slack_accepts():
    long = "https://x.example/" + "a" * 3000
    for url, shown in (("https://x.example/s/1", True), (long, False), ("javascript:alert(1)", False), ("", False)):
        card = _card("fr", url=url)
        assert ("mention_open_post" in actions_of(card["blocks"])) is shown
        assert slackspec.check_message(card) == []


def test_the_draft_form_names_every_network_it_offers():
    view = modals.draft_modal(mention_id=1, networks=["x", "linkedin", "email", "other", "mastodon", "acme"],
                              lang="en")
    assert slackspec.check_view(view) == []
    network = next(b for b in view["blocks"] if b["block_id"] == "network")
    assert [o["text"]["text"] for o in network["element"]["options"]] == [
        "X (Twitter)", "LinkedIn", "email", "other channel", "Mastodon", "Acme"]
