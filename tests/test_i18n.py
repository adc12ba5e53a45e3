"""Every sentence the bot can say exists in French and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.routing import ReasonCode
from bot.i18n import LANGUAGES, catalogue, normalise, t
from bot.models import Severity

ROOT = Path(__file__).parents[1]


def keys_used_in_code() -> set[str]:
    found: set[str] = set()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "handlers").rglob("*.py")):
        found |= set(re.findall(r'\bt\(\s*"([a-z_]+(?:\.[a-z_]+)+|quote)"', path.read_text()))
    return found


def test_both_catalogues_have_the_same_keys():
    assert set(catalogue("fr")) == set(catalogue("en"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_key_the_code_uses_is_translated(lang):
    used = keys_used_in_code()
    used |= {f"reason.{code.value}" for code in ReasonCode}
    used |= {f"severity.{s.value}" for s in Severity}
    assert len(used) > 20
    assert used - set(catalogue(lang)) == set()


def test_placeholders_match_between_languages():
    for key, fr in catalogue("fr").items():
        assert set(re.findall(r"{(\w+)}", fr)) == set(re.findall(r"{(\w+)}", catalogue("en")[key])), key


def test_locales_and_fallbacks():
    assert normalise("en-US") == "en" and normalise("fr_FR") == "fr" and normalise("de-DE") == "fr"
    assert t("severity.high", "en-GB") == "High" and t("severity.high", "fr") == "Haute"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_command_message_is_in_the_catalogues(lang):
    from bot.commands import message_keys

    assert message_keys() - set(catalogue(lang)) == set()
