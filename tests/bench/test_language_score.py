"""The language scorer on hand-built inputs whose outcome is known, and the corpora it scores."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from bench import language_score as ls
from bench.corpus import validate as corpus_validate

CORPUS = Path(__file__).resolve().parents[2] / "bench" / "corpus"


def _row(rid, text, cls="clean", start=None, end=None):
    errors = [] if cls == "clean" else [{"start": start, "end": end, "wrong": text[start:end], "right": "x"}]
    return {"id": rid, "text": text, "lang": "fr", "class": cls, "errors": errors, "source": "test"}


ROWS = [
    _row("h1", "Votre colis et en route.", "homophone", 12, 14),
    _row("h2", "Le magasin et ouvert.", "homophone", 11, 13),
    _row("h3", "Vos colis son partis.", "homophone", 10, 13),
    _row("t1", "Votre comande part.", "typo", 6, 13),
    _row("c1", "Votre colis Colissimo arrive chez Chloé demain."),
    _row("c2", "Merci Inès."),
    _row("c3", "Bonne journée."),
    _row("c4", "À bientôt."),
]


def test_overlap_caught_adjacent_missed_whole_draft_counts():
    preds = {
        "h1": [{"kind": "grammar", "start": 13, "end": 20}],      # overlaps [12, 14)
        "h2": [{"kind": "grammar", "start": 13, "end": 19}],      # starts where the error ends: no overlap
        "h3": [{"kind": "grammar", "start": None, "end": None}],  # about the whole draft: counts
        "t1": [],
        "c1": [{"kind": "spelling", "start": 12, "end": 21}],     # false alarm
        "c2": [], "c3": [], "c4": [],
    }
    result = ls.score_checks(ROWS, preds)
    assert result["classes"]["homophone"] == {"total": 3, "caught": 2, "missed_ids": ["h2"], "recall": 2 / 3}
    assert result["classes"]["typo"]["recall"] == 0.0
    assert result["clean"]["false_alarms"] == 1
    assert result["clean"]["ids"] == ["c1"]
    assert result["clean"]["per_100"] == 25.0


def test_kinds_filter_and_near_tolerance():
    preds = {rid: [] for rid in ("h1", "h2", "h3", "t1", "c2", "c3", "c4")}
    preds["h2"] = [{"kind": "grammar", "start": 14, "end": 20}]   # one character after the error
    preds["c1"] = [{"kind": "personal_data", "start": 0, "end": 5}]
    strict = ls.score_checks(ROWS, preds, kinds=["grammar", "spelling"])
    assert strict["classes"]["homophone"]["caught"] == 0
    assert strict["clean"]["false_alarms"] == 0                    # personal-data finding left out
    loose = ls.score_checks(ROWS, preds, kinds=["grammar"], near=1)
    assert loose["classes"]["homophone"]["caught"] == 1
    assert ls.score_checks(ROWS, preds)["clean"]["false_alarms"] == 1


def test_overlaps_edge_cases():
    assert ls.overlaps({"start": 0, "end": 3}, 2, 5)
    assert not ls.overlaps({"start": 0, "end": 2}, 2, 5)
    assert not ls.overlaps({"start": 5, "end": 9}, 2, 5)
    assert ls.overlaps({"start": 3, "end": 3}, 2, 5)               # empty finding inside the span
    assert not ls.overlaps({"start": 7, "end": 7}, 2, 5)
    assert ls.overlaps({"kind": "x"}, 2, 5)                        # no position at all: whole draft


def test_missing_prediction_is_an_error_unless_allowed():
    with pytest.raises(ValueError, match="no prediction for 7 row"):
        ls.score_checks(ROWS, {"h1": []})
    result = ls.score_checks(ROWS, {"h1": []}, missing_ok=True)
    assert result["classes"]["homophone"]["caught"] == 0
    assert len(result["missing"]) == 7


PD_ROWS = [
    {"id": "e1", "text": "écrire à jean [at] example.com", "lang": "fr", "kind": "email", "positive": True,
     "span": [9, 30]},
    {"id": "e2", "text": "mail: a@b.fr", "lang": "fr", "kind": "email", "positive": True, "span": [6, 12]},
    {"id": "n1", "text": "NIR 1 85 05 78 006 084 36", "lang": "fr", "kind": "nir", "positive": True, "span": [4, 25]},
    {"id": "x1", "text": "Commande 4587123", "lang": "fr", "kind": "order_number", "positive": False, "span": None},
    {"id": "x2", "text": "#Armorine2026", "lang": "fr", "kind": "hashtag", "positive": False, "span": None},
]


def test_personal_data_recall_per_kind_and_false_positives():
    preds = {
        "e1": [{"kind": "personal_data", "start": 9, "end": 30}],
        "e2": [{"kind": "personal_data", "start": 0, "end": 4}],   # flags "mail", not the address
        "n1": [{"kind": "personal_data", "start": 4, "end": 25}],
        "x1": [{"kind": "personal_data", "start": 9, "end": 16}],  # order number taken for a phone
        "x2": [],
    }
    result = ls.score_personal_data(PD_ROWS, preds)
    assert result["kinds"]["email"]["recall"] == 0.5
    assert result["kinds"]["email"]["missed_ids"] == ["e2"]
    assert result["kinds"]["nir"]["recall"] == 1.0
    assert result["negatives"] == {"total": 2, "false_positives": 1, "ids": ["x1"]}
    table = ls.format_table(result)
    assert "| email recall | 1/2 | 50.0 % | ≥ 95.0 % | ❌ |" in table
    assert "| false positives on negatives | 1/2 | 1 | 0 | ❌ |" in table


SENT_ROWS = [{"id": f"s{i}", "text": "t", "lang": "en", "rating": r} for i, r in enumerate(
    ["strong_negative"] * 5 + ["positive"] * 4 + ["neutral"])]


def test_severity_shares():
    raised = {f"s{i}": i in (0, 1, 2, 5) for i in range(10)}   # 3 of 5 strong, 1 of 4 positive
    result = ls.score_severity(SENT_ROWS, raised)
    assert result["strong_negative_raised"] == 0.6
    assert result["positive_raised"] == 0.25
    assert result["ratings"]["neutral"] == {"total": 1, "raised": 0, "share_raised": 0.0}
    table = ls.format_table(result, title="Severity (en)")
    assert table.startswith("**Severity (en)**")
    assert "| strong_negative raised | 3/5 | 60.0 % | ≥ 60.0 % | ✅ |" in table
    assert "| positive raised | 1/4 | 25.0 % | ≤ 3.0 % | ❌ |" in table
    with pytest.raises(ValueError):
        ls.score_severity(SENT_ROWS, {"s0": True})


def test_crisis_score():
    rows = [{"id": "p1", "crisis": True}, {"id": "p2", "crisis": True}, {"id": "n1", "crisis": False}]
    result = ls.score_crisis(rows, {"p1": True, "p2": False, "n1": True})
    assert result["recall"] == 0.5 and result["false_alarm_rate"] == 1.0
    assert result["positives"]["missed_ids"] == ["p2"]


def test_checks_table_marks_targets():
    preds = {r["id"]: ([{"kind": "grammar", "start": None, "end": None}] if r["class"] != "clean" else [])
             for r in ROWS}
    table = ls.format_table(ls.score_checks(ROWS, preds))
    assert "| homophone recall | 3/3 | 100.0 % | ≥ 75.0 % | ✅ |" in table
    assert "| typo recall | 1/1 | 100.0 % | ≥ 95.0 % | ✅ |" in table
    assert "| false alarms per 100 clean drafts | 0/4 | 0.0 | ≤ 2 | ✅ |" in table
    with pytest.raises(ValueError):
        ls.format_table({"kind": "nothing"})


def test_scorer_does_not_import_the_bot():
    source = (Path(ls.__file__)).read_text(encoding="utf-8")
    assert "import bot" not in source and "from bot" not in source


# ---------------------------------------------------------------- the corpora

def test_corpus_is_valid():
    problems = corpus_validate.validate()
    assert problems == []


def test_validator_reports_a_shifted_span_and_a_duplicate(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "checks_fr.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first_error = next(i for i, line in enumerate(lines) if json.loads(line)["errors"])
    row = json.loads(lines[first_error])
    row["errors"][0]["start"] += 1
    row["errors"][0]["end"] += 1
    lines[first_error] = json.dumps(row, ensure_ascii=False)
    lines.append(lines[0])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = corpus_validate.validate(folder)
    assert any(row["id"] in p and "is " in p and "not" in p for p in problems), problems
    assert any("repeated" in p for p in problems), problems


def test_validator_rejects_a_luhn_invalid_card(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "personal_data.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    card = next(r for r in rows if r["kind"] == "card" and r["positive"])
    _start, end = card["span"]
    last = card["text"][end - 1]
    card["text"] = card["text"][:end - 1] + str((int(last) + 1) % 10) + card["text"][end:]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    problems = corpus_validate.validate(folder)
    assert any(card["id"] in p and "Luhn" in p for p in problems), problems


def test_validator_command_exit_codes(tmp_path, capsys):
    assert corpus_validate.main([]) == 0
    folder = tmp_path / "empty"
    folder.mkdir()
    assert corpus_validate.main([str(folder)]) == 1
    assert "missing" in capsys.readouterr().err


def test_fallback_number_checks_agree_with_known_values():
    assert corpus_validate._luhn_ok("4111111111111111")
    assert not corpus_validate._luhn_ok("4111111111111112")
    assert corpus_validate._nir_ok("253072B07300470") and corpus_validate._nir_ok("253072A07300443")
    assert not corpus_validate._nir_ok("253072B07300471")
    assert corpus_validate._iban_ok("FR7630006000011234567890189")
    assert corpus_validate._iban_ok("fr7630006000011234567890189")
    assert not corpus_validate._iban_ok("FR7730006000011234567890189")
    assert not corpus_validate._iban_ok("FR763000600001123456789018")  # one character short
    if "stdnum" in sys.modules:
        from stdnum.fr import nir
        assert nir.is_valid("253072B07300470")
