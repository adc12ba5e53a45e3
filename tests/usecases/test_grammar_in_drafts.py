"""The draft checks people see in Slack run the outside grammar tools the composition root found (Grammalecte in
its own process), and an overridden draft's card still lists every finding with who overrode it and why.

Driven through the real HTTP app and the fake Slack: a draft submitted in the modal, its card read back from the
thread as Slack shows it.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.driver import CM, LEGAL_EXPERT, LEGAL_LEAD, Driver
from tests.typography import fr

NBSP = "\u00a0"


def _grammalecte_here() -> bool:
    try:
        return subprocess.run(["/usr/bin/python3", "-c", "import grammalecte"], check=False, capture_output=True,
                              timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


GRAMMALECTE = _grammalecte_here()
needs_grammalecte = pytest.mark.skipif(
    not GRAMMALECTE, reason="Grammalecte is not installed for /usr/bin/python3 (Debian: python3-grammalecte)")


@pytest.fixture
def loop(http, slack, runtime):
    for user in (CM, LEGAL_LEAD, LEGAL_EXPERT):
        slack.add_user(user, name=user, locale="fr-FR")
    return Driver(http, slack, runtime)


def draft_card(loop: Driver, mention_id: int, version: int) -> str:
    """The draft card in the mention's thread, as Slack shows it now (after every update)."""
    relay_ts = loop._relay_ts(mention_id)
    cards = [m for m in loop.slack.messages(loop.channel)
             if m.get("thread_ts") == relay_ts and m.get("blocks")
             and f"Brouillon v{version} " in json.dumps(m["blocks"], ensure_ascii=False)]
    assert len(cards) == 1, cards
    return json.dumps(cards[0]["blocks"], ensure_ascii=False)


def grammar_line(word: str, card: str) -> bool:
    return re.search(rf"Grammaire\s:\s«\s{word}\s»", card) is not None


def submit_draft(loop: Driver, text: str, i: int) -> tuple[int, int]:
    mid = loop.intake("Un procès est annoncé contre la marque", i=i)
    loop.click("mention_draft", mid, LEGAL_EXPERT)
    loop.submit(LEGAL_EXPERT, {"text": text, "network": "x", "language": "fr", "label": "public"})
    draft = loop.draft(mid)
    assert draft is not None and draft.version == 1
    return mid, draft.id


def test_a_homophone_in_a_draft_gets_a_grammar_finding_on_the_card(loop):
    mid, _ = submit_draft(loop, "Votre colis et en route", i=1)
    grammar = [f for f in loop.draft(mid).findings if f["code"] == "grammar"]
    assert [(f["text"], f["start"]) for f in grammar] == [("et", 12)]  # "Votre colis " is 12 characters
    assert "est" in grammar[0]["suggestions"]
    card = draft_card(loop, mid, 1)
    assert grammar_line("et", card)
    assert "rien à signaler" not in card


def test_an_infinitive_after_avoir_gets_a_grammar_finding_on_the_card(loop):
    mid, _ = submit_draft(loop, "Nous avons vérifier votre commande", i=2)
    assert [f["text"] for f in loop.draft(mid).findings if f["code"] == "grammar"] == ["vérifier"]
    assert grammar_line("vérifier", draft_card(loop, mid, 1))


@needs_grammalecte
def test_grammalecte_checks_the_drafts_people_submit(loop):
    # Vigie's own rules do not catch this agreement error; only Grammalecte, run by the draft check, does.
    mid, _ = submit_draft(loop, "Vos commandes ont été expédié", i=3)
    grammar = [f for f in loop.draft(mid).findings if f["code"] == "grammar"]
    assert [(f["text"], f["params"].get("source")) for f in grammar] == [("expédié", "grammalecte")]
    assert grammar_line("expédié", draft_card(loop, mid, 1))


@needs_grammalecte
def test_grammalecte_checks_again_at_approval(loop):
    # The approval re-runs the checks: the same outside checker is used, so the finding still needs an override.
    mid, draft_id = submit_draft(loop, "Les colis que vous avez commandé sont arrivés", i=4)
    assert [f["text"] for f in loop.draft(mid).findings if f["code"] == "grammar"] == ["commandé"]
    loop.click("draft_approve", draft_id, CM)
    assert loop.modal()["callback_id"] == "override_submit"
    assert "commandé" in json.dumps(loop.modal(), ensure_ascii=False)
    assert loop.draft(mid).state == "pending"


def test_an_overridden_draft_card_still_lists_every_finding_with_who_overrode_it(loop):
    mid, draft_id = submit_draft(loop, "Notre reponse : votre colis et en route.", i=5)
    before = draft_card(loop, mid, 1)
    assert fr("« reponse »") in before and fr("« et »") in before and "dérogation par" not in before

    loop.click("draft_approve", draft_id, CM)
    loop.submit(CM, {"reason": "Citation exacte du client."})
    card = draft_card(loop, mid, 1)
    assert "rien à signaler" not in card
    assert fr("« reponse »") in card and fr("« et »") in card
    mark = f"dérogation par <@{CM}>{NBSP}: Citation exacte du client."
    assert card.count(mark) == 2  # on each finding
    assert "à corriger avant approbation" not in card  # nothing left to fix: both were overridden

    # The second approver overrides too: each finding now names both, in order.
    loop.click("draft_approve", draft_id, LEGAL_LEAD)
    loop.submit(LEGAL_LEAD, {"reason": "Vu avec le juridique."})
    assert loop.draft(mid).state == "approved"
    card = draft_card(loop, mid, 1)
    both = f"{mark} · dérogation par <@{LEGAL_LEAD}>{NBSP}: Vu avec le juridique."
    assert card.count(both) == 2
    assert [len(f["overrides"]) for f in loop.draft(mid).findings] == [2, 2]


def test_a_clean_draft_card_says_nothing_to_report(loop):
    mid, draft_id = submit_draft(loop, "Merci pour votre message, nous revenons vers vous.", i=6)
    assert loop.draft(mid).findings == []
    assert "rien à signaler" in draft_card(loop, mid, 1)
    loop.click("draft_approve", draft_id, CM)
    assert "rien à signaler" in draft_card(loop, mid, 1)
