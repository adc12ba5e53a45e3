"""Pre-publish checks: every finding a draft can earn, clean drafts that earn none, on both spelling backends."""

from __future__ import annotations

import json

import pytest

from bot.domain.checks import CODES, CheckPolicy, Finding, displayed_length, run_checks, summary
from bot.domain.spelling import SpellChecker

POLICY = CheckPolicy(
    company_words=frozenset({"Vigimax"}),
    confidential_terms=("résultats trimestriels", "Projet Hermès", "rachat"),
    employee_names=("Claire Martin", "Kowalczyk"),
)


def check(text: str, checker: SpellChecker, *, language: str = "fr", network: str = "x", label: str = "public",
          policy: CheckPolicy = POLICY) -> list[Finding]:
    return run_checks(text, language=language, network=network, label=label, policy=policy,
                      spellchecker=checker)


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def texts(findings: list[Finding], code: str) -> list[str]:
    return [f.text for f in findings if f.code == code]


# --- clean drafts ----------------------------------------------------------------------------------------------

CLEAN_FR = (
    "Bonjour @marie_l, nous sommes désolés pour l’attente ! N'hésitez pas à nous recontacter : le SAV Vigimax "
    "vous répondra aujourd'hui, peut-être avant midi. Votre commande 123456789 partira au T3 2026 (2 colis, "
    "49,90 €). Suivi : https://vigimax.fr/suivi #Vigimax"
)
CLEAN_EN = (
    "Hi @sam_k, we're so sorry! Don’t hesitate to DM us: the Vigimax SAV team will follow up today. Your "
    "order 123456789 ships in Q3 2026 (2 parcels, $49.90). Tracking: https://vigimax.com/track #Vigimax"
)


def test_clean_french_draft_has_no_finding(checker: SpellChecker) -> None:
    assert len(CLEAN_FR) <= 280
    assert check(CLEAN_FR, checker) == []


def test_clean_english_draft_has_no_finding(checker: SpellChecker) -> None:
    assert check(CLEAN_EN, checker, language="en") == []


# --- spelling and grammar --------------------------------------------------------------------------------------


def test_spelling_findings_carry_suggestions(checker: SpellChecker) -> None:
    text = "Merci de votre patiance, voici notre reponse."
    found = check(text, checker)
    assert codes(found) == ["spelling", "spelling"]
    patiance, reponse = found
    assert (patiance.start, patiance.end, patiance.text) == (15, 23, "patiance")
    assert "patience" in patiance.suggestions
    assert "réponse" in reponse.suggestions
    assert patiance.overridable


def test_english_spelling(checker: SpellChecker) -> None:
    [found] = check("We did not recieve it.", checker, language="en")
    assert found.code == "spelling" and "receive" in found.suggestions


def test_no_spelling_for_other_languages(checker: SpellChecker) -> None:
    assert check("Lo sentimos mucho por la espera.", checker, language="es") == []


@pytest.mark.parametrize(
    ("text", "wrong", "right"),
    [
        ("Nous sommes désolé pour ce retard.", "désolé", "désolés"),
        ("nous sommes ravi de vous aider", "ravi", "ravis"),
        ("Nous sommes vraiment désolée.", "désolée", "désolées"),
        ("Nous restons mobilisé.", "mobilisé", "mobilisés"),
        ("Nous sommes\nsincèrement navré.", "navré", "navrés"),
    ],
)
def test_nous_sommes_agreement(checker: SpellChecker, text: str, wrong: str, right: str) -> None:
    [found] = check(text, checker)
    assert found.code == "grammar"
    assert text[found.start:found.end] == wrong == found.text
    assert found.suggestions == (right,)


@pytest.mark.parametrize(
    "text", ["Nous sommes désolés.", "Nous sommes désolées.", "Je suis désolé.", "Nous avons désolé personne."]
)
def test_correct_agreement_is_not_flagged(checker: SpellChecker, text: str) -> None:
    assert "grammar" not in codes(check(text, checker))


def test_grammar_rules_are_french_only(checker: SpellChecker) -> None:
    assert check("Nous sommes désolé.", checker, language="en", policy=CheckPolicy())[0].code == "spelling"
    assert "grammar" not in codes(check("Nous sommes désolé.", checker, language="en"))


def test_a_for_preposition(checker: SpellChecker) -> None:
    text = "N'hésitez pas a nous écrire."
    [found] = check(text, checker)
    assert (found.code, found.text, found.suggestions) == ("grammar", "a", ("à",))
    assert check("N'hésitez pas à nous écrire.", checker) == []


# --- confidential terms and employee names -------------------------------------------------------------------


def test_confidential_terms_ignore_case_and_accents(checker: SpellChecker) -> None:
    text = "Les RESULTATS Trimestriels et le projet hermes arrivent."
    found = check(text, checker)
    assert texts(found, "confidential_term") == ["RESULTATS Trimestriels", "projet hermes"]
    assert [f.params["term"] for f in found] == ["résultats trimestriels", "Projet Hermès"]
    assert "spelling" not in codes(found)  # "hermes" is reported once, as what it is


def test_confidential_terms_are_whole_words(checker: SpellChecker) -> None:
    assert check("Le rachat est fait.", checker)[0].code == "confidential_term"
    assert check("Les rachats et le surachat sont loin.", checker, language="es") == []


def test_employee_names(checker: SpellChecker) -> None:
    text = "Claire Martin et claire martin, avec M. Kowalczyk."
    found = check(text, checker)
    assert texts(found, "employee_name") == ["Claire Martin", "claire martin", "Kowalczyk"]
    assert "spelling" not in codes(found)  # not also a typo
    assert check("Claire vous répond.", checker) == []  # the names as listed, not each part


def test_names_are_typos_without_the_policy(checker: SpellChecker) -> None:
    assert codes(check("Avec M. Kowalczyk.", checker, policy=CheckPolicy())) == ["spelling"]


# --- personal data ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["jean.dupont@example.com", "support+sav@vigimax.fr", "a_b-c@sub.domaine.co.uk"]
)
def test_emails(checker: SpellChecker, email: str) -> None:
    text = f"Écrivez à {email}, merci."
    [found] = check(text, checker)
    assert (found.code, found.text, text[found.start:found.end]) == ("email", email, email)


def test_handles_are_not_emails(checker: SpellChecker) -> None:
    assert check("Écrivez à @vigimax ou #vigimax.", checker) == []


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("+33 6 12 34 56 78", "+33612345678"),
        ("01.23.45.67.89", "+33123456789"),
        ("0612345678", "+33612345678"),
        ("+1 415 555 2671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones(checker: SpellChecker, number: str, e164: str) -> None:
    text = f"Appelez le {number} demain."
    [found] = check(text, checker)
    assert (found.code, found.text, found.params) == ("phone", number, {"e164": e164})
    assert text[found.start:found.end] == number


@pytest.mark.parametrize(
    "text",
    [
        "Votre commande 123456789 est partie.",
        "Commande n°0123456789 expédiée.",
        "Ticket #0123456789 ouvert.",
        "Livraison le 12/03/2026 à 14h30, réf. 2026-03-12, tél. au dos.",
        "Total : 1 234,56 € au T3 2026.",
        "Voir https://vigimax.fr/status/0612345678.",
    ],
)
def test_numbers_that_are_not_phones(checker: SpellChecker, text: str) -> None:
    assert check(text, checker) == []


@pytest.mark.parametrize(
    "iban",
    ["FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189", "DE89 3704 0044 0532 0130 00"],
)
def test_valid_ibans_are_flagged(checker: SpellChecker, iban: str) -> None:
    text = f"IBAN : {iban}."
    [found] = check(text, checker)  # once, as an IBAN: its digit groups are not also a phone number
    assert (found.code, found.text, text[found.start:found.end]) == ("iban", iban, iban)


def test_iban_followed_by_other_digits(checker: SpellChecker) -> None:
    text = "Virement sur BE68 5390 0754 7034 2026 reçu."
    assert texts(check(text, checker), "iban") == ["BE68 5390 0754 7034"]


@pytest.mark.parametrize("iban", ["FR76 3000 6000 0112 3456 7890 188", "FR7630006000011234567890188"])
def test_invalid_ibans_are_not(checker: SpellChecker, iban: str) -> None:
    assert "iban" not in codes(check(f"IBAN : {iban}.", checker))


# --- length ----------------------------------------------------------------------------------------------------


def test_too_long_for_x(checker: SpellChecker) -> None:
    text = "Merci. " * 40 + "Oui"  # 283 characters
    [found] = check(text, checker)
    assert found.code == "too_long"
    assert found.params == {"limit": 280, "length": 283, "network": "x"}
    assert (found.start, found.end, found.text) == (280, 283, "Oui")
    assert check(text[:280], checker) == []


def test_x_counts_each_link_as_23(checker: SpellChecker) -> None:
    long_link = "https://vigimax.fr/" + "a" * 100
    text = long_link + " " + "Merci " * 30  # 300 characters, but 23 + 1 + 180 = 204 for X
    assert len(text) > 280 and displayed_length(text, "x") == 204
    assert check(text, checker) == []
    short_links = " ".join(["https://a.co"] * 13)  # 168 characters, but 13 × 23 + 12 = 311 for X
    [found] = check(short_links, checker)
    assert found.params["length"] == 311
    # 11 links and their spaces count 264: the 12th link is the first that no longer fits, whole.
    assert (found.start, found.end) == (11 * 13, len(short_links))
    assert found.text == "https://a.co https://a.co"


def test_length_limits_come_from_the_policy(checker: SpellChecker) -> None:
    text = "Merci " * 60
    assert check(text, checker, network="linkedin") == []  # no limit known for that network
    policy = CheckPolicy(network_limits={"x": None, "linkedin": 300})
    assert check(text, checker, policy=policy) == []
    [found] = check(text, checker, network="linkedin", policy=policy)
    assert found.params == {"limit": 300, "length": 360, "network": "linkedin"}  # links not special here


# --- label, ordering, summary --------------------------------------------------------------------------------


@pytest.mark.parametrize("label", ["internal", "confidential"])
def test_private_label_can_never_be_published(checker: SpellChecker, label: str) -> None:
    [found] = check(CLEAN_FR, checker, label=label)
    assert found == Finding("label_not_public", None, None, label, params={"label": label}, overridable=False)


def test_findings_are_sorted_and_serialisable(checker: SpellChecker) -> None:
    text = ("Nous sommes désolé, Claire Martin vous rappelle au 06 12 34 56 78 ou écrivez à a@b.fr "
            "(rachat, IBAN FR76 3000 6000 0112 3456 7890 189, NIR 181048615189139, carte 4995 2432 8132 1690). "
            "Merci de votre patiance. " + "Merci. " * 25)
    found = check(text, checker, label="internal")
    assert codes(found) == ["label_not_public", "grammar", "employee_name", "phone", "email",
                            "confidential_term", "iban", "nir", "card", "spelling", "too_long"]
    assert set(codes(found)) == set(CODES)
    assert [f.overridable for f in found] == [False] + [True] * 10
    starts = [f.start for f in found[1:]]
    assert starts == sorted(starts)
    json.dumps([f.params for f in found])
    assert summary(found) == {code: 1 for code in CODES}
    assert summary(found + found[-2:]) == {**{code: 1 for code in CODES}, "spelling": 2, "too_long": 2}


def test_default_spellchecker_is_used_when_none_given() -> None:
    found = run_checks("Merci de votre patiance.", language="fr", network="x", label="public",
                       policy=CheckPolicy())
    assert codes(found) == ["spelling"]
