"""`vigie --version` prints the installed version, the same one as pyproject.toml's."""

from __future__ import annotations

import tomllib
from pathlib import Path

from typer.testing import CliRunner

from bot import __version__
from bot.cli import app


def test_version_is_printed_and_matches_the_package() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"vigie {__version__}"
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == __version__


def test_commands_still_run_behind_the_root_callback() -> None:
    assert CliRunner().invoke(app, ["protocol", "--help"]).exit_code == 0
    # No arguments: the help, as before (its usage line in the tests' terminal language: French, tests/conftest.py).
    assert "Utilisation\u00a0:" in CliRunner().invoke(app, []).output
