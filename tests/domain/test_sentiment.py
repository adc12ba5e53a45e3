"""Severity that reads the text (issue 13, item 4): tone with negation and intensity in French and English,
crisis and negative words in any inflected form and not when negated, storms raising a story, and the
figures reached on bench/corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.language_score import score_crisis, score_severity
from bot.domain.routing import ReasonCode, Router, RoutingTable, SeverityRules
from bot.domain.sentiment import CueMatcher, tone
from bot.domain.workflow import Severity
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol, router_for

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"

# The crisis words of the corpus (bench/corpus/crisis_words.jsonl's "keyword"), as a company would list them.
CRISIS = ("recall", "hacked", "data breach", "food poisoning", "boycott", "foreign body", "strike",
          "rappel produit", "rappel conso", "piratage", "fuite de données", "intoxication", "corps étranger",
          "grève", "scandale", "scandal")


def _router(**severity) -> Router:
    return Router(RoutingTable(teams=frozenset({"t"}), default_team="t", severity=SeverityRules(**severity)),
                  detect=lambda text: None)


def _triage(router: Router, text: str, lang: str | None, reach: int | None = None):
    return router.triage(text=text, source="x", language=lang, reach=reach)


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


# --- tone ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("customer service is terrible. Terrible, terrible", "en"),
    ("Le pire service client de France", "fr"),
    ("Nul, nul, nul ! Trois semaines sans nouvelles.", "fr"),
    ("Franchement scandaleux !!!", "fr"),
])
def test_angry_texts_are_raised_with_their_tone(text: str, lang: str) -> None:
    result = _triage(_router(), text, lang)
    assert result.severity.rank > Severity.low.rank
    codes = {r.code for r in result.reasons}
    assert codes & {ReasonCode.severity_tone, ReasonCode.severity_tone_strong}


@pytest.mark.parametrize(("text", "lang"), [
    ("You will not be disappointed", "en"),
    ("Thanks, my parcel arrived a day early!", "en"),
    ("Ce n'est pas terrible du tout, mais le service client a été parfait.", "fr"),
    ("Livraison rapide, produit parfait, merci !", "fr"),
])
def test_calm_or_negated_texts_are_not_raised(text: str, lang: str) -> None:
    assert _triage(_router(), text, lang).severity is Severity.low


def test_negation_and_intensity_move_the_french_score() -> None:
    assert tone("C'est nul.", "fr").score < 0
    assert tone("Ce n'est pas nul.", "fr").score > 0
    assert tone("C'est vraiment nul !!!", "fr").score < tone("C'est nul.", "fr").score
    assert tone("C'est NUL", "fr").score < tone("C'est nul", "fr").score


def test_very_negative_raises_two_levels_but_never_to_critical() -> None:
    result = _triage(_router(default=Severity.medium), "customer service is terrible. Terrible, terrible", "en")
    assert result.severity is Severity.high
    strong = [r for r in result.reasons if r.code is ReasonCode.severity_tone_strong]
    assert strong and strong[0].params["score"] <= -75


def test_tone_can_be_switched_off() -> None:
    assert _triage(_router(tone=False), "Le pire service client de France", "fr").severity is Severity.low


# --- cues in any form, negation respected ---------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Acme recalls kettles", "kettle recalled", "Acme rappelle ses bouilloires pour un rappel conso",
    "rappel de produit Acme", "Acme a été piraté",
])
def test_crisis_words_match_inflected_forms(text: str) -> None:
    router = _router(crisis_words=("recall", "rappel produit", "rappel conso", "piratage"))
    result = _triage(router, text, None)
    assert result.severity is Severity.critical
    assert any(r.code is ReasonCode.severity_crisis_word for r in result.reasons)


@pytest.mark.parametrize("text", [
    "ce n'est pas un rappel produit", "Aucun rappel produit n'est en cours", "There is no recall on our biscuits",
    "We have not been hacked", "Non, nous n'avons pas été piratés",
])
def test_negated_crisis_words_are_not_said(text: str) -> None:
    matcher = CueMatcher.of(["rappel produit", "recall", "hacked", "piratage"])
    assert matcher.find(text) == []


def test_protocol_still_pins_words_to_a_severity() -> None:
    router = _router(crisis_words=("grève",), crisis_severity=Severity.high, negative_words=("remboursement",))
    assert _triage(router, "Les grévistes bloquent l'usine", "fr").severity is Severity.high
    result = _triage(router, "Je veux être remboursé.", "fr")
    negative = [r for r in result.reasons if r.code is ReasonCode.severity_negative]
    assert negative and negative[0].params["words"] == ["remboursement"]


# --- storms ---------------------------------------------------------------------------------------------------


def test_a_growing_story_is_raised_with_its_copies() -> None:
    router = _router()
    assert router.storm(Severity.low, 5) == (Severity.low, None)
    severity, reason = router.storm(Severity.low, 30)
    assert severity is Severity.high
    assert reason is not None and reason.code is ReasonCode.severity_storm and reason.params["copies"] == 30
    assert router.storm(Severity.critical, 30) == (Severity.critical, None)


# --- measured on the corpus (bench/corpus) ----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "strong_at_least", "positive_at_most"), [
    ("sentiment_en.jsonl", 42 / 47, 0.0),  # measured: 42/47 (89.4 %) strong negatives raised, 0/55 positives
    ("sentiment_fr.jsonl", 37 / 40, 1 / 39),  # measured: 37/40 (92.5 %; 35/40 before Pattern's adjectives), 1/39
])
def test_severity_on_the_corpus_with_the_example_protocol(name: str, strong_at_least: float,
                                                          positive_at_most: float) -> None:
    router = router_for(load_protocol(EXAMPLE_PROTOCOL))
    rows = _rows(name)
    raised = {}
    for row in rows:
        result = router.triage(text=row["text"], source="x", language=row["lang"], reach=None)
        raised[row["id"]] = result.severity.rank > Severity.low.rank
    score = score_severity(rows, raised)
    assert score["strong_negative_raised"] >= strong_at_least
    assert score["positive_raised"] <= positive_at_most
    assert score["strong_negative_raised"] >= 0.60 and score["positive_raised"] <= 0.03  # the targets


def test_crisis_words_on_the_corpus() -> None:
    matcher = CueMatcher.of(CRISIS)
    rows = _rows("crisis_words.jsonl")
    said = {row["id"]: bool(matcher.find(row["text"])) for row in rows}
    score = score_crisis(rows, said)
    # Measured: 40/44 crisis texts (90.9 %); 15/44 negated or unrelated texts flagged (34.1 %): every negated
    # one passes, the false alarms are other senses of the word ("I recall", "three strikes", "la grève de
    # Douarnenez"), and the 4 missed are "rappelle ses palets" without "produit"/"conso" written.
    assert score["positives"]["caught"] >= 40
    assert score["negatives"]["false_alarms"] <= 15
    negated = [row["id"] for row in rows if not row["crisis"] and row["text"].lower().startswith(
        ("i don't", "there is no", "this is not", "we have not", "no ", "nobody", "i would never", "aucun",
         "il ne s'agit pas", "non, nous", "pas de", "je ne", "personne"))]
    assert len(negated) >= 12
    assert [rid for rid in negated if said[rid]] == []


def test_tone_is_safe_from_several_threads_at_once() -> None:
    """Two intake requests at once triage in two threads: the stemmers must not be shared (a shared Snowball
    stemmer reads the other thread's word and fails with IndexError — seen as a 500 on a vendor push)."""
    import threading

    from bot.domain.sentiment import tone

    texts = [f"Le service client est vraiment nul, jamais répondu, remboursement refusé n°{i} ! Arnaque, bouilloires "
             f"rappelées, grévistes, déçue, épouvantable, catastrophique" for i in range(200)]
    expected = [tone(text, "fr") for text in texts]
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []
    results: dict[int, list] = {}

    def work(n: int) -> None:
        barrier.wait()
        try:
            results[n] = [tone(text, "fr") for text in texts]
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert all(r == expected for r in results.values())
