"""`vigie feed check URL [--json]`: the mentions a feed would give now, with their warnings (issue 14, item 5)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import TEST_PROTOCOL
from tests.intake.test_feeds2 import INDEX, Served, expected, served  # noqa: F401 - the fixture is used by name

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)  # no stray .env
    protocol = tmp_path / "protocol.yaml"
    protocol.write_bytes(TEST_PROTOCOL.read_bytes())
    (tmp_path / "roster.csv").write_bytes((TEST_PROTOCOL.parent / "roster.csv").read_bytes())
    return {"VIGIE_PROTOCOL_FILE": str(protocol)}


def feed(stem: str) -> dict[str, str]:
    return next(f for f in INDEX if f["file"].startswith(stem + "."))


def test_json_gives_one_line_per_mention_with_its_warnings(served: Served, env: dict[str, str]) -> None:
    dates = feed("french_dates")
    result = runner.invoke(app, ["feed", "check", served.origin + dates["path"], "--json", "--source",
                                 dates["source"], "--timezone", "Europe/Paris"], env=env)

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    # The warnings in the protocol's language (French here); the fixture has them in English.
    french = [line.pop("warnings", None) for line in lines]
    english = [line.pop("warnings", None) for line in expected(dates, served.origin)]
    assert lines == [{k: v for k, v in line.items() if k != "warnings"} for line in expected(dates, served.origin)]
    assert [bool(w) for w in french] == [bool(w) for w in english] == [False] * 4 + [True]
    assert lines[-1]["published_at"] is None
    assert french[-1] == ["date illisible «\u00a0bientôt\u00a0»\u00a0: date de publication inconnue (la mention est enregistrée "
                          "sans date, à l'heure de son arrivée)"]


def test_the_zone_of_dates_without_one_is_the_option_or_the_protocols(served: Served, env: dict[str, str]) -> None:
    url = served.origin + feed("french_dates")["path"]
    in_new_york = runner.invoke(app, ["feed", "check", url, "--json", "--timezone", "America/New_York"], env=env)
    # "21/11/2026 09:30" has no zone: 14:30 UTC in New York, 08:30 UTC in Paris (the test protocol's zone)
    assert json.loads(in_new_york.stdout.splitlines()[1])["published_at"] == "2026-11-21T14:30:00+00:00"
    default = runner.invoke(app, ["feed", "check", url, "--json"], env=env)
    second = json.loads(default.stdout.splitlines()[1])
    assert second["published_at"] == "2026-11-21T08:30:00+00:00"
    assert second["source"] == "127.0.0.1"  # not a feed of the protocol, no --source: the host


def test_human_output_names_unknown_dates_and_counts(served: Served, env: dict[str, str]) -> None:
    result = runner.invoke(app, ["feed", "check", served.origin + feed("french_dates")["path"]], env=env)
    assert result.exit_code == 0, result.output
    assert "date inconnue  https://conso-malin.example/2026/11/acme-sav" in result.stdout
    assert "attention\u00a0: date illisible «\u00a0bientôt\u00a0»\u00a0: date de publication inconnue" in result.stdout
    assert "5 mentions\u00a0: ce que ce flux donnerait maintenant" in result.stdout


def test_an_empty_feed_is_healthy(served: Served, env: dict[str, str]) -> None:
    url = served.origin + feed("empty_alert")["path"]
    assert runner.invoke(app, ["feed", "check", url, "--json"], env=env).stdout == ""
    human = runner.invoke(app, ["feed", "check", url], env=env)
    assert human.exit_code == 0 and "Flux valide, sans entrée" in human.stdout


def test_an_unreadable_feed_or_a_bad_zone_is_an_error(served: Served, env: dict[str, str]) -> None:
    missing = runner.invoke(app, ["feed", "check", served.origin + "/nothing-here.rss", "--json"], env=env)
    assert missing.exit_code == 1
    assert "impossible de lire le flux" in missing.stderr and "HTTP 404" in missing.stderr
    bad_zone = runner.invoke(app, ["feed", "check", served.origin + "/flux/dates.rss", "--timezone", "Mars/Olympus"],
                             env=env)
    assert bad_zone.exit_code == 2 and "Mars/Olympus" in bad_zone.stderr
