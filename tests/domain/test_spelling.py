"""Spelling: both backends, real typos in French and English, and clean replies that must pass untouched."""

from __future__ import annotations

import threading

import pytest

from bot.domain import spelling
from bot.domain.spelling import (
    Misspelling,
    SpellChecker,
    SpellingUnavailable,
    get_spellchecker,
    misspellings,
)
from tests.domain.conftest import enchant_or_skip


def words(text: str, lang: str, checker: SpellChecker, company: frozenset[str] = frozenset()) -> list[str]:
    return [m.word for m in misspellings(text, lang, company_words=company, checker=checker)]


# --- real misspellings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "typo", "expected"),
    [
        ("Voici notre reponse.", "fr", "reponse", "réponse"),
        ("Merci de votre patiance.", "fr", "patiance", "patience"),
        ("Nous avons bien recu votre message.", "fr", "recu", "reçu"),
        ("Did you recieve our email?", "en", "recieve", "receive"),
        ("Thanks for your mesage.", "en", "mesage", "message"),
    ],
)
def test_typos_are_found_with_a_suggestion(
    checker: SpellChecker, text: str, lang: str, typo: str, expected: str
) -> None:
    [found] = misspellings(text, lang, company_words=frozenset(), checker=checker)
    assert found.word == typo
    assert text[found.start:found.end] == typo
    assert expected in found.suggestions


def test_elided_typo_is_found(checker: SpellChecker) -> None:
    text = "Toute l’equipe vous remercie."
    [found] = misspellings(text, "fr", company_words=frozenset(), checker=checker)
    assert found.word == "l’equipe"
    assert any(s.replace("’", "'") == "l'équipe" for s in found.suggestions)


def test_hyphenated_typo_is_found(checker: SpellChecker) -> None:
    assert words("Nous reviendrons peut-etre vers vous.", "fr", checker) == ["peut-etre"]


def test_each_language_uses_its_own_dictionary(checker: SpellChecker) -> None:
    assert words("Nous sommes désolés.", "en", checker)  # French words are typos in English
    assert words("We are sorry.", "fr", checker)


# --- clean replies pass --------------------------------------------------------------------------------------

CLEAN_FR = [
    ("Bonjour @marie_l, désolés pour l’attente ! N'hésitez pas à nous recontacter : le SAV de Vigimax vous "
    "répondra aujourd'hui, peut-être même avant midi."),
    ("Votre commande 123456789 partira au T3 2026 (2 colis, 49,90 €). Détails : https://vigimax.fr/aide?id=42 "
    "#VigimaxAide"),
    ("Notre équipe vous recontactera dès demain. Pourriez-vous nous préciser l'adresse e-mail associée à votre "
    "compte ? Qu'en pensez-vous ? Votre colis a-t-il été livré ? C'est noté, nous transmettons."),
    ("Nous l’avons signalé à notre partenaire ; il s’agit d’un incident ponctuel, jusqu’à lundi. Nos conseillers "
    "sont joignables du lundi au vendredi. Écrivez à <@U123ABC> ou sur contact@vigimax.fr :wave:"),
]
CLEAN_EN = [
    "Hi <@U123ABC>, we're sorry! Don’t hesitate to DM @VigimaxHelp: Vigimax's SAV team will follow up today.",
    "Your order 123456789 ships in Q3 2026 (2 parcels, $49.90). Details: https://vigimax.com/help #VigimaxCares",
    ("We apologize for the inconvenience and appreciate your patience. You'll receive a confirmation email "
    "shortly; it's been escalated to the customer's account manager."),
]


@pytest.mark.parametrize("text", CLEAN_FR)
def test_clean_french_passes(checker: SpellChecker, text: str) -> None:
    assert words(text, "fr", checker, frozenset({"Vigimax"})) == []


@pytest.mark.parametrize("text", CLEAN_EN)
def test_clean_english_passes(checker: SpellChecker, text: str) -> None:
    assert words(text, "en", checker, frozenset({"Vigimax"})) == []


@pytest.mark.parametrize(
    "word", ["N'hésitez", "N’hésitez", "recontactera", "aujourd'hui", "peut-être", "qu'un", "joignables"]
)
def test_valid_french_forms_are_words(checker: SpellChecker, word: str) -> None:
    assert checker.check(word, "fr")


# --- what is skipped, and why each skip matters --------------------------------------------------------------


def test_company_words_are_accepted_case_insensitively(checker: SpellChecker) -> None:
    text = "Vigimax et VIGIMAX et vigimax"
    assert words(text, "fr", checker) == ["Vigimax", "vigimax"]  # the brand is not in any dictionary...
    assert words(text, "fr", checker, frozenset({"ViGiMaX"})) == []  # ...so the policy must list it


def test_company_words_with_elision_or_possessive(checker: SpellChecker) -> None:
    assert words("l'application d'Vigimax", "fr", checker, frozenset({"vigimax"})) == []
    assert words("Vigimax's app", "en", checker, frozenset({"Vigimax"})) == []
    assert words("Vigimax's app", "en", checker) == ["Vigimax's"]


def test_multi_word_company_names_accept_each_word(checker: SpellChecker) -> None:
    assert words("Vigimax Xqzrpro arrive.", "fr", checker, frozenset({"Vigimax Xqzrpro"})) == []


def test_all_caps_acronyms_are_accepted(checker: SpellChecker) -> None:
    assert words("Le XQZR répond.", "fr", checker) == []
    assert words("Xqzr répond.", "fr", checker) == ["Xqzr"]  # capitalised mid-sentence is a name: see below


@pytest.mark.parametrize(
    "text",
    [
        "https://vigimax.fr/reponse-patiance",
        "www.vigimax.fr/patiance",
        "patiance@vigimax.fr",
        "@patiance",
        "#patiance",
        "<@U123|patiance>",
        "`patiance`",
        ":patiance:",
        "patiance.fr",
        "patiance2026",
    ],
)
def test_links_handles_tags_markup_and_numbers_are_skipped(checker: SpellChecker, text: str) -> None:
    assert words(text, "fr", checker) == []
    assert words("patiance", "fr", checker) == ["patiance"]  # the same word, standing alone, is flagged


def test_unsupported_language_checks_nothing(checker: SpellChecker) -> None:
    assert words("Lo sentimos mucho", "es", checker) == []
    with pytest.raises(ValueError, match="es"):
        checker.check("hola", "es")


def test_positions_point_into_the_original_text(checker: SpellChecker) -> None:
    text = "Bonjour ! Voici la reponse, et la patiance."
    found = misspellings(text, "fr", company_words=frozenset(), checker=checker)
    assert [(m.start, m.end) for m in found] == [(19, 26), (34, 42)]
    assert all(text[m.start:m.end] == m.word for m in found)
    assert all(isinstance(m, Misspelling) and isinstance(m.suggestions, tuple) for m in found)


class CountingChecker:
    name = "counting"

    def __init__(self, inner: SpellChecker) -> None:
        self.inner, self.suggested = inner, []

    def check(self, word: str, lang: str) -> bool:
        return self.inner.check(word, lang)

    def suggest(self, word: str, lang: str, limit: int = 5) -> list[str]:
        self.suggested.append(word)
        return self.inner.suggest(word, lang, limit)


def test_suggestions_are_computed_only_for_misspelt_words(checker: SpellChecker) -> None:
    counting = CountingChecker(checker)
    misspellings("Merci de votre patiance, bonne journée.", "fr", company_words=frozenset(), checker=counting)
    assert counting.suggested == ["patiance"]


def test_suggest_respects_the_limit(checker: SpellChecker) -> None:
    assert len(checker.suggest("recu", "fr", limit=2)) <= 2
    assert checker.suggest("recu", "fr", limit=2)


# --- backend choice --------------------------------------------------------------------------------------------


def test_get_spellchecker_is_built_once_across_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spelling, "_checker", None)
    got: list[SpellChecker] = []
    threads = [threading.Thread(target=lambda: got.append(get_spellchecker())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(c is got[0] for c in got)
    assert got[0].name in ("enchant/hunspell", "pyspellchecker")


def test_prefers_hunspell_and_falls_back_to_pyspellchecker(monkeypatch: pytest.MonkeyPatch) -> None:
    enchant_or_skip()  # skips when hunspell is not installed here
    monkeypatch.setattr(spelling, "_checker", None)
    assert get_spellchecker().name == "enchant/hunspell"

    def unavailable() -> None:
        raise SpellingUnavailable("no libenchant")

    monkeypatch.setattr(spelling, "_checker", None)
    monkeypatch.setattr(spelling, "EnchantSpellChecker", unavailable)
    assert get_spellchecker().name == "pyspellchecker"


# --- cost bounds --------------------------------------------------------------------------------------------------


class _Counting:
    """A backend that knows no word, counts its suggestion calls and takes `cost` seconds of a fake stopwatch."""

    name = "counting"

    def __init__(self, watch: list[float], cost: float = 0.0) -> None:
        self.watch, self.cost, self.asked = watch, cost, []

    def check(self, word: str, lang: str) -> bool:
        return False

    def suggest(self, word: str, lang: str, limit: int = 5) -> list[str]:
        self.asked.append(word)
        self.watch[0] += self.cost
        return [word + "e"]


def test_suggestions_are_remembered_per_word_and_the_oldest_forgotten_first() -> None:
    backend = _Counting([0.0])
    cached = spelling.CachedSuggestions(backend, size=2)
    assert cached.suggest("reponse", "fr") == ["reponsee"] and cached.suggest("reponse", "fr") == ["reponsee"]
    assert backend.asked == ["reponse"]  # the second time costs no suggestion
    cached.suggest("reponse", "en")  # another language is another word
    cached.suggest("colis", "fr")  # evicts the oldest: ("reponse", "fr")
    cached.suggest("reponse", "fr")
    assert backend.asked == ["reponse", "reponse", "colis", "reponse"]
    assert cached.name == "counting" and cached.check("x", "fr") is False


def test_suggestions_stop_when_the_texts_budget_is_spent_but_every_misspelling_is_still_found() -> None:
    watch = [0.0]
    backend = _Counting(watch, cost=0.1)
    found = misspellings("aaa bbb ccc ddd eee", "fr", company_words=frozenset(), checker=backend,
                         budget=0.25, timer=lambda: watch[0])
    assert [m.word for m in found] == ["aaa", "bbb", "ccc", "ddd", "eee"]
    assert [bool(m.suggestions) for m in found] == [True, True, True, False, False]  # 0, 0.1, 0.2 < 0.25
