"""The terminal speaks its reader's language (issue 15, item 5): the locale or --lang, never the protocol's; every
--help text in French and English; the system's own words kept out of translated sentences; migrations quiet
unless asked; the digest as plain text; the example protocol copied elsewhere told clearly about its roster."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli import app
from bot.cli.common import help_language, help_paths, os_reason
from bot.cli.mrkdwn import plain_text
from bot.config import terminal_language
from bot.i18n import LANGUAGES, catalogue, t
from tests.conftest import TEST_PROTOCOL

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def flat(text: str) -> str:
    """Words only: the help's box drawing and line wrapping, and every kind of space, out of the way."""
    for mark in "│╭╮╰╯─\u202f\u00a0":
        text = text.replace(mark, " ")
    return " ".join(text.split())


@pytest.mark.parametrize(("environ", "expected"), [
    ({"LANG": "fr_FR.UTF-8"}, "fr"), ({"LANG": "en_GB.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, None),
    ({"LANG": "de_DE.UTF-8"}, None), ({}, None), ({"LC_ALL": "fr_CA.UTF-8", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LC_MESSAGES": "en_US", "LANG": "fr_FR"}, "en"), ({"LANGUAGE": "de:fr", "LANG": "en_US.UTF-8"}, "fr"),
    ({"LANGUAGE": "de", "LANG": "en_US.UTF-8"}, "en"), ({"LANG": "fr_FR@euro"}, "fr"), ({"LANG": "POSIX"}, None),
])
def test_the_terminals_language_comes_from_the_locale_as_gettext_reads_it(environ, expected):
    assert terminal_language(environ) == expected
    assert help_language([], environ) == (expected or "en")
    assert help_language(["digest", "--lang", "fr"], environ) == "fr"
    assert help_language(["--lang=en", "db"], environ) == "en"


def test_every_command_and_option_has_its_help_in_both_languages():
    root = typer.main.get_command(app)
    missing = []
    for path, command in help_paths(root):
        keys = [f"cli.help.{path}"] + [f"cli.help.{path}.{p.name}" for p in command.params]
        missing += [(lang, key) for key in keys for lang in LANGUAGES if key not in catalogue(lang)]
    assert missing == []
    assert len(list(help_paths(root))) >= 18


@pytest.mark.parametrize("lang", LANGUAGES)
def test_help_is_printed_in_the_terminals_language_for_every_command(lang):
    root = typer.main.get_command(app)
    other = "en" if lang == "fr" else "fr"
    for path, command in help_paths(root):
        words = [] if path == "root" else path.split(".")
        r = runner.invoke(app, [*words, "--help"], env={"LANG": f"{lang}_FR.UTF-8" if lang == "fr" else "en_US.UTF-8"})
        assert r.exit_code == 0, (path, r.output)
        said = flat(r.output)
        own, foreign = flat(t(f"cli.help.{path}", lang)), flat(t(f"cli.help.{path}", other))
        assert own[:40] in said and (own[:40] == foreign[:40] or foreign[:40] not in said), (path, said[:300])
        for param in command.params:  # each option's help (its first words: the box wraps long lines)
            first = " ".join(flat(t(f"cli.help.{path}.{param.name}", lang)).split()[:3])
            assert first in said, (path, param.name, first)
        assert flat(t("cli.help.panel.help_option", lang)) in said
    # --lang on the line wins over the locale.
    r = runner.invoke(app, ["--lang", other, "import", "--help"], env={"LANG": "fr_FR.UTF-8" if lang == "fr" else "en_US.UTF-8"})
    assert flat(t("cli.help.import", other))[:40] in flat(r.output)


@pytest.mark.parametrize(("lang", "words"), [
    ("fr", {"usage": "Utilisation :", "options": "Options", "commands": "Commandes", "missing": "Argument manquant 'file'.",
            "unknown": "Commande inconnue « nosuch ».", "guess": "Commande inconnue « dige ». Vouliez-vous dire 'digest' ?",
            "option": "Option inconnue « --nosuch ».", "extra": "Arguments en trop (un deux)", "error": "Erreur"}),
    ("en", {"usage": "Usage:", "options": "Options", "commands": "Commands", "missing": "Missing argument 'file'.",
            "unknown": "No such command “nosuch”.", "guess": "No such command “dige”. Did you mean 'digest'?",
            "option": "No such option “--nosuch”.", "extra": "Got unexpected extra arguments (un deux)",
            "error": "Error"}),
])
def test_clicks_own_words_follow_the_terminal_too(lang, words):
    """The usage line, the panels and click's parsing errors speak the terminal's language, like the help texts
    (click's words are English literals: bot.cli.common puts them in the catalogues' words)."""
    other = "en_US.UTF-8" if lang == "fr" else "fr_FR.UTF-8"
    env = {"LANG": "fr_FR.UTF-8" if lang == "fr" else "en_US.UTF-8"}
    said = flat(runner.invoke(app, ["--help"], env=env).output)
    assert said.startswith(flat(words["usage"]) + " ") and f" {words['options']} " in said
    assert f" {words['commands']} " in said and (lang == "en" or "Usage" not in said)
    said = flat(runner.invoke(app, ["db", "--help"], env=env).output)
    assert said.startswith(flat(words["usage"]) + " ")
    for line, key, exit_code in ((["protocol", "test"], "missing", 2), (["nosuch"], "unknown", 2),
                                 (["dige"], "guess", 2), (["digest", "--nosuch"], "option", 2),
                                 (["feed", "status", "un", "deux"], "extra", 2)):
        r = runner.invoke(app, line, env=env)
        said = flat(r.output)
        assert r.exit_code == exit_code and flat(words[key]) in said, (line, said)
        assert said.startswith(flat(words["usage"]) + " ") and f" {words['error']} " in said, (line, said)
    # --lang on the line wins over the locale, for click's words too.
    r = runner.invoke(app, ["--lang", lang, "nosuch"], env={"LANG": other})
    assert flat(words["unknown"]) in flat(r.output)


def test_messages_follow_the_terminal_not_the_protocol(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}  # a French protocol
    for locale, expected in (("en_US.UTF-8", "Database at revision"), ("fr_FR.UTF-8", "Base de données à la révision"),
                             ("C.UTF-8", "Database at revision")):
        r = runner.invoke(app, ["db", "upgrade"], env=env | {"LANG": locale})
        assert r.exit_code == 0 and expected in r.output, (locale, r.output)
    r = runner.invoke(app, ["--lang", "en", "db", "upgrade"], env=env | {"LANG": "fr_FR.UTF-8"})
    assert "Database at revision" in r.output
    r = runner.invoke(app, ["--lang", "de", "db", "current"], env=env | {"LANG": "en_US.UTF-8"})
    assert r.exit_code == 2 and "--lang must be fr or en" in flat(r.output)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_system_errors_stay_out_of_translated_sentences(lang, tmp_path):
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory")
    assert os_reason(missing, lang) == (t("cli.os.missing", lang), None)
    odd = OSError(errno.EIO, "Input/output error")
    words, system = os_reason(odd, lang)
    assert words == t("cli.os.other", lang) and system == "Input/output error"
    # A batch file that is a folder: the reason in the terminal's words, no English inside a French sentence.
    r = runner.invoke(app, ["--lang", lang, "check", "--batch", str(tmp_path)], env={"VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)})
    assert r.exit_code == 2
    said = flat(r.output)
    assert flat(t("cli.os.directory", lang)) in said
    assert "Is a directory" not in said and "Errno" not in said


def test_plain_text_for_the_terminal():
    assert plain_text("*Délais tenus* : _90 %_ — <https://x.example/a?b=1&amp;c|le post> par <@U1> dans "
                      "<#C1|veille> :warning: &lt;b&gt;") == (
        "Délais tenus : 90 % — le post (https://x.example/a?b=1&c) par @U1 dans #veille ⚠️ <b>")
    assert plain_text("<https://x.example>") == "https://x.example"
    assert plain_text("snake_case_word and 2*3*4 stay") == "snake_case_word and 2*3*4 stay"


def test_the_terminal_digest_has_no_mrkdwn(engine, database_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": database_url, "VIGIE_PROTOCOL_FILE": str(TEST_PROTOCOL)}
    r = runner.invoke(app, ["digest", "--date", "2026-11-20", "--lang", "en"], env=env)
    assert r.exit_code == 0, r.output
    assert r.output.strip()
    assert "*" not in r.output and "<http" not in r.output and "<@" not in r.output and "&amp;" not in r.output


def _vigie(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "SLACK_", "DATABASE_URL"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=base | {"PYTHONPATH": str(ROOT)} | env)


def test_migrations_are_quiet_unless_asked(tmp_path):
    env = {"LANG": "en_US.UTF-8"}
    quiet = _vigie("db", "upgrade", cwd=tmp_path, env=env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}"})
    assert quiet.returncode == 0, quiet.stderr
    assert "Running upgrade" not in quiet.stdout + quiet.stderr and "Context impl" not in quiet.stderr
    assert quiet.stdout.startswith("Database at revision")
    loud = _vigie("--verbose", "db", "upgrade", cwd=tmp_path, env=env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}"})
    assert loud.returncode == 0 and "Running upgrade" in loud.stdout + loud.stderr


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_example_protocol_copied_elsewhere(lang, tmp_path):
    """Copied alone, it is refused with a sentence naming the roster it needs and where it was looked for; copied
    with its roster, as its header says, it is valid."""
    from bot.protocol.load import EXAMPLE_PROTOCOL

    copy = tmp_path / "mine.yaml"
    shutil.copy(EXAMPLE_PROTOCOL, copy)
    r = runner.invoke(app, ["--lang", lang, "protocol", "check", str(copy)])
    assert r.exit_code == 1
    said = flat(r.output)
    assert "checks.roster" in said and str(tmp_path / "roster.example.csv") in said
    assert flat(t("protocol.error.roster_missing", lang, path="X")).split("X")[0] in said
    shutil.copy(EXAMPLE_PROTOCOL.parent / "roster.example.csv", tmp_path)
    r = runner.invoke(app, ["--lang", lang, "protocol", "check", str(copy)])
    assert r.exit_code == 0, r.output
    assert "roster.example.csv" in EXAMPLE_PROTOCOL.read_text("utf-8").split("version: 1")[0]  # the header says so
