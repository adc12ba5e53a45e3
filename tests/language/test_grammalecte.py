"""Grammalecte through its worker process: a real process, skipped (with the install line) when absent."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from bot.language.grammalecte import Grammalecte, GrammalecteUnavailable, start_grammalecte


@pytest.fixture(scope="module")
def grammalecte():  # type: ignore[no-untyped-def]
    try:
        checker = Grammalecte()
    except GrammalecteUnavailable as exc:
        pytest.skip(f"Grammalecte is absent ({exc}); install Debian's python3-grammalecte")
    yield checker
    checker.close()


def test_grammar_errors_become_findings_with_rule_and_suggestion(grammalecte) -> None:  # type: ignore[no-untyped-def]
    text = "Nous avons vérifier votre commande."
    [finding] = grammalecte(text, "fr")
    assert (finding.code, finding.start, finding.end, finding.text) == ("grammar", 11, 19, "vérifier")
    assert finding.suggestions == ("vérifié",)
    assert finding.params["rule"].startswith("gv1__ppas") and "participe" in finding.params["message"]


def test_agreement_and_positions_across_paragraphs(grammalecte) -> None:  # type: ignore[no-untyped-def]
    text = "Bonjour,\nVos commandes ont été expédié."
    [finding] = grammalecte(text, "fr")
    assert text[finding.start:finding.end] == "expédié" and finding.suggestions == ("expédiées",)


def test_typography_is_not_its_business(grammalecte) -> None:  # type: ignore[no-untyped-def]
    # Straight apostrophes, a plain space before ":" or "!", no non-breaking spaces: all fine here.
    assert grammalecte("Bonjour : l'équipe vous répond demain ! C'est noté.", "fr") == []
    assert grammalecte("Votre colis Colissimo arrive chez Chloé demain.", "fr") == []


def test_only_french_is_sent(grammalecte) -> None:  # type: ignore[no-untyped-def]
    assert grammalecte("We have check you order.", "en") == []


def test_the_worker_survives_being_killed(grammalecte) -> None:  # type: ignore[no-untyped-def]
    pid = grammalecte.pid
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.1)
    assert [f.text for f in grammalecte("Nous avons vérifier votre commande.", "fr")] == ["vérifier"]
    assert grammalecte.pid != pid and grammalecte.restarts >= 1


def test_threads_share_one_worker_safely(grammalecte) -> None:  # type: ignore[no-untyped-def]
    results: list[list[str]] = []

    def ask() -> None:
        for _ in range(10):
            results.append([f.text for f in grammalecte("Nous avons vérifier votre commande.", "fr")])

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["vérifier"]] * 40


def test_a_stuck_worker_is_given_up_on_and_replaced(grammalecte) -> None:  # type: ignore[no-untyped-def]
    os.kill(grammalecte.pid, signal.SIGSTOP)  # alive but silent
    stopped = grammalecte.pid
    timeout, grammalecte.timeout = grammalecte.timeout, 0.3
    try:
        assert grammalecte("Nous avons vérifier votre commande.", "fr") == []  # checked without it
    finally:
        grammalecte.timeout = timeout
    assert [f.text for f in grammalecte("Nous avons vérifier votre commande.", "fr")] == ["vérifier"]
    assert grammalecte.pid != stopped


def test_absent_grammalecte_is_one_log_line_and_no_checker(caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level("INFO", logger="bot.language.grammalecte"):
        assert start_grammalecte("/nonexistent/python3") is None
    assert [r.getMessage().split(":")[0:2] for r in caplog.records] == [["grammalecte", " absent, French grammar checked by Vigie's own rules only (cannot run /nonexistent/python3"]]
