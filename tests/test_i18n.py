"""Every sentence the bot can say exists in French and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.routing import ReasonCode
from bot.domain.workflow import Severity
from bot.i18n import LANGUAGES, catalogue, normalise, t

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
    from bot.slack.command_parser import message_keys

    assert message_keys() - set(catalogue(lang)) == set()


def keys_built_from_codes() -> set[str]:
    """Catalogue keys that admin-facing errors build from a code: protocol.error.<code>, import.<key>,
    config.reason.<code>. Read from the code's syntax tree, so a new code without its sentence fails below."""
    import ast

    prefixes = {"_error": "protocol.error.", "_issue": "protocol.error.", "fail": "protocol.error.",
                "ImportProblem": "import.", "_invalid": "config.reason."}
    found: set[str] = set()
    sources = [*sorted((ROOT / "bot" / "protocol").glob("*.py")), ROOT / "bot" / "intake" / "files.py",
               ROOT / "bot" / "config.py"]
    for path in sources:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in prefixes:
                prefix = prefixes[node.func.id]  # type: ignore[union-attr]
                codes = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                         and re.fullmatch(r"[a-z_]+(\.[a-z0-9_]+)?", a.value)]
                found |= {prefix + code for code in codes}
                if any(k.arg == "suggestion" for k in node.keywords):
                    found |= {f"{prefix}{code}.suggest" for code in codes}
            # `code = "yaml_tab"` in protocol.py's YAML problems, `_KEYS`, and the keys `_sentence` returns or passes on
            elif path.parent.name == "protocol" and isinstance(node, (ast.Assign, ast.Return, ast.Compare)):
                for const in ast.walk(node):
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) and re.fullmatch(
                            r"(yaml|extra_forbidden|too_short\.|empty|whole_number|section|number|literal_error|"
                            r"greater_than|less_than|string_t|invalid|list_type|bool_type|missing)[a-z_.]*",
                            const.value):
                        found.add("protocol.error." + const.value)
    from bot import config
    found |= {f"config.fix.{info.alias.lower()}" for info in config.Settings.model_fields.values()
              if info.alias and info.alias.startswith("SLACK_") or info.alias in (
                  "DATABASE_URL", "VIGIE_PROTOCOL_FILE", "VIGIE_INTAKE_TOKENS", "VIGIE_PUBLISH_WEBHOOK_SECRET")}
    found |= {f"config.reason.{key}" for key, _ in config._BUILTIN_REASONS.values()} | {"config.reason.invalid"}
    return found


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_admin_error_code_has_its_sentence(lang):
    keys = keys_built_from_codes()
    # The collector does see them: a few of each family.
    assert {"protocol.error.slack_channel", "protocol.error.slack_channel.suggest", "protocol.error.yaml_tab",
            "protocol.error.no_decision_maker_notify", "protocol.error.extra_forbidden.known",
            "import.value.not_date", "import.map.shape", "config.reason.bot_token",
            "config.fix.slack_bot_token", "config.reason.at_least"} <= keys
    assert len(keys) > 100
    assert keys - set(catalogue(lang)) == set()
