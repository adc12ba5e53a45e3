"""The draft card's checks section (bot.slack.views.cards.draft_card): every finding is listed, an overridden one
marked with who overrode it and why; "nothing to report" only when there is nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack.views import cards
from tests.typography import fr

NBSP = "\u00a0"
SPELLING = {"code": "spelling", "start": 5, "end": 12, "text": "reponse", "suggestions": ["réponse"], "params": {},
            "overridable": True}
GRAMMAR = {"code": "grammar", "start": 20, "end": 22, "text": "et", "suggestions": ["est"], "params": {},
           "overridable": True}


def card(findings: list[dict[str, Any]], decisions: list[dict[str, Any]] | None = None, lang: str = "fr") -> str:
    blocks = cards.draft_card(
        draft_id=7, version=1, kind="reply", author="U0AUTHOR1", text="Notre reponse : votre colis et en route.",
        network="x", language="fr", label="public", state="pending", findings=findings, decisions=decisions or [],
        required=[], publish_mode="manual", public_url=None, lang=lang)
    return json.dumps(blocks, ensure_ascii=False)


def overridden(finding: dict[str, Any], *overrides: tuple[str, str]) -> dict[str, Any]:
    return {**finding, "overridden": True, "overrides": [{"user": u, "reason": r} for u, r in overrides]}


def test_nothing_to_report_only_when_there_is_nothing() -> None:
    assert "rien à signaler" in card([])
    assert "nothing to report" in card([], lang="en")
    assert "rien à signaler" not in card([SPELLING])
    assert "rien à signaler" not in card([overridden(SPELLING, ("U0CM00001", "Citation exacte."))])


def test_open_findings_are_listed_to_fix() -> None:
    shown = card([SPELLING, GRAMMAR])
    assert fr("« reponse »") in shown and "réponse" in shown and fr("« et »") in shown
    assert "2 points à corriger" in shown
    assert "dérogation par" not in shown


def test_each_overridden_finding_says_who_overrode_it_and_why() -> None:
    shown = card([overridden(SPELLING, ("U0CM00001", "Citation exacte.")),
                  overridden(GRAMMAR, ("U0CM00001", "Citation exacte."), ("U0LEG0001", "Vu <avec> le juridique."))])
    assert fr("« reponse »") in shown and fr("« et »") in shown  # still listed
    assert shown.count(f"dérogation par <@U0CM00001>{NBSP}: Citation exacte.") == 2
    # Several overrides on one finding, in order; the reason is outside text, escaped.
    assert f"dérogation par <@U0LEG0001>{NBSP}: Vu &lt;avec&gt; le juridique." in shown
    assert "à corriger" not in shown  # nothing is left to fix
    assert "2 points signalés" in shown and "approuvés par dérogation" in shown


def test_one_overridden_finding_is_singular_and_english_reads_overridden_by() -> None:
    assert "1 point signalé*, approuvé par dérogation" in card([overridden(SPELLING, ("U0CM00001", "ok"))])
    shown = card([overridden(SPELLING, ("U0CM00001", "Customer's own words."))], lang="en")
    assert "overridden by <@U0CM00001>: Customer's own words." in shown
    assert "1 issue found" in shown


def test_a_finding_stored_before_overrides_were_kept_per_finding_names_the_override_decisions() -> None:
    legacy = {**SPELLING, "overridden": True}  # no "overrides": rows written before this card was honest
    decisions = [{"user": "U0CM00001", "kind": "approve", "comment": None, "override_reason": "Citation exacte."}]
    assert f"dérogation par <@U0CM00001>{NBSP}: Citation exacte." in card([legacy], decisions)
    assert "dérogation accordée" in card([legacy])  # and when no decision says who: still marked


def test_open_and_overridden_findings_together_count_only_what_is_left_to_fix() -> None:
    shown = card([overridden(SPELLING, ("U0CM00001", "ok")), GRAMMAR])
    assert "1 point à corriger" in shown
    assert "dérogation par <@U0CM00001>" in shown and fr("« et »") in shown


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_many_findings_still_fit_slack_limits(lang: str) -> None:
    many = [overridden({**SPELLING, "start": i, "end": i + 3}, ("U0CM00001", "x" * 400)) for i in range(30)]
    blocks = json.loads(card(many, lang=lang))
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b.get("type") == "section")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_draft_card_names_network_language_and_label(lang: str) -> None:
    too_long = {"code": "too_long", "start": None, "end": None, "text": "", "suggestions": [], "overridable": True,
                "params": {"network": "x", "length": 300, "limit": 280}}
    label = {"code": "label_not_public", "start": None, "end": None, "text": "confidential", "suggestions": [],
             "overridable": False, "params": {"label": "confidential"}}
    shown = card([too_long, label], lang=lang)
    assert "X (Twitter)" in shown and ("français" if lang == "fr" else "French") in shown
    assert ("confidentiel" if lang == "fr" else "“confidential”") in shown
    assert "· x ·" not in shown and "pour x " not in shown and "for x:" not in shown
    if lang == "fr":
        assert "confidential" not in shown
