from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.text import Folded, compile_terms, find_terms, fold


def terms_found(text: str, terms: list[str]) -> list[str]:
    return [term for term, _, _ in find_terms(text, terms)]


def slices(text: str, terms: list[str]) -> list[str]:
    return [text[start:end] for _, start, end in find_terms(text, terms)]


# --- fold --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Résultats", "resultats"),
        ("L’Été", "l'ete"),
        ("l‘avocat ʼ", "l'avocat '"),
        ("RGPD", "rgpd"),
        ("Straße", "strasse"),
        ("ﬁnance", "finance"),
        ("Ça GRÈVE", "ca greve"),
        ("Cafe\u0301", "cafe"),  # decomposed accent
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


# --- find_terms: accents, case, apostrophes ------------------------------------------------------------------


def test_unaccented_keyword_matches_accented_text_and_back() -> None:
    assert slices("Les Résultats annuels", ["resultats"]) == ["Résultats"]
    assert slices("les resultats annuels", ["résultats"]) == ["resultats"]
    assert slices("LES RÉSULTATS", ["Résultats"]) == ["RÉSULTATS"]


def test_case_insensitive_acronyms() -> None:
    assert slices("Conformité rgpd et Rgpd et RGPD", ["RGPD"]) == ["rgpd", "Rgpd", "RGPD"]


def test_typographic_and_straight_apostrophes_are_the_same() -> None:
    assert slices("Selon l’avocat de la famille", ["l'avocat"]) == ["l’avocat"]
    assert slices("Selon L'AVOCAT de la famille", ["l’avocat"]) == ["L'AVOCAT"]
    # An apostrophe separates words: "avocat" alone is found inside "l’avocat".
    assert slices("Selon l’avocat", ["avocat"]) == ["avocat"]


def test_reports_the_term_as_written_in_the_protocol() -> None:
    assert find_terms("Le cours de Bourse", ["Cours de bourse"]) == [("Cours de bourse", 3, 18)]


# --- whole words -------------------------------------------------------------------------------------------


def test_whole_words_only() -> None:
    assert terms_found("Un actionnaire mécontent", ["action"]) == []
    assert terms_found("Une réaction vive", ["action"]) == []
    assert terms_found("L'action chute, (action) action.", ["action"]) == ["action", "action", "action"]


def test_a_longer_listed_word_is_found_on_its_own() -> None:
    assert terms_found("Un actionnaire mécontent", ["action", "actionnaire"]) == ["actionnaire"]


def test_terms_starting_or_ending_with_punctuation() -> None:
    assert slices("Appel au #Boycott !", ["#boycott"]) == ["#Boycott"]
    assert slices("Appel au #Boycott !", ["boycott"]) == ["Boycott"]
    assert slices("I love c++.", ["c++"]) == ["c++"]
    assert terms_found("Appel au boycott", ["#boycott"]) == []


def test_hyphenated_words_are_whole_words_on_each_side() -> None:
    assert terms_found("un anti-boycott", ["boycott"]) == ["boycott"]
    assert terms_found("e-mail", ["mail"]) == ["mail"]


# --- phrases -------------------------------------------------------------------------------------------------


def test_phrase_matches_across_any_whitespace() -> None:
    text = "Le cours  de\nbourse et le cours\tde\u00a0bourse"
    assert slices(text, ["cours de bourse"]) == ["cours  de\nbourse", "cours\tde\u00a0bourse"]


def test_phrase_needs_its_whole_words() -> None:
    assert terms_found("le cours de boursier", ["cours de bourse"]) == []
    assert terms_found("le coursde bourse", ["cours de bourse"]) == []


def test_longest_term_wins_at_one_position() -> None:
    assert terms_found("le cours de bourse", ["cours", "cours de bourse"]) == ["cours de bourse"]
    assert terms_found("le cours de boursier", ["cours", "cours de bourse"]) == ["cours"]


def test_tag_separator_does_not_make_phrases() -> None:
    # routing joins tags with " | "; this is what keeps "cours de" + tag "bourse" apart.
    assert terms_found("le cours de | bourse", ["cours de bourse"]) == []


# --- positions in the original text -------------------------------------------------------------------


def test_positions_survive_length_changes_before_the_match() -> None:
    text = "Straße ﬁn: Résultats"
    [(term, start, end)] = find_terms(text, ["résultats"])
    assert (term, text[start:end]) == ("résultats", "Résultats")


def test_decomposed_accent_belongs_to_the_match() -> None:
    text = "Re\u0301sultats cafe\u0301 ok"
    assert slices(text, ["résultats", "café"]) == ["Re\u0301sultats", "cafe\u0301"]


def test_expansions_are_matched_whole() -> None:
    assert slices("Une ﬁn", ["fin"]) == ["ﬁn"]
    assert slices("Straße", ["strasse"]) == ["Straße"]
    # "½" folds to "1⁄2": half of a character is not a match.
    assert terms_found("½", ["2"]) == []


def test_folded_text_can_be_shared_between_lists() -> None:
    folded = Folded("Grève et dividende")
    assert find_terms(folded, ["grève"]) == [("grève", 0, 5)]
    assert find_terms(folded, ["dividende"]) == [("dividende", 9, 18)]


# --- lists -------------------------------------------------------------------------------------------------------


def test_empty_and_blank_terms_are_ignored() -> None:
    assert find_terms("anything", []) == []
    assert find_terms("anything at all", ["", "   ", "all"]) == [("all", 12, 15)]


def test_terms_that_fold_alike_report_the_first() -> None:
    assert terms_found("Résultats", ["résultats", "RESULTATS"]) == ["résultats"]


def test_regex_characters_in_terms_are_literal() -> None:
    assert terms_found("prix (HT) et prix HT", ["(ht)"]) == ["(ht)"]
    assert terms_found("a.b et axb", ["a.b"]) == ["a.b"]


def test_compiled_lists_are_cached() -> None:
    assert compile_terms(("grève", "strike")) is compile_terms(("grève", "strike"))


def test_many_terms_stay_correct() -> None:
    terms = [f"mot{i}" for i in range(300)] + ["cours de bourse"]
    text = "mot17 et mot299, pas mot3000, le cours de bourse"
    assert terms_found(text, terms) == ["mot17", "mot299", "cours de bourse"]


# --- properties ----------------------------------------------------------------------------------------------

letters = st.sampled_from("aeiouyrstlnéèêàçœßÉÈÀÇAEIOU")
words = st.text(letters, min_size=1, max_size=6)


def squash(text: str) -> str:
    return " ".join(fold(text).split())


@settings(max_examples=300)
@given(
    text=st.text(max_size=80),
    terms=st.lists(st.lists(words, min_size=1, max_size=3).map(" ".join), max_size=5),
)
def test_every_match_slices_to_its_term(text: str, terms: list[str]) -> None:
    previous_end = 0
    for term, start, end in find_terms(text, terms):
        assert 0 <= previous_end <= start < end <= len(text)
        assert squash(text[start:end]) == squash(term)
        previous_end = end


@settings(max_examples=300)
@given(
    before=st.text(max_size=20),
    term=st.lists(words, min_size=1, max_size=3).map(" ".join),
    after=st.text(max_size=20),
)
def test_a_term_between_spaces_is_always_found(before: str, term: str, after: str) -> None:
    text = f"{before} {term.upper()} {after}"
    assert squash(term) in [squash(text[s:e]) for _, s, e in find_terms(text, [term])]
