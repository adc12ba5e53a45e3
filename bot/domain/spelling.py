"""Spelling for French and English drafts, offline, with positions so the draft card can point at errors.

Two backends, chosen once at start-up (see DESIGN.md, "Offline language tools, measured here"):

- "enchant/hunspell": pyenchant over Debian's `libenchant-2-2` + `hunspell-fr` + `hunspell-en-us`. Measured
  best: no false alarm on conjugations and elisions, about 30 µs a check, but about 80 ms a suggestion.
  Debian's enchant prefers aspell for English, so we ask for hunspell by name and check we got it.
- "pyspellchecker": pip-only fallback (its fr/en word lists ship in the wheel). Its French list lacks many
  valid forms ("N'hésitez", "recontactera", "joignables"), so `_PyspellBackend` adds elision splitting,
  hyphen splitting, a few morphology heuristics and a small allow-list, enough for clean French to pass.

Nothing is downloaded at run time; loading the dictionaries (once) is the only I/O.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import NamedTuple, Protocol

__all__ = [
    "CachedSuggestions",
    "EnchantSpellChecker",
    "Misspelling",
    "PySpellChecker",
    "SpellChecker",
    "SpellingUnavailable",
    "get_spellchecker",
    "misspellings",
]

LANGUAGES = ("fr", "en")


class SpellChecker(Protocol):
    name: str

    def check(self, word: str, lang: str) -> bool: ...

    def suggest(self, word: str, lang: str, limit: int = 5) -> list[str]: ...


class SpellingUnavailable(RuntimeError):
    """The enchant/hunspell backend cannot be built here (library or dictionaries missing)."""


class Misspelling(NamedTuple):
    start: int
    end: int
    word: str
    suggestions: tuple[str, ...]


def _unsupported(lang: str) -> ValueError:
    return ValueError(f"no spelling dictionary for language {lang!r} (supported: {', '.join(LANGUAGES)})")


# --- enchant / hunspell --------------------------------------------------------------------------------------

# Tags tried in order for each language; the first one hunspell has wins.
_ENCHANT_TAGS = {"fr": ("fr_FR", "fr"), "en": ("en_US", "en_GB", "en")}
# Also accepted when present: British spellings ("apologise", "labour") are as right as American ones.
_ENCHANT_ALSO = {"en": ("en_GB",)}


class EnchantSpellChecker:
    name = "enchant/hunspell"

    def __init__(self) -> None:
        try:
            # ImportError when pyenchant or the C library is missing; pyenchant also asserts on a bad
            # PYENCHANT_LIBRARY_PATH. Any failure here just means "use the fallback".
            import enchant
        except Exception as exc:
            raise SpellingUnavailable(f"pyenchant/libenchant not available: {exc}") from exc
        broker = enchant.Broker()
        self._dicts = {}
        for lang, tags in _ENCHANT_TAGS.items():
            for tag in tags:
                # Debian's enchant.ordering puts aspell first for English; only hunspell was measured.
                broker.set_ordering(tag, "hunspell")
                if broker.dict_exists(tag):
                    dictionary = broker.request_dict(tag)
                    if dictionary.provider.name == "hunspell":
                        self._dicts[lang] = dictionary
                        break
            else:
                raise SpellingUnavailable(f"no hunspell dictionary for {lang!r} (tried {', '.join(tags)})")
        self._also = {}
        for lang, tags in _ENCHANT_ALSO.items():
            for tag in tags:
                broker.set_ordering(tag, "hunspell")
                if tag != self._dicts[lang].tag and broker.dict_exists(tag):
                    extra = broker.request_dict(tag)
                    if extra.provider.name == "hunspell":
                        self._also.setdefault(lang, []).append(extra)
        self._broker = broker  # dictionaries are only valid while their broker lives
        # Hunspell objects are not documented as thread-safe; checks are µs, so one lock costs nothing.
        self._lock = threading.Lock()

    def _dict(self, lang: str):
        try:
            return self._dicts[lang]
        except KeyError:
            raise _unsupported(lang) from None

    def check(self, word: str, lang: str) -> bool:
        dictionary = self._dict(lang)
        with self._lock:
            return bool(dictionary.check(word)) or any(d.check(word) for d in self._also.get(lang, ()))

    def suggest(self, word: str, lang: str, limit: int = 5) -> list[str]:
        dictionary = self._dict(lang)
        with self._lock:
            return list(dictionary.suggest(word))[:limit]


# --- pyspellchecker fallback ---------------------------------------------------------------------------------

# Elided articles and pronouns: "l'équipe", "N'hésitez", "qu'un", "jusqu'à". The word after it is checked.
_ELISION = re.compile(r"^(?P<prefix>(?:jusqu|lorsqu|puisqu|quoiqu|qu|[ldnjscmt])')(?P<rest>.+)$", re.IGNORECASE)
# Hyphenated parts that are not words on their own: the euphonic "t" of "a-t-il", the "e" of "e-mail".
_HYPHEN_PARTS = {"fr": frozenset({"t", "e"}), "en": frozenset({"e"})}
# Forms clean customer-service French needs and the fallback's frequency list lacks (hunspell knows them all).
_ALLOW = {
    "fr": frozenset({"mail", "mails", "e-mail", "e-mails", "recontacter", "joignable", "joignables", "réf", "tél"}),
    "en": frozenset({"app", "apps"}),
}
# French inflections whose base form may be in the list when the inflected one is not ("joignables").
_FR_ENDINGS = (("s", ""), ("x", ""), ("es", ""), ("era", "er"), ("eront", "er"), ("erons", "er"),
               ("erez", "er"), ("erait", "er"), ("eraient", "er"), ("ée", "é"), ("ées", "é"), ("és", "é"))
# Suggestions at edit distance 2 only up to this many letters (see PySpellChecker.suggest).
_MAX_DISTANCE_2 = 8


class PySpellChecker:
    name = "pyspellchecker"

    def __init__(self) -> None:
        from spellchecker import SpellChecker as _Lists

        self._lists = {lang: _Lists(language=lang) for lang in LANGUAGES}

    def _list(self, lang: str):
        try:
            return self._lists[lang]
        except KeyError:
            raise _unsupported(lang) from None

    def check(self, word: str, lang: str) -> bool:
        words = self._list(lang)
        return self._known(word.replace("\u2019", "'").lower(), lang, words)

    def _known(self, word: str, lang: str, words) -> bool:
        if word in words or word in _ALLOW[lang]:
            return True
        if "-" in word:  # "pourriez-vous", "a-t-il": each part must be a word
            parts = word.split("-")
            return all(p in _HYPHEN_PARTS[lang] or self._known(p, lang, words) for p in parts if p)
        if lang == "en":
            return word.endswith("'s") and word[:-2] in words  # possessive: "customer's"
        elided = _ELISION.match(word)
        if elided:
            return self._known(elided["rest"], lang, words)
        # "recontactera" = re- + "contactera": the re-/ré- prefix is productive in French.
        for prefix in ("re", "ré"):
            if word.startswith(prefix) and len(word) - len(prefix) >= 5 and word[len(prefix):] in words:
                return True
        return any(
            word.endswith(ending) and len(word) > len(ending) + 3 and word[: -len(ending)] + base in words
            for ending, base in _FR_ENDINGS
        )

    def suggest(self, word: str, lang: str, limit: int = 5) -> list[str]:
        words = self._list(lang)
        prefix, stem = "", word.replace("\u2019", "'")
        elided = _ELISION.match(stem) if lang == "fr" else None
        if elided:  # suggest for "reponse" in "l'reponse", then put the "l'" back
            prefix, stem = elided["prefix"], elided["rest"]
        key = stem.lower()
        # Edit distance 2 costs O(len² × alphabet²): 0.7 s for "joignables", 3.6 s for a 23-letter word.
        # Long words get distance 1 only; short ones, where two slips are common, get both.
        if len(key) <= _MAX_DISTANCE_2:
            candidates = words.candidates(key) or set()
        else:
            candidates = words.known(words.edit_distance_1(key))
        candidates.discard(key)
        # Most frequent first, then alphabetical so the order is stable.
        ranked = sorted(candidates, key=lambda w: (-words[w], w))[:limit]
        if stem[:1].isupper():
            ranked = [w[:1].upper() + w[1:] for w in ranked]
        return [prefix + w for w in ranked]


# --- choosing the backend ------------------------------------------------------------------------------------

_checker: SpellChecker | None = None
_checker_lock = threading.Lock()


class CachedSuggestions:
    """A backend whose suggestions are remembered per (word, language), up to `size` words, oldest out first.

    Suggestions are the slow part of a check (about 80 ms a word with hunspell's French, several times that on
    a busy machine) while people make the same slips again and again, and a draft is re-checked at each edit:
    the second time a word costs a dictionary look-up. Checks themselves are not cached (µs each).
    """

    def __init__(self, backend: SpellChecker, size: int = 4096) -> None:
        self.backend = backend
        self.name = backend.name
        self._size = size
        self._known: OrderedDict[tuple[str, str, int], list[str]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, word: str, lang: str) -> bool:
        return self.backend.check(word, lang)

    def suggest(self, word: str, lang: str, limit: int = 5) -> list[str]:
        key = (word, lang, limit)
        with self._lock:
            if key in self._known:
                self._known.move_to_end(key)
                return list(self._known[key])
        found = self.backend.suggest(word, lang, limit)  # outside the lock: other drafts go on meanwhile
        with self._lock:
            self._known[key] = list(found)
            while len(self._known) > self._size:
                self._known.popitem(last=False)
        return list(found)


def get_spellchecker() -> SpellChecker:
    """The best backend available here, built once (thread-safe). Its `.name` says which one it is."""
    global _checker
    if _checker is None:
        with _checker_lock:
            if _checker is None:  # another thread may have built it while we waited
                backend: SpellChecker
                try:
                    backend = EnchantSpellChecker()
                except SpellingUnavailable:
                    backend = PySpellChecker()
                _checker = CachedSuggestions(backend)
    return _checker


# --- tokenising ----------------------------------------------------------------------------------------------

_TOKENS = re.compile(
    r"""(?P<skip>
        <[^<>\n]*>                                   # Slack markup: <@U123>, <#C1|name>, <https://x|label>
      | `[^`\n]*`                                    # inline code
      | (?:https?://|www\.)\S+                       # URLs
      | [\w.+-]+@[\w-]+(?:\.[\w-]+)+                 # e-mail addresses
      | [@#][\w.-]*\w                                # @handles and #hashtags
      | (?:[\w-]+\.)+(?:com|fr|net|org|io|eu|be|ch|ca|co|uk|app|dev)\b   # bare domains: vigie.fr
      | :[a-z0-9_+'-]+:                              # Slack emoji: :wave:
    )
    | (?P<word>[^\W_]+(?:['\u2019-][^\W_]+)*)        # words, with elisions and hyphens kept inside
    """,
    re.VERBOSE,
)
# Possessive or elided forms of a company word: "Vigie's", "d'Vigie" should pass like "Vigie".
_AROUND_NAME = re.compile(r"^(?:[a-z]{1,6}')?(?P<name>.+?)(?:'s)?$", re.IGNORECASE)


def _company_keys(company_words: frozenset[str]) -> frozenset[str]:
    # "Air France" accepts "Air" and "France"; "Coca-Cola" stays whole.
    return frozenset(part.casefold() for entry in company_words for part in entry.split())


SUGGESTED = 10  # misspelt words given suggestions, per text
# Time a text's suggestions may take in all: past it, later misspelt words are still found, without
# suggestions. A gibberish draft on a busy machine would otherwise take seconds (Slack closes a form at 3 s);
# a second leaves room for a few slow suggestions under load (a quarter of a second cut them on a busy run).
SUGGEST_BUDGET = 1.0


@cache
def proper_nouns() -> frozenset[str]:
    """The shipped list (words/proper_nouns.txt): carriers, payment brands, first names, case-folded."""
    lines = resources.files("bot.domain").joinpath("words/proper_nouns.txt").read_text("utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


# A word starts a sentence when only spaces, quotes or brackets separate it from the start or a full stop.
_SENTENCE_END = re.compile(r"(?:^|[.!?\n:…])[\s\"«»“”'(\[*_~-]*$")


def _is_proper_noun(text: str, start: int, word: str) -> bool:
    """A capitalised word inside a sentence is a name ("chez Chloé"), not a misspelling; so is a listed one."""
    if word.casefold() in proper_nouns():
        return True
    if not word[:1].isupper():
        return False
    return _SENTENCE_END.search(text[max(0, start - 40):start]) is None


def misspellings(
    text: str, lang: str, *, company_words: frozenset[str], checker: SpellChecker,
    budget: float = SUGGEST_BUDGET, timer: Callable[[], float] = time.perf_counter,
) -> list[Misspelling]:
    """Misspelt words of `text` as (start, end, word, suggestions), left to right.

    Skipped: URLs, e-mails, @handles, #hashtags, Slack markup and emoji, words with digits ("T3", "2026",
    order numbers), one-letter words, ALL-CAPS words ("SAV"), `company_words` (case-insensitive), capitalised
    words inside a sentence (names) and the shipped list of carriers, brands and first names.
    Suggestions are computed only for misspelt words: they are the slow part (~80 ms each with hunspell), so
    only the first `SUGGESTED` get them, within `budget` seconds of `timer` (a stopwatch measuring the work,
    not the domain's time). A draft is checked before its form closes (Slack waits 3 s): a text of gibberish
    must not take longer than that, and ten suggestions are as many as a person reads.
    """
    if lang not in LANGUAGES:
        return []
    company = _company_keys(company_words)
    found: list[Misspelling] = []
    started = timer()
    for match in _TOKENS.finditer(text):
        word = match["word"]
        if word is None or len(word) < 2 or any(c.isdigit() for c in word) or word.isupper():
            continue
        normal = word.replace("\u2019", "'")  # one apostrophe for both backends
        if company and (
            normal.casefold() in company or (_AROUND_NAME.match(normal)["name"].casefold() in company)
        ):
            continue
        if _is_proper_noun(text, match.start(), normal) or checker.check(normal, lang):
            continue
        in_budget = len(found) < SUGGESTED and timer() - started < budget
        suggestions = tuple(checker.suggest(normal, lang)) if in_budget else ()
        found.append(Misspelling(match.start(), match.end(), word, suggestions))
    return found
