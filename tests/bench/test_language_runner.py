"""bench/language.py: the corpora are checked by the same checker as `vigie check`, scored, timed, and the
Markdown lands between the runner's own markers in BENCHMARKS.md (the rest of the file untouched)."""

from __future__ import annotations

from pathlib import Path

from bench import language
from bot.usecases.check import DraftChecker


def test_rows_are_checked_scored_and_timed() -> None:
    checker = DraftChecker(language.bench_policy(), grammar=[])
    rows = [r for r in language.read_jsonl(language.CORPUS / "checks_fr.jsonl")
            if r["id"] in ("fr-clean-002", "fr-homophone-001", "fr-typo-001")]
    predictions, times = language.run_rows(checker, rows)
    assert set(predictions) == {r["id"] for r in rows} and len(times) == 3 and all(t > 0 for t in times)
    assert predictions["fr-clean-002"] == []  # "Votre colis Colissimo arrive chez Chloé demain."
    result = language.score.score_checks(rows, predictions)
    assert result["clean"]["false_alarms"] == 0


def test_the_policy_knows_the_roster_and_the_company_contacts() -> None:
    policy = language.bench_policy()
    assert "Jean-Baptiste Leroy" in policy.employee_names and len(policy.employee_names) == 10
    assert "contact@armorine.example" in policy.allowed_contacts
    checker = DraftChecker(policy, grammar=[])
    assert checker.check("Écrivez à contact@armorine.example ou au 02 98 00 00 00.", language="fr") == []


def test_the_section_goes_between_its_own_markers(tmp_path: Path) -> None:
    bench = tmp_path / "BENCHMARKS.md"
    bench.write_text("# Benchmarks\n\nOther runs.\n", encoding="utf-8")
    language.write(bench, "## Language checks — first\n")
    language.write(bench, "## Language checks — second\n")
    text = bench.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nOther runs.\n")
    assert "second" in text and "first" not in text
    assert text.count(language.BEGIN) == 1 and text.count(language.END) == 1


def test_percentiles() -> None:
    assert language.percentile([5.0], 95) == 5.0
    values = [float(i) for i in range(1, 101)]
    assert abs(language.percentile(values, 50) - 50.5) <= 0.5
    assert 94 <= language.percentile(values, 95) <= 96
