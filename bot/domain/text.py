"""Text helpers for matching the words a company lists in its protocol: pure, no I/O.

People write "résultats", "Resultats" or "RÉSULTATS", and "l’avocat" with a typographic apostrophe; a
keyword must match all of them. We therefore compare *folded* text (casefolded, accents stripped,
apostrophes unified), but report positions in the *original* text so callers can quote or highlight it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

__all__ = ["MIN_REASON", "Folded", "TermMatcher", "compile_terms", "find_terms", "fold", "is_real_text",
           "meaningful_length"]

# Typographic apostrophes and look-alikes, all read as "'" (French text uses ’ a lot).
_APOSTROPHES = "\u2019\u2018\u02bc\u02b9\u00b4\u2032\uff07"


class _FoldTable(dict[int, str]):
    """A `str.translate` table filled on demand: each code point is folded once, then translation is C-fast."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in _APOSTROPHES:
            folded = "'"
        else:
            # casefold first ("ẞ" -> "ss"), then NFKD splits "é" into "e" + a combining accent we drop.
            decomposed = unicodedata.normalize("NFKD", char.casefold())
            folded = "".join(c for c in decomposed if not unicodedata.combining(c))
            folded = "".join("'" if c in _APOSTROPHES else c for c in folded)
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """Casefold, strip accents and unify apostrophes: "L’Été" -> "l'ete".

    Folding works character by character (so positions can be mapped back), and one character may fold
    to zero ("e" + combining accent) or several ("ß" -> "ss") characters.
    """
    if text.isascii():
        return text.lower()  # same as casefold for ASCII, and much faster
    return text.translate(_FOLD)


class Folded:
    """A text and its folded form, with a way back from folded positions to original ones.

    Build it once per mention and pass it to several matchers: folding is then done only once.
    """

    def __init__(self, text: str):
        self.original = text
        self.folded = fold(text)

    @cached_property
    def _origin(self) -> list[int] | None:
        """For each folded character, the index of the original character it came from (None: identity)."""
        if len(self.folded) == len(self.original) and (
            self.original.isascii() or all(len(_FOLD[ord(c)]) == 1 for c in set(self.original))
        ):
            return None
        origin: list[int] = []
        for index, char in enumerate(self.original):
            origin.extend([index] * len(_FOLD[ord(char)]))
        return origin

    def span(self, start: int, end: int) -> tuple[int, int] | None:
        """Map a non-empty folded span [start, end) back to the original text.

        None when the span cuts an original character in two: "½" folds to "1⁄2", and a term "2" must not
        match half of it.
        """
        origin = self._origin
        if origin is None:
            return start, end
        if (start > 0 and origin[start - 1] == origin[start]) or (
            end < len(origin) and origin[end] == origin[end - 1]
        ):
            return None
        o_start, o_end = origin[start], origin[end - 1] + 1
        # A match ending on the "e" of a decomposed "e" + U+0301 takes the accent with it.
        text = self.original
        while o_end < len(text) and not _FOLD[ord(text[o_end])]:
            o_end += 1
        return o_start, o_end


@dataclass(frozen=True)
class TermMatcher:
    """Finds whole-word occurrences of a fixed list of terms; build it with `compile_terms`."""

    terms: tuple[str, ...]
    _regex: re.Pattern[str] | None
    _by_key: dict[str, str]  # folded term, words joined by one space -> the term as the company wrote it

    def find(self, text: str | Folded) -> list[tuple[str, int, int]]:
        """Every match as (term, start, end), positions in the original text, left to right.

        Matches do not overlap; at one position the longest term wins ("cours de bourse" over "cours").
        """
        if self._regex is None:
            return []
        folded = text if isinstance(text, Folded) else Folded(text)
        found: list[tuple[str, int, int]] = []
        for match in self._regex.finditer(folded.folded):
            span = folded.span(match.start(), match.end())
            if span is not None:
                found.append((self._by_key[" ".join(match.group().split())], *span))
        return found


def _trie_regex(keys: Iterable[str]) -> str:
    """One alternation shaped as a trie ("cour(?:s(?:\\s+de\\s+bourse)?|t)").

    Python's `re` tries alternatives one by one, so a flat "t1|t2|...|t200" costs 200 attempts at every
    position (about 2 ms per tweet); sharing prefixes makes it about 100 times faster.
    """
    root: dict[str, dict] = {}
    for key in keys:
        node = root
        for char in key:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a term

    def build(node: dict[str, dict], last: str) -> str:
        branches = [(r"\s+" if c == " " else re.escape(c)) + build(node[c], c) for c in sorted(node) if c]
        if "" in node:
            # Last, so that the longest term wins; a term ending with a letter or digit must end a word.
            branches.append(r"(?!\w)" if re.match(r"\w", last) else "")
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return build(root, "")


@lru_cache(maxsize=512)
def compile_terms(terms: tuple[str, ...]) -> TermMatcher:
    """One regex for the whole list (cached): one scan of the text, whatever the number of terms.

    Words of a term match across any whitespace ("cours  de\\nbourse"). Whole words only: a term starting
    with a letter or digit must not be preceded by one (so "action" misses "réaction"), nor followed by
    one if it ends with one (so "action" misses "actionnaire"); "#boycott" needs no guard before "#".
    """
    by_key: dict[str, str] = {}
    for term in terms:
        key = " ".join(fold(term).split())
        if key and key not in by_key:  # "résultats" and "resultats" are the same term: keep the first
            by_key[key] = term
    word_start = [k for k in by_key if re.match(r"\w", k)]
    other_start = [k for k in by_key if not re.match(r"\w", k)]
    parts = []
    if word_start:
        parts.append(r"(?<!\w)" + _trie_regex(word_start))
    if other_start:
        parts.append(_trie_regex(other_start))
    regex = re.compile("|".join(parts)) if parts else None
    return TermMatcher(terms, regex, by_key)


def find_terms(text: str | Folded, terms: Iterable[str]) -> list[tuple[str, int, int]]:
    """Whole-word, case- and accent-insensitive occurrences of `terms` in `text`.

    Returns (term, start, end) with `text[start:end]` the matched original text, e.g.
    find_terms("Les RESULTATS", ["résultats"]) == [("résultats", 4, 13)].
    """
    return compile_terms(tuple(terms)).find(text)


# --- whether a typed reason says something ----------------------------------------------------------------

MIN_REASON = 3  # letters or digits: "RAS" or "spam" pass; "x", "." or a zero-width space do not


def meaningful_length(text: str | None) -> int:
    """How many letters and digits `text` holds. Spaces, punctuation, symbols, combining marks on their own
    and invisible format characters (zero-width space U+200B, bidirectional marks, Hangul fillers, which
    Unicode files as letters but which show nothing) count for nothing: `str.strip()` keeps U+200B, so a
    "reason" made of it once passed as written."""
    if not text:
        return 0
    return sum(1 for char in text if unicodedata.category(char)[0] in "LN" and char not in _FILLERS)


# Hangul fillers and the half-width filler are category Lo but render as nothing.
_FILLERS = frozenset("ᅟᅠㅤﾠ")


def is_real_text(text: str | None, minimum: int = MIN_REASON) -> bool:
    """A reason a person actually wrote: at least `minimum` letters or digits."""
    return meaningful_length(text) >= minimum
