"""`vigie protocol test FILE SAMPLES`: each sample's team, severity and reasons, as a table or JSON lines, the
agreement with expected columns, exit codes, and a bad samples file told as one sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol
from bot.usecases.protocol_test import SamplesError, read_samples, triage_samples

runner = CliRunner()
CORPUS = Path(__file__).parent.parent / "bench" / "corpus" / "triage_samples.csv"


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["protocol", "test", str(EXAMPLE_PROTOCOL), *args], env={"COLUMNS": "250"})


def _csv(tmp_path: Path, body: str, name: str = "samples.csv") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def test_json_gives_one_line_per_sample_with_the_intakes_triage(tmp_path):
    path = _csv(tmp_path, "\n".join([
        json.dumps({"text": "Acme cuts its dividend, investors worried about the FTSE listing", "lang": "en"}),
        json.dumps({"text": "Nice shop, friendly staff", "lang": "en", "reach": 10, "author": "@a", "source": "x"}),
        json.dumps({"text": "Acme recalls its kettles after fires", "lang": "en", "reach": "2000"}),
    ]) + "\n", "samples.jsonl")
    result = run(str(path), "--json")
    assert result.exit_code == 0, result.output  # no expectation: nothing can disagree
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [set(line) for line in lines] == [{"team", "severity", "reasons"}] * 3
    assert [line["team"] for line in lines] == ["finance", "general", "general"]
    assert lines[2]["severity"] == "critical"
    assert {r["code"] for r in lines[2]["reasons"]} >= {"severity.crisis_word"}
    # The very decision the intake takes for the same mention.
    [sample] = read_samples(_csv(tmp_path, lines and '{"text": "Acme recalls its kettles after fires", '
                                            '"lang": "en", "reach": 2000}\n', "one.jsonl"))
    [decided] = triage_samples([sample], load_protocol(EXAMPLE_PROTOCOL))
    assert lines[2]["reasons"] == decided.reasons


def test_the_table_shows_team_severity_and_reasons_and_counts_the_agreement(tmp_path):
    path = _csv(tmp_path, "text,lang,expected_team,expected_severity\n"
                          "Acme recalls its kettles after fires,en,general,critical\n"
                          "Nice shop,en,general,low\n")
    result = run(str(path), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Acme" in result.output and "critical" in result.output and "general" in result.output
    assert result.output.strip().splitlines()[-1] == "2 of 2 samples agree with what is expected."


def test_a_disagreement_is_counted_and_exits_1(tmp_path):
    path = _csv(tmp_path, "text,lang,expected_team,expected_severity\n"
                          "Acme recalls its kettles after fires,en,general,low\n"
                          "Nice shop,en,general,low\n"
                          "Nice shop again,en,,\n")  # expects nothing: not counted
    table = run(str(path), "--lang", "fr")
    assert table.exit_code == 1, table.output
    assert table.output.strip().splitlines()[-1] == "1 échantillon sur 2 conforme à ce qui est attendu."
    as_json = run(str(path), "--json")
    assert as_json.exit_code == 1
    assert json.loads(as_json.output.splitlines()[-1]) == {"agree": 1, "checked": 2}


def test_the_shipped_samples_with_the_example_protocol():
    result = run(str(CORPUS), "--json")
    lines = [json.loads(line) for line in result.output.splitlines()]
    summary = lines[-1]
    assert summary["checked"] == 40 and len(lines) == 41
    assert result.exit_code == (0 if summary["agree"] == 40 else 1)
    assert summary["agree"] >= 36  # 37 of 40 when this was written (BENCHMARKS.md keeps the figure)


@pytest.mark.parametrize(("name", "body", "expected"), [
    ("samples.txt", "text\nhello\n", "doivent être un fichier .csv"),
    ("samples.csv", "message,lang\nhello,fr\n", "pas de colonne «\u00a0text\u00a0»"),
    ("samples.csv", "text,lang,reach\nhello,fr,beaucoup\n", "Ligne 2\u00a0: «\u00a0reach\u00a0» doit être"),
    ("samples.csv", "text,lang\n,fr\n", "Ligne 2\u00a0: l'échantillon n'a pas de texte"),
    ("samples.csv", "text,lang\n,\n", "ne contient aucun échantillon"),  # a blank row is skipped
    ("samples.jsonl", '{"text": "ok"}\n{"text": "broken"\n', "Ligne 2\u00a0: JSON illisible"),
    ("samples.jsonl", '["text"]\n', "Ligne 1\u00a0: chaque ligne doit être un objet JSON"),
    ("samples.jsonl", '{"lang": "fr"}\n', "Ligne 1\u00a0: l'échantillon n'a pas de texte"),
    ("samples.jsonl", "\n\n", "ne contient aucun échantillon"),
])
def test_a_bad_samples_file_is_one_sentence_and_exit_2(tmp_path, name, body, expected):
    path = _csv(tmp_path, body, name)
    result = run(str(path), "--lang", "fr")
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert expected in result.output, result.output


def test_a_missing_samples_file_and_a_bad_protocol(tmp_path):
    missing = run(str(tmp_path / "nope.csv"), "--lang", "en")
    assert missing.exit_code == 2 and "Cannot read" in missing.output and "nope.csv" in missing.output
    bad = tmp_path / "protocol.yaml"
    bad.write_text("teams: [\n", encoding="utf-8")
    result = runner.invoke(app, ["protocol", "test", str(bad), str(CORPUS)])
    assert result.exit_code == 2 and "protocol.yaml" in result.output


def test_read_samples_refuses_a_negative_reach(tmp_path):
    with pytest.raises(SamplesError) as caught:
        read_samples(_csv(tmp_path, "text,reach\nhi,-3\n"))
    assert (caught.value.key, caught.value.params["line"]) == ("cli.protocol_test.bad_reach", 2)
