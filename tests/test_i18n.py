"""Every sentence the bot can say exists in French and in English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.domain.routing import ReasonCode
from bot.domain.workflow import Severity
from bot.i18n import LANGUAGES, catalogue, normalise, t
from tests.typography import NBSP, NNBSP, fr
from tests.typography import NOT_PROSE as _NOT_PROSE

ROOT = Path(__file__).parents[1]


def keys_used_in_code() -> set[str]:
    found: set[str] = set()
    for path in list((ROOT / "bot").rglob("*.py")) + list((ROOT / "handlers").rglob("*.py")):
        found |= set(re.findall(r'\btn?\(\s*"([a-z_]+(?:\.[a-z_]+)+|quote)"', path.read_text()))
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
    assert t("severity.high", "en-GB") == "high" and t("severity.high", "fr") == "haute"


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


# --- One catalogue --------------------------------------------------------------------------------------


def test_the_po_files_are_the_only_catalogue():
    """No JSON (or other) copy of the messages beside the .po files the bot reads: two catalogues drift apart."""
    from bot import i18n

    folder = Path(i18n.__file__).parent
    others = [p.relative_to(folder) for p in folder.rglob("*") if p.is_file()
              and p.suffix not in (".py", ".pyc", ".po") and "__pycache__" not in p.parts]
    assert others == []
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.po")) == [
        "en/LC_MESSAGES/vigie.po", "fr/LC_MESSAGES/vigie.po"]


def test_the_po_files_compile_with_msgfmt(tmp_path):
    """GNU msgfmt --check accepts both files (format, headers, plural forms), when it is installed."""
    import shutil
    import subprocess

    from bot.i18n import po_path

    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    for lang in LANGUAGES:
        done = subprocess.run([msgfmt, "--check", "-o", str(tmp_path / f"{lang}.mo"), str(po_path(lang))],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr


# --- French typography ----------------------------------------------------------------------------------



def typography_problems(text: str) -> list[str]:
    """Where a French string lacks the no-break space before « : ; ! ? » or inside « »: a plain space (Slack
    may wrap the line there) or no space at all."""
    masked = _NOT_PROSE.sub(lambda m: "\0" * len(m.group()), text)
    found = []
    for i, c in enumerate(masked):
        if c in ":;!?»" and i > 0 and masked[i - 1] not in (NBSP, NNBSP):
            found.append(f"{text[max(0, i - 15):i + 5]!r}: no no-break space before {c!r}")
        if c == "«" and (i + 1 == len(masked) or masked[i + 1] not in (NBSP, NNBSP)):
            found.append(f"{text[i:i + 15]!r}: no no-break space after «")
    return found


def all_strings(lang: str) -> dict[str, list[str]]:
    """Every msgstr of the .po file (every form of a plural), by key, read the way the bot reads it."""
    from bot.i18n import catalogue, plurals

    found = {key: [text] for key, text in catalogue(lang).items()}
    for key, forms in plurals(lang).items():
        found[key] = list(forms)
    return found


def test_typography_check_catches_plain_spaces_and_spares_codes():
    assert typography_problems("Source : x") and typography_problems("Pourquoi?") and typography_problems("« a »")
    assert typography_problems("Valider ; ou pas") and typography_problems("Oui !") and typography_problems("Source:x")
    assert not typography_problems(f":warning: *En retard*{NBSP}: à 14:02, voir https://x.example/a?b=1:2")
    assert not typography_problems(f"{{users}}{NBSP}: «{NBSP}{{text}}{NBSP}» `vigie help` <!here> <@U1|a>")
    assert not typography_problems(f"Pourquoi{NNBSP}? Bravo{NNBSP}! a{NNBSP}; b :tada:")
    # tests.typography.fr (the tests' expectations) writes what this check accepts
    for text in ("Source : x", "Pourquoi ? Oui ! a ; b", "« {text} » :warning: à 14:02", "n° 4 : <@U1> ?"):
        assert typography_problems(text) and not typography_problems(fr(text))


def test_every_french_string_has_no_break_spaces_before_double_marks():
    bad = {key: problems for key, texts in all_strings("fr").items()
           for problems in [[p for text in texts for p in typography_problems(text)]] if problems}
    assert bad == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_string_writes_a_plural_in_brackets(lang):
    """« mention(s) », « reply(ies) »: a plural is a gettext plural (bot.i18n.tn), never a bracket."""
    bad = {key: texts for key, texts in all_strings(lang).items()
           if any(re.search(r"(?<!http)\((s|es|ies|x|e|e?s)\)", text) for text in texts)}
    assert bad == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_entries_follow_the_language_rule(lang):
    from bot.i18n import plurals, tn

    assert plurals(lang), "at least one gettext plural entry"
    for key, forms in plurals(lang).items():
        assert len(forms) == 2 and all(forms), key
        assert set(plurals("fr")[key]) and key in plurals("en"), key
        # The singular may leave the number out ("the waiting message"); the plural has every placeholder.
        names = [set(re.findall(r"{(\w+)}", f)) for f in forms]
        assert names[0] <= names[1] == set(re.findall(r"{(\w+)}", plurals("en")[key][1])), key
    # French: 0 and 1 are singular; English: only 1.
    some = next(iter(plurals(lang)))
    params = {name: 0 for name in re.findall(r"{(\w+)}", plurals(lang)[some][0])}
    assert tn(some, 0, lang, **params) == plurals(lang)[some][0 if lang == "fr" else 1].format(**params)
    assert tn(some, 1, lang, **params) == plurals(lang)[some][0].format(**params)
    assert tn(some, 2, lang, **params) == plurals(lang)[some][1].format(**params)
