"""`vigie check`: the findings a draft would get, one draft or a JSON Lines batch (issue 13, item 6)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.usecases import check as check_usecase
from tests.conftest import TEST_PROTOCOL
from tests.typography import fr

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("VIGIE_PROTOCOL_FILE", "VIGIE_LANGUAGETOOL_URL", "VIGIE_GRAMMALECTE_PYTHON"):
        monkeypatch.delenv(name, raising=False)
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(TEST_PROTOCOL.read_text("utf-8").replace(
        "  roster: roster.csv", "  roster: roster.csv\n  allowed_contacts: ['01 23 45 67 89', sav@armorine.fr]"),
        "utf-8")
    (tmp_path / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
    return {"VIGIE_PROTOCOL_FILE": str(protocol)}


def findings(result) -> list[dict]:  # type: ignore[no-untyped-def]
    return json.loads(result.stdout.strip().splitlines()[-1])["findings"]


@pytest.mark.parametrize(("lang", "text", "kind", "word"), [
    ("fr", "Votre colis et en route", "grammar", "et"),
    ("fr", "Nous avons vérifier votre commande", "grammar", "vérifier"),
    ("fr", "Merçi pour votre message.", "spelling", "Merçi"),
    ("en", "Your welcome, the parcel is here.", "grammar", "Your"),
    ("en", "We could of sent it sooner.", "grammar", "of"),
    ("en", "Thank you for your pateince.", "spelling", "pateince"),
    ("fr", "Écrivez à jean.dupont@gmail.com.", "email", "jean.dupont@gmail.com"),
    ("en", "Call Jean on 06 12 34 56 78.", "phone", "06 12 34 56 78"),
])
def test_a_draft_with_a_mistake_exits_1_and_names_it(env, lang: str, text: str, kind: str, word: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["check", "--lang", lang, "--json", text], env=env)
    assert result.exit_code == 1, result.output
    assert [(f["kind"], f["text"]) for f in findings(result)] == [(kind, word)]
    [finding] = findings(result)
    assert text[finding["start"]:finding["end"]] == word and set(finding) == {
        "kind", "text", "start", "end", "suggestions"}


@pytest.mark.parametrize(("lang", "text"), [
    ("fr", "Votre colis Colissimo arrive chez Chloé demain"),
    ("fr", "Appelez notre service client au 01 23 45 67 89 ou écrivez à sav@armorine.fr."),
    ("en", "We apologise: Chloé will call you from Armorine on 01 23 45 67 89."),
])
def test_clean_drafts_pass_with_exit_0(env, lang: str, text: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["check", "--lang", lang, "--json", text], env=env)
    assert (result.exit_code, findings(result)) == (0, []), result.output


def test_human_output_in_the_language_asked(env) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["check", "--lang", "fr", "Votre colis et en route"], env=env)
    assert result.exit_code == 1
    assert fr("Grammaire : « et » → est") in result.stdout
    assert "1 point à revoir avant de publier." in result.stdout
    clean = runner.invoke(app, ["check", "--lang", "en", "All good, thank you."], env=env)
    assert clean.exit_code == 0 and "Nothing to report." in clean.stdout


def test_the_draft_can_come_from_standard_input(env) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(app, ["check", "--lang", "fr", "--json", "-"], env=env,
                           input="Votre colis et en route\n")
    assert result.exit_code == 1 and [f["text"] for f in findings(result)] == ["et"]


def test_network_length_limit(env) -> None:  # type: ignore[no-untyped-def]
    long = "Merci pour votre message. " * 12
    assert runner.invoke(app, ["check", "--lang", "fr", "--network", "x", long], env=env).exit_code == 1
    assert runner.invoke(app, ["check", "--lang", "fr", "--network", "email", long], env=env).exit_code == 0


def test_batch_prints_one_json_line_per_draft(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    drafts = tmp_path / "drafts.jsonl"
    drafts.write_text("\n".join([
        json.dumps({"text": "Votre colis et en route", "lang": "fr"}),
        json.dumps({"text": "Its been shipped.", "lang": "en", "network": "x"}),
        json.dumps({"text": "Votre colis Colissimo arrive chez Chloé demain"}),
        "",
        "not json",
    ]), "utf-8")
    result = runner.invoke(app, ["check", "--lang", "fr", "--batch", str(drafts)], env=env)
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [[f["text"] for f in line.get("findings", [])] for line in lines] == [["et"], ["Its"], [], []]
    assert lines[3] == {"line": 5, "error": lines[3]["error"]}
    clean = tmp_path / "clean.jsonl"
    clean.write_text(json.dumps({"text": "Merci Chloé, à bientôt !", "lang": "fr"}) + "\n", "utf-8")
    assert runner.invoke(app, ["check", "--batch", str(clean)], env=env).exit_code == 0


def test_a_missing_text_or_batch_file_is_an_error(env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert runner.invoke(app, ["check", "--lang", "fr"], env=env).exit_code == 2
    assert runner.invoke(app, ["check", "--batch", str(tmp_path / "none.jsonl")], env=env).exit_code == 2


def test_grammar_comes_from_vigies_rules_when_grammalecte_is_absent(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(check_usecase, "_outside", None)  # start the outside tools again, without Grammalecte
    try:
        result = runner.invoke(app, ["check", "--lang", "fr", "--json", "Nous avons vérifier votre commande"],
                               env={**env, "VIGIE_GRAMMALECTE_PYTHON": "/nonexistent/python3"})
        assert result.exit_code == 1 and [f["text"] for f in findings(result)] == ["vérifier"]
    finally:
        monkeypatch.setattr(check_usecase, "_outside", None)
