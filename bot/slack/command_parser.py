"""The `/vigie` slash command: a pure parser and the registry it is generated from.

Slack sends the text typed after `/vigie` as one string, e.g. ``"attribuer 42 <@U0ABC123|camille>"``. `parse`
turns it into a `Parsed` (canonical command name and arguments) or a `ParseError` (a message key from
the .po catalogues, bot/i18n/*/LC_MESSAGES/vigie.po, and its placeholders). No I/O: the handler decides what to do and what to say.

Every command and action has an English and a French name; names match ignoring case, accents and
invisible characters. `help_lines` is generated from the same `REGISTRY`, so help cannot drift from the parser.

Arguments produced (always the same keys for a command; an optional argument not given is None, except
`period`, which defaults to "weekend"):

    help      {"topic": str | None}              topic: canonical name of a command ("aide attribuer")
    status, list, mine, digest   {}
    show      {"mention_id": int}
    assign    {"mention_id": int, "user": str}   user: Slack user ID, e.g. "U0ABC123"
    escalate  {"mention_id": int, "reason": str | None}
    protocol  {"category": str | None}
    oncall    {"action": "who"}                  (the default when no action is given)
              {"action": "take", "period": "weekend" | "week"}   "weekend" when not given
              {"action": "swap", "user": str}
    crisis    {"action": "status"}               (the default when no action is given)
              {"action": "declare", "reason": str | None}
              {"action": "end", "summary": str | None}
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from bot.slack.ids import USER_MENTION

__all__ = [
    "ERROR_KEYS",
    "LANGUAGES",
    "MAX_ID",
    "MAX_LENGTH",
    "REGISTRY",
    "Action",
    "Arg",
    "Choice",
    "ParseError",
    "Parsed",
    "Subcommand",
    "description_keys",
    "help_lines",
    "message_keys",
    "parse",
    "resolve",
]

LANGUAGES = ("fr", "en")
MAX_LENGTH = 2000  # characters of command text; longer input is refused before anything else
MAX_ID = 2**31 - 1  # largest mention ID (a 32-bit INTEGER column on PostgreSQL)
_SHOWN = 40  # longest piece of user input echoed back in an error message

# Error message keys (texts in the .po catalogues).
TOO_LONG = "cmd.error.too_long"  # {limit}
UNKNOWN = "cmd.error.unknown"  # {word, suggestion}
UNKNOWN_NO_SUGGESTION = "cmd.error.unknown_no_suggestion"  # {word}
MISSING_ID = "cmd.error.missing_id"  # {command}
BAD_ID = "cmd.error.bad_id"  # {value}
MISSING_USER = "cmd.error.missing_user"  # {command}
BAD_USER = "cmd.error.bad_user"  # {command, value}
TOO_MANY = "cmd.error.too_many"  # {command}
UNKNOWN_ACTION = "cmd.error.unknown_action"  # {command, word, choices}
BAD_CHOICE = "cmd.error.bad_choice"  # {command, word, choices}
ERROR_KEYS = (
    TOO_LONG,
    UNKNOWN,
    UNKNOWN_NO_SUGGESTION,
    MISSING_ID,
    BAD_ID,
    MISSING_USER,
    BAD_USER,
    TOO_MANY,
    UNKNOWN_ACTION,
    BAD_CHOICE,
)


@dataclass(frozen=True, slots=True)
class Parsed:
    command: str  # canonical (English) name, e.g. "assign"
    args: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParseError:
    key: str  # message key, e.g. "cmd.error.unknown"
    params: dict[str, object] = field(default_factory=dict)


# --- Registry --------------------------------------------------------------------------------------------

Names = dict[str, tuple[str, ...]]  # language -> names; the first one is shown in help and messages


def _names(en: str | tuple[str, ...], fr: str | tuple[str, ...]) -> Names:
    return {"en": (en,) if isinstance(en, str) else en, "fr": (fr,) if isinstance(fr, str) else fr}


@dataclass(frozen=True)
class Choice:
    value: str
    names: Names


ArgKind = Literal["id", "user", "word", "choice", "rest", "command"]


@dataclass(frozen=True)
class Arg:
    name: str  # key in Parsed.args
    kind: ArgKind  # id: "42", "#42", "n°42"; user: <@U123|name>; word: one token as typed (invisible
    # characters removed); choice: one of `choices`; rest: the rest of the text as typed; command: a command name
    label: dict[str, str]  # placeholder shown in help, per language
    required: bool = True
    choices: tuple[Choice, ...] = ()
    default: str | None = None  # value when an optional argument is not given


@dataclass(frozen=True)
class Action:
    value: str  # canonical, e.g. "take"
    names: Names
    description_key: str
    args: tuple[Arg, ...] = ()


@dataclass(frozen=True)
class Subcommand:
    name: str  # canonical, e.g. "assign"
    names: Names
    description_key: str = ""  # for commands without actions (each action has its own)
    args: tuple[Arg, ...] = ()
    actions: tuple[Action, ...] = ()  # when set, the first word after the command picks one
    default_action: str | None = None  # the action when none is typed


_ID = Arg("mention_id", "id", {"en": "ID", "fr": "ID"})
_USER = Arg("user", "user", {"en": "@person", "fr": "@personne"})


_WEEK = Choice("week", _names("week", "semaine"))


def _period(*choices: Choice, default: str) -> Arg:
    """An optional period word (on-call "take", digest)."""
    return Arg("period", "choice", {"en": "period", "fr": "période"}, required=False, choices=choices,
               default=default)


def _reason(required: bool = False) -> Arg:
    return Arg("reason", "rest", {"en": "reason...", "fr": "raison..."}, required=required)


REGISTRY: tuple[Subcommand, ...] = (
    Subcommand(
        "help",
        _names("help", "aide"),
        "cmd.desc.help",
        (Arg("topic", "command", {"en": "command", "fr": "commande"}, required=False),),
    ),
    Subcommand("status", _names("status", "statut"), "cmd.desc.status"),
    Subcommand("list", _names("list", "liste"), "cmd.desc.list"),
    Subcommand("mine", _names("mine", "moi"), "cmd.desc.mine"),
    Subcommand("show", _names("show", "voir"), "cmd.desc.show", (_ID,)),
    Subcommand("assign", _names("assign", "attribuer"), "cmd.desc.assign", (_ID, _USER)),
    Subcommand("escalate", _names("escalate", "escalader"), "cmd.desc.escalate", (_ID, _reason())),
    Subcommand(
        "protocol",
        _names("protocol", "protocole"),
        "cmd.desc.protocol",
        (Arg("category", "word", {"en": "category", "fr": "catégorie"}, required=False),),
    ),
    Subcommand(
        "oncall",
        _names("oncall", "astreinte"),
        actions=(
            Action("who", _names("who", "qui"), "cmd.desc.oncall.who"),
            Action(
                "take",
                _names("take", "prendre"),
                "cmd.desc.oncall.take",
                (_period(Choice("weekend", _names("weekend", ("weekend", "week-end"))), _WEEK, default="weekend"),),
            ),
            Action("swap", _names("swap", "échanger"), "cmd.desc.oncall.swap", (_USER,)),
        ),
        default_action="who",
    ),
    Subcommand(
        "crisis",
        _names("crisis", "crise"),
        actions=(
            Action("declare", _names("declare", "déclarer"), "cmd.desc.crisis.declare", (_reason(),)),
            Action("status", _names("status", "statut"), "cmd.desc.crisis.status"),
            Action(
                "end",
                _names("end", "fin"),
                "cmd.desc.crisis.end",
                (Arg("summary", "rest", {"en": "summary...", "fr": "bilan..."}, required=False),),
            ),
        ),
        default_action="status",
    ),
    Subcommand(
        "digest",
        _names("digest", "résumé"),
        "cmd.desc.digest",
        (_period(Choice("day", _names(("day", "yesterday"), ("jour", "hier"))), _WEEK, default="day"),),
    ),
)


def description_keys() -> list[str]:
    """Every description key of the registry (commands and actions), in help order."""
    return [key for _, key in help_lines("en")]


def message_keys() -> set[str]:
    """Every message key this module can produce: errors and descriptions."""
    return set(ERROR_KEYS) | set(description_keys())


# --- Matching --------------------------------------------------------------------------------------------


def _strip_invisible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _fold(text: str) -> str:
    """Case-, accent- and invisible-character-insensitive form of a name."""
    decomposed = unicodedata.normalize("NFKD", _strip_invisible(text))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _index(items: Iterator[tuple[object, Names]]) -> dict[str, tuple[object, str]]:
    """Folded name -> (item, language of that name). English first, so a name shared by both is English."""
    index: dict[str, tuple[object, str]] = {}
    for item, names in items:
        for lang in ("en", "fr"):
            for name in names[lang]:
                index.setdefault(_fold(name), (item, lang))
    return index


_COMMANDS = _index((c, c.names) for c in REGISTRY)
_BY_NAME = {c.name: c for c in REGISTRY}
# Suggestion candidates, by the asker's language: their language's names first, so that a tie ("statu" is as
# close to "status" as to "statut") suggests the name in the language they speak. Unknown language: English first.
_CANDIDATES = {
    lang: [name for name, (_, of) in _COMMANDS.items() if of == lang]
    + [name for name, (_, of) in _COMMANDS.items() if of != lang]
    for lang in LANGUAGES
}


def resolve(word: str) -> str | None:
    """Canonical name of the command called `word` in either language (any case or accents), else None."""
    found = _COMMANDS.get(_fold(word))
    return found[0].name if found else None  # type: ignore[attr-defined]


def _suggest(word: str, lang: str | None = None) -> str | None:
    folded = _fold(word)[:100]
    best, best_score = None, 0.6
    for candidate in _CANDIDATES.get(lang or "en", _CANDIDATES["en"]):
        score = difflib.SequenceMatcher(None, folded, candidate).ratio()
        if score > best_score:  # strictly better: ties keep the earlier (canonical) name
            best, best_score = candidate, score
    if best is None:
        return None
    command, lang = _COMMANDS[best]
    return command.names[lang][0]  # type: ignore[attr-defined]


def _trim(text: str) -> str:
    """Strip spaces and invisible characters at both ends; keep the inside as typed."""
    start, end = 0, len(text)
    while start < end and (text[start].isspace() or unicodedata.category(text[start]) == "Cf"):
        start += 1
    while end > start and (text[end - 1].isspace() or unicodedata.category(text[end - 1]) == "Cf"):
        end -= 1
    return text[start:end]


def _shown(text: str) -> str:
    text = _strip_invisible(text)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


# --- Parsing ---------------------------------------------------------------------------------------------

# An escaped Slack entity (<@U1|name with spaces>) is one token; otherwise tokens are separated by spaces.
_TOKEN = re.compile(r"<[@#!][^<>]*>|\S+")
_ID_RE = re.compile(r"(?:#|n[°o]\.?)?([0-9]+)")
_ID_PREFIXES = {"#", "n°", "no", "no."}


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int


def _unknown(word: str, lang: str | None = None) -> ParseError:
    suggestion = _suggest(word, lang)
    if suggestion is None:
        return ParseError(UNKNOWN_NO_SUGGESTION, {"word": _shown(word)})
    return ParseError(UNKNOWN, {"word": _shown(word), "suggestion": suggestion})


def _id_form(token: str) -> str:
    return unicodedata.normalize("NFKC", _strip_invisible(token)).casefold()


def parse(text: str, lang: str | None = None) -> Parsed | ParseError:
    """Parse the text typed after `/vigie`. Never raises; an empty text asks for help.

    `lang` ("fr" or "en") is the asker's language: an unknown word is answered with the closest command name in
    that language first ("statu" -> "statut" for a French speaker). Names of both languages are always accepted."""
    if text is None:
        text = ""
    if len(text) > MAX_LENGTH:
        return ParseError(TOO_LONG, {"limit": MAX_LENGTH})
    tokens = [_Token(m.group(), m.start()) for m in _TOKEN.finditer(text)]
    tokens = [tok for tok in tokens if _fold(tok.text)]  # a lone invisible mark is not a word
    if not tokens:
        return Parsed("help", {"topic": None})
    found = _COMMANDS.get(_fold(tokens[0].text))
    if found is None:
        return _unknown(tokens[0].text, lang)
    asker = lang if lang in LANGUAGES else None
    command, lang = found
    assert isinstance(command, Subcommand)
    shown_name = command.names[lang][0]
    args: dict[str, object] = {}
    specs = command.args
    rest = tokens[1:]
    if command.actions:
        actions = _index((a, a.names) for a in command.actions)
        if rest:
            hit = actions.get(_fold(rest[0].text))
            if hit is None:
                choices = ", ".join(a.names[lang][0] for a in command.actions)
                return ParseError(
                    UNKNOWN_ACTION, {"command": shown_name, "word": _shown(rest[0].text), "choices": choices}
                )
            action = hit[0]
            assert isinstance(action, Action)
            shown_name = f"{shown_name} {action.names[lang][0]}"
            rest = rest[1:]
        else:
            action = next(a for a in command.actions if a.value == command.default_action)
        args["action"] = action.value
        specs = action.args
    return _consume(command.name, shown_name, lang, specs, rest, text, args, asker=asker)


def _consume(
    canonical: str,
    shown_name: str,
    lang: str,
    specs: tuple[Arg, ...],
    tokens: list[_Token],
    text: str,
    args: dict[str, object],
    asker: str | None = None,
) -> Parsed | ParseError:
    i = 0
    for spec in specs:
        if i >= len(tokens):
            if spec.required:
                return ParseError(MISSING_ID if spec.kind == "id" else MISSING_USER, {"command": shown_name})
            args[spec.name] = spec.default
            continue
        token = tokens[i].text
        i += 1
        if spec.kind == "id":
            form = _id_form(token)
            if form in _ID_PREFIXES and i < len(tokens):  # "n° 42", "# 42"
                form += _id_form(tokens[i].text)
                token = f"{token} {tokens[i].text}"
                i += 1
            match = _ID_RE.fullmatch(form)
            digits = match.group(1).lstrip("0") if match else ""
            if not digits or len(digits) > 19 or int(digits) > MAX_ID:
                return ParseError(BAD_ID, {"value": _shown(token)})
            args[spec.name] = int(digits)
        elif spec.kind == "user":
            match = USER_MENTION.fullmatch(_strip_invisible(token))
            if match is None:
                return ParseError(BAD_USER, {"command": shown_name, "value": _shown(token)})
            args[spec.name] = match.group(1)
        elif spec.kind == "choice":
            hit = _index((c, c.names) for c in spec.choices).get(_fold(token))
            if hit is None:
                choices = ", ".join(c.names[lang][0] for c in spec.choices)
                return ParseError(
                    BAD_CHOICE, {"command": shown_name, "word": _shown(token), "choices": choices}
                )
            args[spec.name] = hit[0].value  # type: ignore[attr-defined]
        elif spec.kind == "command":
            topic = resolve(token)
            if topic is None:
                return _unknown(token, asker or lang)
            args[spec.name] = topic
        elif spec.kind == "rest":
            args[spec.name] = _trim(text[tokens[i - 1].start :])
            i = len(tokens)
        else:  # word
            args[spec.name] = _strip_invisible(token)
    if i < len(tokens):
        return ParseError(TOO_MANY, {"command": shown_name})
    return Parsed(canonical, args)


# --- Help ------------------------------------------------------------------------------------------------


def _usage(spec: Arg, lang: str) -> str:
    if spec.kind == "choice":
        label = "|".join(c.names[lang][0] for c in spec.choices)
    else:
        label = spec.label[lang]
    return label if spec.required else f"[{label}]"


def help_lines(lang: str) -> list[tuple[str, str]]:
    """(usage, description key) for every command and action, in `lang` ("fr" or "en"; else French).

    E.g. ("attribuer ID @personne", "cmd.desc.assign"), ("astreinte [qui]", "cmd.desc.oncall.who").
    """
    lang = lang if lang in LANGUAGES else "fr"
    lines: list[tuple[str, str]] = []
    for command in REGISTRY:
        name = command.names[lang][0]
        if not command.actions:
            lines.append(
                (" ".join([name, *(_usage(a, lang) for a in command.args)]), command.description_key)
            )
            continue
        for action in command.actions:
            word = action.names[lang][0]
            if action.value == command.default_action:
                word = f"[{word}]"
            usage = " ".join([name, word, *(_usage(a, lang) for a in action.args)])
            lines.append((usage, action.description_key))
    return lines


def _check_registry() -> None:
    """Names must be unambiguous once case and accents are ignored (checked at import)."""

    def clash(groups: list[Names]) -> None:
        seen: dict[str, int] = {}
        for n, names in enumerate(groups):
            for name in {_fold(x) for lang in LANGUAGES for x in names[lang]}:
                if seen.setdefault(name, n) != n:
                    raise ValueError(f"/vigie name {name!r} is used twice")

    clash([c.names for c in REGISTRY])
    for command in REGISTRY:
        clash([a.names for a in command.actions])
        assert command.default_action is None or command.default_action in {a.value for a in command.actions}
        for spec in command.args + tuple(a for act in command.actions for a in act.args):
            clash([c.names for c in spec.choices])
            assert not spec.required or spec.kind in ("id", "user"), "only an ID or a person can be required"
            assert spec.default is None or spec.default in {c.value for c in spec.choices}
    assert len(_BY_NAME) == len(REGISTRY)


_check_registry()
