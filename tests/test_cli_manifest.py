"""`vigie manifest`: the manifest shipped as package data, printed in the chosen language, valid against Slack's
manifest schema in Socket Mode and in HTTP mode (with the three Request URLs Slack needs)."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app
from bot.slack.ids import Command, Shortcut
from tests import slackspec

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def printed(*args: str) -> tuple[str, dict]:
    r = runner.invoke(app, ["manifest", *args])
    assert r.exit_code == 0, r.output
    return r.output, yaml.safe_load(r.output)


def test_the_manifest_is_package_data_and_the_same_as_the_repositorys():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["package-data"]
    assert "manifest.yaml" in package_data["bot"]
    shipped = (files("bot") / "manifest.yaml").read_text(encoding="utf-8")
    assert shipped == (ROOT / "manifest.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_http_mode_fills_the_three_request_urls_and_validates(lang):
    slackspec.require_spec()
    text, manifest = printed("--http", "https://vigie.example.com/", "--lang", lang)
    url = "https://vigie.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [url]
    assert slackspec.validate_manifest(manifest) == []
    # The same shortcuts, command and events as the shipped file: only words and URLs change.
    assert {s["callback_id"] for s in manifest["features"]["shortcuts"]} == {s.value for s in Shortcut}
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == {c.value for c in Command}
    names = {s["callback_id"]: s["name"] for s in manifest["features"]["shortcuts"]}
    assert names == {"fr": {"flag_message": "Signaler comme mention", "use_as_draft": "Utiliser comme brouillon"},
                     "en": {"flag_message": "Flag as a mention", "use_as_draft": "Use as a draft"}}[lang]
    command = manifest["features"]["slash_commands"][0]
    assert command["usage_hint"].startswith({"fr": "aide | statut", "en": "help | status"}[lang])
    assert text.startswith("# ")  # a comment saying what it is, still valid YAML


def test_socket_mode_by_default_in_the_terminals_language(monkeypatch):
    slackspec.require_spec()
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    _, manifest = printed()
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["interactivity"]
    assert "request_url" not in manifest["settings"].get("event_subscriptions", {})
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert manifest["features"]["shortcuts"][0]["name"] == "Flag as a mention"
    assert slackspec.validate_manifest(manifest) == []
    # A path already ending in /slack/events is kept as it is.
    _, manifest = printed("--http", "https://example.org/vigie/slack/events")
    assert manifest["settings"]["interactivity"]["request_url"] == "https://example.org/vigie/slack/events"


def test_a_url_that_is_not_https_is_refused_with_a_sentence():
    r = runner.invoke(app, ["manifest", "--http", "vigie.example.com", "--lang", "en"])
    assert r.exit_code == 2
    assert "--http takes the public https address of vigie serve" in r.output
