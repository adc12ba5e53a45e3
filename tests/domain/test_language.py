from __future__ import annotations

import threading

import pytest

from bot.domain import language
from bot.domain.language import detect_language


@pytest.mark.parametrize(
    "text",
    [
        "Scandale chez Armorine : les salariés sont en grève depuis lundi, la direction refuse de négocier.",
        "Franchement déçue par le service client, personne ne répond depuis une semaine.",
        "Le cours de bourse d'Armorine chute après l'annonce des résultats",
    ],
)
def test_french(text: str) -> None:
    assert detect_language(text) == "fr"


@pytest.mark.parametrize(
    "text",
    [
        "Armorine announces record earnings and raises its dividend for shareholders",
        "Really disappointed with the customer service, nobody has answered for a week.",
        "great product",  # twelve letters are enough when the words are this typical
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", ["", "ok", "Je suis déçu", "12345 !!! 😀😀", "   \n  "])
def test_too_short_is_unknown(text: str) -> None:
    assert detect_language(text) is None


def test_other_languages_are_unknown() -> None:
    assert (
        detect_language("Los trabajadores de Armorine están en huelga desde el lunes por la mañana") is None
    )
    assert detect_language("Der Kundendienst von Armorine ist wirklich schlecht und sehr langsam") is None


def test_links_handles_and_hashtags_do_not_count() -> None:
    # Long enough with them, too short without them.
    assert detect_language("https://t.co/abcdefghijkl @armorine_officiel #boycottarmorine") is None
    assert detect_language("Grosse déception avec @Armorine, produit cassé https://t.co/xyz #sav") == "fr"


def test_deterministic() -> None:
    text = "Merci pour votre aide rapide et efficace"
    assert {detect_language(text) for _ in range(20)} == {"fr"}


def test_thread_safe_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(language, "_detector", None)  # force the lazy build to race
    builds = 0
    real_build = language.LanguageDetectorBuilder.from_languages

    def counting_build(*languages: object) -> object:
        nonlocal builds
        builds += 1
        return real_build(*languages)

    monkeypatch.setattr(language.LanguageDetectorBuilder, "from_languages", staticmethod(counting_build))
    results: list[str | None] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        results.append(detect_language("Les salariés sont en grève depuis lundi matin"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["fr"] * 8
    assert builds == 1
