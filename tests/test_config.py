"""A missing or wrong setting is one sentence, in French or English, naming the setting and how to fix it."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from tests.typography import fr as typo


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL",
                 "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS", "VIGIE_CHANNEL_INTERVAL", "VIGIE_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)


def test_a_wrong_setting_in_both_languages(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-a-user-token")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.name == "SLACK_BOT_TOKEN"
    assert str(caught.value) == caught.value.message("fr") == typo(
        "SLACK_BOT_TOKEN est incorrect (doit commencer par xoxb-) : donnez-lui le Bot User OAuth Token de "
        "l'application (xoxb-...), sur la page « OAuth & Permissions » de l'application Slack.")
    assert caught.value.message("en") == (
        "SLACK_BOT_TOKEN is wrong (must start with xoxb-): set it to the app's Bot User OAuth Token (xoxb-...), "
        "from the Slack app's 'OAuth & Permissions' page.")


@pytest.mark.parametrize(
    ("name", "value", "fr", "en"),
    [
        ("VIGIE_INTAKE_TOKENS", "short", ("VIGIE_INTAKE_TOKENS est incorrect (chaque jeton doit compter au moins 16 "
         "caractères)"), "VIGIE_INTAKE_TOKENS is wrong (each token must be at least 16 characters)"),
        ("VIGIE_CHANNEL_INTERVAL", "-1", ("VIGIE_CHANNEL_INTERVAL est incorrect (doit valoir au moins 0.0) : "
         "vérifiez sa valeur."), "VIGIE_CHANNEL_INTERVAL is wrong (must be at least 0.0): check its value."),
        ("VIGIE_LOG_LEVEL", "LOUD", ("VIGIE_LOG_LEVEL est incorrect (doit être l'une de ces valeurs : 'DEBUG', "
         "'INFO', 'WARNING', 'ERROR')"), ("VIGIE_LOG_LEVEL is wrong (must be one of 'DEBUG', 'INFO', 'WARNING', "
         "'ERROR')")),
    ],
)
def test_settings_pydantic_checks_are_told_too(monkeypatch, name, value, fr, en):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.message("fr").startswith(typo(fr)) and caught.value.message("en").startswith(en)


def test_a_missing_setting_in_both_languages():
    settings = load_settings()
    with pytest.raises(ConfigError) as caught:
        settings.require("SLACK_SIGNING_SECRET")
    assert caught.value.message("fr") == typo(
        "SLACK_SIGNING_SECRET n'est pas défini : donnez-lui le Signing Secret de la page « Basic Information » "
        "de l'application Slack (nécessaire à `vigie serve`, mode HTTP).")
    assert caught.value.message("en") == (
        "SLACK_SIGNING_SECRET is not set: set it to the Signing Secret from the Slack app's 'Basic Information' "
        "page (needed by `vigie serve`, HTTP mode).")


def test_env_example_lists_every_setting_and_loads_as_the_defaults(tmp_path, monkeypatch):
    """.env.example names every setting Vigie reads (and nothing else); copied as is to .env, it starts with
    the defaults instead of failing on its empty values."""
    import re
    from pathlib import Path

    from bot.config import Settings

    root = Path(__file__).parents[1]
    example = (root / ".env.example").read_text("utf-8")
    listed = set(re.findall(r"^([A-Z_]+)=", example, re.M))
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert listed == aliases, (sorted(aliases - listed), sorted(listed - aliases))
    for name in aliases:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(example, "utf-8")
    monkeypatch.chdir(tmp_path)
    assert load_settings() == Settings(_env_file=None)
