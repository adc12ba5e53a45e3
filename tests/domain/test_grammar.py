"""Real-word confusions (bot/domain/grammar.py) and the false alarms the checks must not raise (issue 13)."""

from __future__ import annotations

import pytest

from bot.domain.checks import CheckPolicy, Finding, run_checks
from bot.domain.grammar import check_confusions
from tests.domain.conftest import enchant_or_skip

FRENCH_ERRORS = [
    ("Votre colis et en route.", "et", "est"),
    ("Bonjour, votre commande et bien arrivée.", "et", "est"),
    ("Il faut aller a la poste.", "a", "à"),
    ("Votre dossier est mis a jour.", "a", "à"),
    ("Merci, a bientôt !", "a", "à"),
    ("Dites-nous ou vous habitez.", "ou", "où"),
    ("Là ou vous êtes, le colis arrive demain.", "ou", "où"),
    ("Ils on reçu leur colis.", "on", "ont"),
    ("Nos conseillers son disponibles.", "son", "sont"),
    ("Ces pourquoi nous vous écrivons.", "Ces", "C'est"),
    ("S'est un oubli de notre part.", "S'est", "C'est"),
    ("Il c'est trompé d'adresse.", "c'est", "s'est"),
    ("Votre commande c'est bien passée.", "c'est", "s'est"),
    ("Nous avons vérifier votre commande.", "vérifier", "vérifié"),
]
ENGLISH_ERRORS = [
    ("Your welcome!", "Your", "You're"),
    ("You're order has shipped.", "You're", "Your"),
    ("Its been shipped today.", "Its", "It's"),
    ("The app has it's own settings.", "it's", "its"),
    ("We found there order.", "there", "their"),
    ("Their is a delay on deliveries.", "Their", "There"),
    ("Their going to call you back.", "Their", "They're"),
    ("We could of done better.", "of", "have"),
    ("It took longer then expected.", "then", "than"),
    ("Nothing has changed since than.", "than", "then"),
]
CLEAN = [
    ("fr", "Votre colis est en route et bien emballé."),
    ("fr", "Le colis et la facture sont arrivés."),
    ("fr", "Il a la réponse à votre question."),
    ("fr", "Vous pouvez passer en agence ou nous appeler."),
    ("fr", "Ça c'est parfait, merci !"),
    ("fr", "Le problème, c'est que le transporteur est en retard."),
    ("fr", "Nous avons hier reçu votre dossier."),
    ("fr", "Elle a perdu ses clés."),
    ("fr", "A bientôt !"),
    ("fr", "Il s'est trompé, c'est noté."),
    ("en", "Your order is here and it's on its way."),
    ("en", "There is a delay on their side; they're sorry."),
    ("en", "We could of course refund you."),
    ("en", "Check it, then we refund you."),
    ("en", "You're welcome, we are faster than ever."),
]


@pytest.mark.parametrize(("text", "word", "fix"), FRENCH_ERRORS + ENGLISH_ERRORS, ids=lambda v: str(v)[:30])
def test_each_confusion_is_caught_with_its_fix(text: str, word: str, fix: str) -> None:
    language = "fr" if (text, word, fix) in FRENCH_ERRORS else "en"
    found = check_confusions(text, language)
    assert [(text[f.start:f.end], f.suggestions) for f in found] == [(word, (fix,))]
    assert found[0].code == "grammar" and found[0].params["rule"]


@pytest.mark.parametrize(("language", "text"), CLEAN, ids=lambda v: str(v)[:30])
def test_correct_text_raises_no_confusion(language: str, text: str) -> None:
    assert check_confusions(text, language) == []


def test_rules_are_language_specific() -> None:
    assert check_confusions("Your welcome!", "fr") == []
    assert check_confusions("Votre colis et en route.", "en") == []


# --- run_checks: injected outside grammar, one finding per span ---------------------------------------------

@pytest.fixture(scope="module")
def hunspell():  # type: ignore[no-untyped-def]
    return enchant_or_skip()


def test_run_checks_takes_an_injected_checker_and_dedupes_spans(hunspell) -> None:  # type: ignore[no-untyped-def]
    text = "Votre colis et en route."
    calls = []

    def outside(draft: str, language: str) -> list[Finding]:
        calls.append((draft, language))
        return [Finding("grammar", 12, 14, "et", ("est",), {"rule": "outside"}),
                Finding("grammar", 0, 5, "Votre", (), {"rule": "other"})]

    found = run_checks(text, language="fr", network="x", label="public", policy=CheckPolicy(),
                       spellchecker=hunspell, grammar=outside)
    assert calls == [(text, "fr")]
    assert [(f.start, f.end, f.params["rule"]) for f in found] == [(0, 5, "other"), (12, 14, "fr_et_est")]


def test_injected_findings_hide_a_spelling_finding_on_the_same_word(hunspell) -> None:  # type: ignore[no-untyped-def]
    text = "Nous avons recu votre colis."
    given = [Finding("grammar", 11, 15, "recu", ("reçu",), {"rule": "given"})]
    found = run_checks(text, language="fr", network="x", label="public", policy=CheckPolicy(),
                       spellchecker=hunspell, grammar_findings=given)
    assert [(f.code, f.text) for f in found] == [("grammar", "recu")]


# --- no false alarms on what the company writes every day ---------------------------------------------------

@pytest.mark.parametrize(("language", "text"), [
    ("fr", "Votre colis Colissimo arrive chez Chloé demain."),
    ("fr", "Colissimo vous livre demain, Inès."),
    ("fr", "Bonjour Mathieu, votre iPhone part par Chronopost ou Mondial Relay ; payez avec Apple Pay."),
    ("en", "We apologise for the labour shortage; your instalments are unchanged."),
    ("en", "Hi Chloé, your parcel left with Colissimo today."),
], ids=lambda v: str(v)[:30])
def test_names_brands_and_british_spellings_pass(hunspell, language: str, text: str) -> None:  # type: ignore[no-untyped-def]
    assert run_checks(text, language=language, network="x", label="public", policy=CheckPolicy(),
                      spellchecker=hunspell) == []


def test_a_misspelt_word_starting_a_sentence_is_still_caught(hunspell) -> None:  # type: ignore[no-untyped-def]
    found = run_checks("Bonjour. Merçi pour votre message.", language="fr", network="x", label="public",
                       policy=CheckPolicy(), spellchecker=hunspell)
    assert [(f.code, f.text) for f in found] == [("spelling", "Merçi")]


def test_the_companys_own_contacts_are_not_personal_data(hunspell) -> None:  # type: ignore[no-untyped-def]
    text = "Appelez le 01 23 45 67 89 ou écrivez à sav@acme.fr ; Jean est au 06 12 34 56 78, jean@gmail.com."
    policy = CheckPolicy(allowed_contacts=("+33 1 23 45 67 89", "SAV@acme.fr"))
    found = run_checks(text, language="fr", network="x", label="public", policy=policy, spellchecker=hunspell)
    assert [(f.code, f.text) for f in found] == [("phone", "06 12 34 56 78"), ("email", "jean@gmail.com")]
    unlisted = run_checks(text, language="fr", network="x", label="public", policy=CheckPolicy(),
                          spellchecker=hunspell)
    assert sum(f.code in ("phone", "email") for f in unlisted) == 4
