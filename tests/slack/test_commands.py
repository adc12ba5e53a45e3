"""The `/vigie` slash command parser and registry (bot/slack/command_parser.py) and its message catalogue."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.i18n import catalogue, t
from bot.slack import command_parser as commands
from bot.slack.command_parser import REGISTRY, Parsed, ParseError, help_lines, parse, resolve

# What the bot reads: the .po catalogues (bot/i18n/{fr,en}/LC_MESSAGES/vigie.po), not a copy.
CATALOGUE = {lang: catalogue(lang) for lang in ("fr", "en")}
USER = "<@U0ABC123|camille>"


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", text))


# --- Every subcommand, both languages -------------------------------------------------------------------

VALID = [
    # (English text, French text, expected command, expected args)
    ("help", "aide", "help", {"topic": None}),
    ("help assign", "aide attribuer", "help", {"topic": "assign"}),
    ("status", "statut", "status", {}),
    ("list", "liste", "list", {}),
    ("mine", "moi", "mine", {}),
    ("show 42", "voir 42", "show", {"mention_id": 42}),
    (f"assign 42 {USER}", f"attribuer 42 {USER}", "assign", {"mention_id": 42, "user": "U0ABC123"}),
    ("escalate 7", "escalader 7", "escalate", {"mention_id": 7, "reason": None}),
    (
        "escalate 7 legal risk, CEO named",
        "escalader 7 legal risk, CEO named",
        "escalate",
        {"mention_id": 7, "reason": "legal risk, CEO named"},
    ),
    ("protocol", "protocole", "protocol", {"category": None}),
    ("protocol finance", "protocole finance", "protocol", {"category": "finance"}),
    ("oncall", "astreinte", "oncall", {"action": "who"}),
    ("oncall who", "astreinte qui", "oncall", {"action": "who"}),
    ("oncall take", "astreinte prendre", "oncall", {"action": "take", "period": "weekend"}),
    ("oncall take weekend", "astreinte prendre weekend", "oncall", {"action": "take", "period": "weekend"}),
    ("oncall take week", "astreinte prendre semaine", "oncall", {"action": "take", "period": "week"}),
    (
        "oncall swap <@U0ABC123>",
        "astreinte échanger <@U0ABC123>",
        "oncall",
        {"action": "swap", "user": "U0ABC123"},
    ),
    ("crisis", "crise", "crisis", {"action": "status"}),
    ("crisis status", "crise statut", "crisis", {"action": "status"}),
    ("crisis declare", "crise déclarer", "crisis", {"action": "declare", "reason": None}),
    (
        "crisis declare data leak",
        "crise déclarer data leak",
        "crisis",
        {"action": "declare", "reason": "data leak"},
    ),
    ("crisis end", "crise fin", "crisis", {"action": "end", "summary": None}),
    ("crisis end all clear", "crise fin all clear", "crisis", {"action": "end", "summary": "all clear"}),
    ("digest", "résumé", "digest", {"period": "day"}),
    ("digest week", "résumé semaine", "digest", {"period": "week"}),
]


@pytest.mark.parametrize(("en", "fr", "command", "args"), VALID, ids=[v[0] for v in VALID])
def test_every_subcommand_in_both_languages(en, fr, command, args):
    assert parse(en) == Parsed(command, args)
    assert parse(fr) == Parsed(command, args)


def test_every_registry_command_and_action_is_covered_above():
    covered = {(command, args.get("action")) for _, _, command, args in VALID}
    expected = {(c.name, None) for c in REGISTRY if not c.actions}
    expected |= {(c.name, a.value) for c in REGISTRY for a in c.actions}
    assert expected <= covered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Parsed("help", {"topic": None})),
        ("   \n\t ", Parsed("help", {"topic": None})),
        ("\u200f\u200b", Parsed("help", {"topic": None})),
        ("ATTRIBUER 42 <@U0ABC123>", Parsed("assign", {"mention_id": 42, "user": "U0ABC123"})),
        ("Assign 42 <@U0ABC123>", Parsed("assign", {"mention_id": 42, "user": "U0ABC123"})),
        ("RÉSUMÉ", Parsed("digest", {"period": "day"})),
        ("resume", Parsed("digest", {"period": "day"})),
        ("Résume", Parsed("digest", {"period": "day"})),
        ("astreinte echanger <@U1>", Parsed("oncall", {"action": "swap", "user": "U1"})),
        ("ASTREINTE ÉCHANGER <@U1>", Parsed("oncall", {"action": "swap", "user": "U1"})),
        ("astreinte PRENDRE Week-End", Parsed("oncall", {"action": "take", "period": "weekend"})),
        ("crise declarer panne", Parsed("crisis", {"action": "declare", "reason": "panne"})),
        ("crise DÉCLARER panne", Parsed("crisis", {"action": "declare", "reason": "panne"})),
        ("Aide Résumé", Parsed("help", {"topic": "digest"})),
        # decomposed accents (e + combining acute) and invisible marks around words
        ("re\u0301sume\u0301", Parsed("digest", {"period": "day"})),
        ("\u200fvoir\u200f 42", Parsed("show", {"mention_id": 42})),
        ("\u202bstatut\u202c", Parsed("status", {})),
    ],
)
def test_names_ignore_case_accents_and_invisible_characters(text, expected):
    assert parse(text) == expected


# --- Arguments ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mention", ["<@U0ABC123>", "<@U0ABC123|camille>", "<@U0ABC123|Camille Dupont>", "<@U0ABC123|>"]
)
def test_escaped_mentions_with_and_without_name(mention):
    assert parse(f"assign 3 {mention}") == Parsed("assign", {"mention_id": 3, "user": "U0ABC123"})


def test_enterprise_user_ids_are_people_too():
    assert parse("assign 3 <@W0ABC123>") == Parsed("assign", {"mention_id": 3, "user": "W0ABC123"})


@pytest.mark.parametrize("written", ["42", "#42", "n°42", "N°42", "nº42", "n° 42", "# 42", "042", "４２"])
def test_id_forms(written):
    assert parse(f"show {written}") == Parsed("show", {"mention_id": 42})


def test_largest_id_is_accepted():
    assert parse(f"show {commands.MAX_ID}") == Parsed("show", {"mention_id": commands.MAX_ID})


def test_reasons_are_kept_as_typed_and_stripped():
    text = "escalader #9   Le PDG est cité <@U0ABC123|camille> dans  <#C123|presse> !  \n"
    assert parse(text) == Parsed(
        "escalate", {"mention_id": 9, "reason": "Le PDG est cité <@U0ABC123|camille> dans  <#C123|presse> !"}
    )
    assert parse("crisis end  Back to normal.\nLessons: many. ") == Parsed(
        "crisis", {"action": "end", "summary": "Back to normal.\nLessons: many."}
    )


def test_a_reason_may_start_with_a_command_word():
    assert parse("escalate 1 help") == Parsed("escalate", {"mention_id": 1, "reason": "help"})


# --- Errors ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "params"),
    [
        ("show", "cmd.error.missing_id", {"command": "show"}),
        ("voir", "cmd.error.missing_id", {"command": "voir"}),
        ("assign", "cmd.error.missing_id", {"command": "assign"}),
        ("escalader", "cmd.error.missing_id", {"command": "escalader"}),
        ("show abc", "cmd.error.bad_id", {"value": "abc"}),
        ("show 0", "cmd.error.bad_id", {"value": "0"}),
        ("show -3", "cmd.error.bad_id", {"value": "-3"}),
        ("show 4.2", "cmd.error.bad_id", {"value": "4.2"}),
        ("show #", "cmd.error.bad_id", {"value": "#"}),
        ("show #x", "cmd.error.bad_id", {"value": "#x"}),
        ("show ٤٢", "cmd.error.bad_id", {"value": "٤٢"}),
        (f"show {2**63}", "cmd.error.bad_id", {"value": str(2**63)}),
        ("assign <@U0ABC123> 42", "cmd.error.bad_id", {"value": "<@U0ABC123>"}),
        ("assign 42", "cmd.error.missing_user", {"command": "assign"}),
        ("attribuer 42", "cmd.error.missing_user", {"command": "attribuer"}),
        ("astreinte échanger", "cmd.error.missing_user", {"command": "astreinte échanger"}),
        ("assign 42 camille", "cmd.error.bad_user", {"command": "assign", "value": "camille"}),
        ("assign 42 @camille", "cmd.error.bad_user", {"command": "assign", "value": "@camille"}),
        (
            "assign 42 <#C123|general>",
            "cmd.error.bad_user",
            {"command": "assign", "value": "<#C123|general>"},
        ),
        ("assign 42 <!here>", "cmd.error.bad_user", {"command": "assign", "value": "<!here>"}),
        ("oncall swap <@C123>", "cmd.error.bad_user", {"command": "oncall swap", "value": "<@C123>"}),
        (f"assign 42 {USER} now", "cmd.error.too_many", {"command": "assign"}),
        ("status now", "cmd.error.too_many", {"command": "status"}),
        ("liste tout", "cmd.error.too_many", {"command": "liste"}),
        ("moi 3", "cmd.error.too_many", {"command": "moi"}),
        ("digest week now", "cmd.error.too_many", {"command": "digest"}),
        ("show 4 5", "cmd.error.too_many", {"command": "show"}),
        ("protocole finance presse", "cmd.error.too_many", {"command": "protocole"}),
        ("help assign show", "cmd.error.too_many", {"command": "help"}),
        ("crisis status now", "cmd.error.too_many", {"command": "crisis status"}),
        ("astreinte qui donc", "cmd.error.too_many", {"command": "astreinte qui"}),
        ("oncall take weekend now", "cmd.error.too_many", {"command": "oncall take"}),
        (
            "oncall give",
            "cmd.error.unknown_action",
            {"command": "oncall", "word": "give", "choices": "who, take, swap"},
        ),
        (
            "astreinte donner",
            "cmd.error.unknown_action",
            {"command": "astreinte", "word": "donner", "choices": "qui, prendre, échanger"},
        ),
        (
            "crise panne",
            "cmd.error.unknown_action",
            {"command": "crise", "word": "panne", "choices": "déclarer, statut, fin"},
        ),
        (
            "oncall take month",
            "cmd.error.bad_choice",
            {"command": "oncall take", "word": "month", "choices": "weekend, week"},
        ),
        (
            "astreinte prendre mois",
            "cmd.error.bad_choice",
            {"command": "astreinte prendre", "word": "mois", "choices": "weekend, semaine"},
        ),
        ("frobnicate", "cmd.error.unknown_no_suggestion", {"word": "frobnicate"}),
        ("aide xyzzy", "cmd.error.unknown_no_suggestion", {"word": "xyzzy"}),
    ],
)
def test_bad_arguments_give_the_right_error(text, key, params):
    assert parse(text) == ParseError(key, params)


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("asign", "assign"),
        ("statu", "status"),
        ("ATRIBUER", "attribuer"),
        ("escalte", "escalate"),
        ("astrainte", "astreinte"),
        ("crisys", "crisis"),
        ("protocl", "protocol"),
        ("resme", "résumé"),
    ],
)
def test_typos_get_the_closest_command_suggested(typo, suggestion):
    assert parse(typo) == ParseError("cmd.error.unknown", {"word": typo, "suggestion": suggestion})
    assert parse(f"help {typo}") == ParseError("cmd.error.unknown", {"word": typo, "suggestion": suggestion})


@pytest.mark.parametrize(("typo", "fr", "en"), [("statu", "statut", "status"), ("list", None, None),
                                                 ("aide statu", "statut", "status"), ("resme", "résumé", "résumé")])
def test_a_tie_is_suggested_in_the_askers_language(typo, fr, en):
    """"statu" is as close to "status" as to "statut": a French speaker is told the French command."""
    for lang, expected in (("fr", fr), ("en", en)):
        result = parse(typo, lang)
        if expected is None:
            assert isinstance(result, Parsed)
        else:
            assert result == ParseError("cmd.error.unknown", {"word": typo.split()[-1], "suggestion": expected})


def test_an_unknown_command_is_answered_with_one_hint_in_the_askers_language():
    """The error sentence has no hint of its own: the answer adds « Tapez /vigie aide » once (it was twice)."""
    for lang, see in (("fr", "/vigie aide"), ("en", "/vigie help")):
        error = parse("statu", lang)
        text = t(error.key, lang, **error.params) + "\n" + t("cmd.see_help", lang)
        assert text.count("/vigie") == 1 and see in text
        assert ("statut" if lang == "fr" else "status") in text


def test_too_long_input_is_refused_before_anything_else():
    assert parse("status " + " " * (commands.MAX_LENGTH - 7)) == Parsed("status", {})
    too_long = "status " + " " * (commands.MAX_LENGTH - 6)
    assert parse(too_long) == ParseError("cmd.error.too_long", {"limit": commands.MAX_LENGTH})


def test_echoed_input_is_shortened():
    error = parse("x" * 500)
    assert isinstance(error, ParseError)
    assert len(error.params["word"]) <= 40 and error.params["word"].endswith("…")


def test_resolve():
    assert resolve("Échanger") is None  # an action, not a command
    assert resolve("ASTREINTE") == "oncall" and resolve("résumé") == "digest" and resolve("nope") is None


# --- Help is generated from the registry ----------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_help_lists_every_command_and_action_in_each_language(lang):
    lines = help_lines(lang)
    first_words = {usage.split()[0] for usage, _ in lines}
    assert first_words == {c.names[lang][0] for c in REGISTRY}
    keys = [key for _, key in lines]
    assert len(keys) == len(set(keys))
    expected = {c.description_key for c in REGISTRY if not c.actions}
    expected |= {a.description_key for c in REGISTRY for a in c.actions}
    assert set(keys) == expected
    for command in REGISTRY:
        for action in command.actions:
            assert any(
                action.names[lang][0] in usage.split()[1]
                for usage, _ in lines
                if usage.startswith(command.names[lang][0] + " ")
            ), action.value


def test_help_usages():
    fr, en = dict(help_lines("fr")), dict(help_lines("en"))
    assert "attribuer ID @personne" in fr and "assign ID @person" in en
    assert "escalader ID [raison...]" in fr and "escalate ID [reason...]" in en
    assert "astreinte prendre [weekend|semaine]" in fr and "oncall take [weekend|week]" in en
    assert "astreinte [qui]" in fr and "crisis [status]" in en
    assert help_lines("de") == help_lines("fr")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_help_usage_parses_once_filled_in(lang):
    """Help cannot drift from the parser: each usage, with its placeholders filled in, is accepted."""
    fill = {"ID": "42", "@personne": USER, "@person": USER}
    for usage, key in help_lines(lang):
        words = [w.strip("[]").split("|")[0] for w in usage.split()]
        words = [fill.get(w, w) for w in words]
        words = ["data leak" if w.endswith("...") else w for w in words]
        words = [
            "finance" if w in ("catégorie", "category") else "assign" if w in ("commande", "command") else w
            for w in words
        ]
        assert isinstance(parse(" ".join(words)), Parsed), (usage, key)


# --- The message catalogue ------------------------------------------------------------------------------


def test_catalogue_has_the_same_keys_and_placeholders_in_both_languages():
    assert set(CATALOGUE) == {"fr", "en"}
    assert set(CATALOGUE["fr"]) == set(CATALOGUE["en"])
    for key, fr in CATALOGUE["fr"].items():
        assert placeholders(fr) == placeholders(CATALOGUE["en"][key]), key
        assert fr.strip() and CATALOGUE["en"][key].strip(), key


def test_catalogue_has_every_key_used_and_nothing_else():
    used = commands.message_keys()
    assert {k for k in used if k.startswith("cmd.desc.")} == set(commands.description_keys())
    assert len(commands.description_keys()) == 15
    for lang in ("fr", "en"):
        assert {k for k in CATALOGUE[lang] if k.startswith(("cmd.error.", "cmd.desc."))} == used


ERROR_SAMPLES = [
    "x" * (commands.MAX_LENGTH + 1),
    "asign",
    "frobnicate",
    "show",
    "show x",
    "assign 1",
    "assign 1 bob",
    "status 1",
    "oncall x",
    "oncall take x",
]


def test_every_error_key_has_a_sample_here():
    assert {parse(text).key for text in ERROR_SAMPLES} == set(commands.ERROR_KEYS)


@pytest.mark.parametrize("text", ERROR_SAMPLES)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_error_params_are_exactly_the_placeholders(text, lang):
    error = parse(text)
    assert isinstance(error, ParseError)
    assert set(error.params) == placeholders(CATALOGUE[lang][error.key])
    CATALOGUE[lang][error.key].format(**error.params)


# --- Fuzzing --------------------------------------------------------------------------------------------

NASTY_CHARS = "\u200f\u200e\u202e\u2066\u200b\ufeff\x00\x1b\r\u0301<>|@#°éßİ٤４\U0001f600 "
NASTY = st.sampled_from(
    [
        "\u200f",
        "\u200e",
        "\u202e",
        "\u2066",
        "\u200b",
        "\ufeff",
        "\x00",
        "\x1b",
        "\r",
        "\u0301",
        "<",
        ">",
        "|",
        "@",
        "#",
        "n°",
        "<@",
        "<@U1",
        "<#C1|x>",
        "é",
        "ß",
        "İ",
        "٤",
        "４",
        "\U0001f600",
        "\ud7ff",
        " ",
    ]
)
WORDS = st.sampled_from(
    [n for c in REGISTRY for lang in ("fr", "en") for n in c.names[lang]]
    + [n for c in REGISTRY for a in c.actions for lang in ("fr", "en") for n in a.names[lang]]
    + ["42", "#7", "n°3", "0", USER, "<@U1>", "weekend", "semaine", "week-end", "-1", "99999999999999999999"]
)
TEXTS = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(NASTY_CHARS), max_size=100),
    st.lists(WORDS | NASTY | st.text(alphabet=string.printable, max_size=5), max_size=12).map(" ".join),
    st.lists(WORDS | NASTY, max_size=12).map("".join),
    st.integers(commands.MAX_LENGTH - 5, commands.MAX_LENGTH + 50).flatmap(
        lambda n: st.sampled_from(["a", " ", "\u200f", "show ", "é"]).map(lambda c: (c * n)[:n])
    ),
)


@settings(max_examples=400)
@given(TEXTS)
def test_parse_never_raises_and_returns_a_result(text):
    result = parse(text)
    assert isinstance(result, Parsed | ParseError)
    if isinstance(result, Parsed):
        assert resolve(result.command) == result.command
        assert len(text) <= commands.MAX_LENGTH
    else:
        for lang in ("fr", "en"):
            message = CATALOGUE[lang][result.key]
            assert set(result.params) == placeholders(message)
            message.format(**result.params)
    assert parse(text) == result  # deterministic


@given(st.sampled_from(VALID), st.sampled_from(["", " ", "\u200f", "\t", "  \n"]), st.booleans())
def test_valid_commands_survive_spacing_and_case(example, pad, upper):
    en, fr, command, args = example
    for text in (en, fr):
        head, _, tail = text.partition(" ")
        text = f"{pad}{head.upper() if upper else head} {tail}{pad}"
        assert parse(text) == Parsed(command, args)
