"""Personal data in a draft (bot.domain.personal_data): each kind in French and English, what is not personal
data, and the whole corpus of bench/corpus/personal_data.jsonl (issue 13, item 5)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench.language_score import score_personal_data
from bot.domain.checks import CODES, CheckPolicy, run_checks
from bot.domain.personal_data import CODES as PERSONAL_CODES
from bot.domain.personal_data import find_personal_data, name_variants
from bot.i18n import LANGUAGES, catalogue

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "bench" / "corpus"
ROSTER = ("Jean-Baptiste Leroy", "Marie-Hélène Garnier", "Gwenaëlle Le Goff", "Kowalczyk")
REGIONS = ("FR", "BE", "CH", "GB", "US", "DE")


def found(text: str, **kwargs) -> list[tuple[str, str]]:
    kwargs.setdefault("employee_names", ROSTER)
    return [(f.code, text[f.start:f.end]) for f in find_personal_data(text, **kwargs)]


# --- e-mail addresses --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address", "canonical"),
    [
        ("Mon adresse : jean [at] example.com, merci.", "jean [at] example.com", "jean@example.com"),
        ("Écrivez-moi à marie arobase exemple point fr svp", "marie arobase exemple point fr", "marie@exemple.fr"),
        ("Contact : jean(at)example.com", "jean(at)example.com", "jean@example.com"),
        ("Voici mon adresse franck chez exemple point com", "franck chez exemple point com", "franck@exemple.com"),
        ("Ma fille : lea.martin @ exemple.fr.", "lea.martin @ exemple.fr", "lea.martin@exemple.fr"),
        ("My email is luc at example dot com if you need it.", "luc at example dot com", "luc@example.com"),
        ("Send it to mike{at}example{dot}com please", "mike{at}example{dot}com", "mike@example.com"),
        ("I'm at priya.patel@example.com", "priya.patel@example.com", "priya.patel@example.com"),
        ("Reply to GERARD.LAMBERT@EXEMPLE.FR", "GERARD.LAMBERT@EXEMPLE.FR", "gerard.lambert@exemple.fr"),
    ],
)
def test_emails_plain_and_obfuscated(text: str, address: str, canonical: str) -> None:
    [finding] = find_personal_data(text)
    assert (finding.code, text[finding.start:finding.end]) == ("email", address)
    assert finding.params == {"address": canonical}


@pytest.mark.parametrize(
    "text",
    [
        "Available at Amazon.com and in our shops.",
        "Le colis est livré chez vous point relais demain.",
        "We are at the station.Tomorrow we leave.",
        "Suivez-nous sur @armorine ou #armorine.",
        "Rendez-vous chez Dupont point final.",
    ],
)
def test_everyday_at_and_chez_are_not_addresses(text: str) -> None:
    assert found(text) == []


# --- NIR and cards -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "nir"),
    [
        ("Mon numéro de sécurité sociale est 2 58 11 88 822 870 77.", "2 58 11 88 822 870 77"),
        ("NIR : 181048615189139", "181048615189139"),
        ("My French social security number is 1811224134073 65.", "1811224134073 65"),
    ],
)
def test_nir_with_a_valid_key(text: str, nir: str) -> None:
    assert found(text) == [("nir", nir)]


def test_nir_with_a_wrong_key_is_not_flagged() -> None:
    assert found("Identifiant interne 260085363408131") == []
    assert found("NIR : 181048615189138") == []  # the key of 181048615189139, off by one


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("Ma carte : 4995 2432 8132 1690, vous pouvez me rembourser dessus.", "4995 2432 8132 1690"),
        ("carte 4888-7334-0682-2465 merci de débiter", "4888-7334-0682-2465"),
        ("My card number is 373608024920869.", "373608024920869"),
        ("Card: 4437 0913 5880 4", "4437 0913 5880 4"),
        ("Card: 4205282032175154304", "4205282032175154304"),
    ],
)
def test_cards_pass_luhn(text: str, card: str) -> None:
    assert found(text) == [("card", card)]


@pytest.mark.parametrize(
    "text",
    [
        "Numéro de client 4308 8584 2920 2370",  # Luhn fails
        "Biscuiterie Armorine SA, SIRET 632 899 456 22200, RCS Quimper.",
        "SIRET 12866061056701",
        "Our company number (SIRET) is 43271674436817.",
        "Reference 1234567812345670",  # Luhn-valid, but no card issuer starts with 1
    ],
)
def test_numbers_that_are_not_cards(text: str) -> None:
    assert found(text) == []


# --- IBAN --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iban"),
    [
        ("Voici mon RIB : fr76 3535 5450 6591 9173 8852 344", "fr76 3535 5450 6591 9173 8852 344"),
        ("My IBAN is gb64 nwbk 8990 3574 2026 01.", "gb64 nwbk 8990 3574 2026 01"),
        ("My IBAN is ch4054347160699719322.", "ch4054347160699719322"),
        ("Remboursez sur DE84 2861 8590 6067 7084 72 svp", "DE84 2861 8590 6067 7084 72"),
        ("Virement sur BE68 5390 0754 7034 2026 reçu.", "BE68 5390 0754 7034"),
    ],
)
def test_ibans_of_any_case(text: str, iban: str) -> None:
    assert found(text) == [("iban", iban)]


def test_iban_with_the_wrong_length_or_check_digits() -> None:
    assert found("Référence virement FR7724591120694094175304683") == []
    assert found("IBAN DE84 2861 8590 6067 7084 7") == []  # one digit short for Germany


# --- phone numbers -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Je vis en Belgique, mon numéro : 0470 12 34 56", "0470 12 34 56"),
        ("En Suisse, joignable au 079 123 45 67", "079 123 45 67"),
        ("Call me on 07700 900123 please.", "07700 900123"),
        ("Call me at (201) 555-0123 any time.", "(201) 555-0123"),
        ("My German mobile: 0151 23456789", "0151 23456789"),
    ],
)
def test_foreign_numbers_of_the_listed_regions(text: str, number: str) -> None:
    assert found(text, phone_regions=REGIONS) == [("phone", number)]


def test_national_numbers_of_unlisted_regions_are_not_read() -> None:
    assert found("Numéro belge : 02 234 56 78") == []  # France only by default (nine digits: not French)
    assert found("Call me on +32 470 12 34 56") == [("phone", "+32 470 12 34 56")]  # international: always
    assert found("Call me on +32 470 12 34 56", phone_regions=("XX",)) == [("phone", "+32 470 12 34 56")]


@pytest.mark.parametrize(
    "text",
    [
        "Commande AR-2026-004512 expédiée.",
        "Référence de commande : CMD 2026 0412 77",
        "Your order 3021-8876 is ready.",
        "Order #100234987 has shipped.",
        "Suivi Colissimo : 6A12345678901",
        "UPS tracking 1Z999AA10123456784",
        "DHL waybill 1234567890",
        "That comes to $1,299.00.",
        "Prix : 3 500 € HT, soit 4 200 € TTC.",
        "Expected between 03/12/2026 and 03/15/2026.",
        "Date limite : 31.12.2026",
        "#JeudiPhoto #0612345678",
        "#OrderOfTheDay #1234567890123",
    ],
)
def test_references_prices_dates_and_hashtags_are_not_personal_data(text: str) -> None:
    assert found(text, phone_regions=REGIONS) == []


def test_company_contacts_are_allowed_even_spelled_out() -> None:
    allowed = ("02 98 00 00 00", "contact@armorine.example")
    text = "Appelez le 02 98 00 00 00 ou écrivez à contact [at] armorine.example, pas à jean@exemple.fr."
    assert found(text, allowed_contacts=allowed) == [("email", "jean@exemple.fr")]


# --- employee names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Merci à Jean Baptiste Leroy pour son aide hier.", "Jean Baptiste Leroy"),
        ("J'ai eu Leroy Jean-Baptiste au téléphone.", "Leroy Jean-Baptiste"),
        ("Comme l'a dit M. Leroy, le colis est parti.", "M. Leroy"),
        ("Voyez avec Mme Garnier du service client.", "Mme Garnier"),
        ("Signé : GARNIER Marie-Hélène", "GARNIER Marie-Hélène"),
        ("Réponse préparée par Marie Helene Garnier.", "Marie Helene Garnier"),
        ("Please ask for Mr Leroy at the desk.", "Mr Leroy"),
        ("Ms. Le Goff will look into it.", "Ms. Le Goff"),
        ("Gwenaëlle Le Goff will call you back.", "Gwenaëlle Le Goff"),
        ("Avec M. Kowalczyk.", "Kowalczyk"),  # a single name matches on its own
    ],
)
def test_roster_names_in_any_order_or_with_a_title(text: str, name: str) -> None:
    assert found(text) == [("employee_name", name)]


@pytest.mark.parametrize(
    "text", ["Le Goff est un nom très courant en Bretagne.", "Jean-Baptiste vous répond.", "Leroy Merlin ouvre."]
)
def test_a_first_name_or_a_surname_alone_is_not_an_employee(text: str) -> None:
    assert found(text) == []


def test_the_finding_names_the_roster_entry() -> None:
    [finding] = find_personal_data("Merci à Leroy Jean Baptiste.", employee_names=ROSTER)
    assert finding.params == {"term": "Jean-Baptiste Leroy"}
    assert set(name_variants("Jean-Baptiste Leroy").values()) == {"Jean-Baptiste Leroy"}


# --- the gate and the catalogues ---------------------------------------------------------------------------------


def test_run_checks_uses_the_policy_regions() -> None:
    text = "Rappelez le 02 234 56 78."
    def codes(policy: CheckPolicy) -> list[str]:
        return [f.code for f in run_checks(text, language="xx", network="x", label="public", policy=policy)]
    assert codes(CheckPolicy()) == []
    assert codes(CheckPolicy(phone_regions=("FR", "BE"))) == ["phone"]


def test_the_protocol_lists_phone_regions() -> None:
    from bot.protocol.schema import ChecksConfig

    assert ChecksConfig().phone_regions == ["FR"]
    assert ChecksConfig(phone_regions=["fr", " be "]).phone_regions == ["FR", "BE"]
    with pytest.raises(ValueError):
        ChecksConfig(phone_regions=["France"])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_finding_code_has_its_sentence(lang: str) -> None:
    assert set(PERSONAL_CODES) <= set(CODES)
    assert {f"finding.{code}" for code in CODES} - set(catalogue(lang)) == set()


# --- the corpus --------------------------------------------------------------------------------------------------


def test_corpus_recall_per_kind_and_no_false_positive() -> None:
    rows = [json.loads(line) for line in (CORPUS / "personal_data.jsonl").read_text().splitlines() if line]
    with (CORPUS / "roster.csv").open(newline="") as roster:
        names = tuple(row["name"] for row in csv.DictReader(roster))
    # The company's own contacts, as the corpus says a protocol lists them in checks.allowed_contacts.
    allowed = ("02 98 00 00 00", "contact@armorine.example", "support@armorine.example")
    predictions = {
        row["id"]: [{"kind": f.code, "start": f.start, "end": f.end}
                    for f in find_personal_data(row["text"], employee_names=names, phone_regions=REGIONS,
                                                allowed_contacts=allowed)]
        for row in rows
    }
    result = score_personal_data(rows, predictions)
    assert set(result["kinds"]) == {"email", "phone_fr", "phone_foreign", "nir", "card", "iban", "employee_name"}
    for kind, entry in result["kinds"].items():
        assert entry["recall"] >= 0.95, (kind, entry["missed_ids"])
    assert result["negatives"]["total"] >= 60
    assert result["negatives"]["false_positives"] == 0, result["negatives"]["ids"]
