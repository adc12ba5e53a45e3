"""How angry a text sounds, and which listed words it really says: pure rules, no clock, no network.

**Sentiment** (`tone(text, language)`): a compound score from -1 (furious) to +1 (delighted), with negation
("not bad", "pas terrible") and intensity (boosters, CAPITALS, "!!!", repetition).

* English: VADER (`vaderSentiment`, Hutto & Gilbert 2014, MIT licence — its LICENSE.txt checked), the
  reference rule-based scorer for social-media text. Its lexicon is read from the package on first use.
* French: a small hand-built lexicon below (about 200 words, VADER's -4..+4 scale) scored with VADER's own
  rules (negation scalar -0.74, boosters +/-0.293, capitals +0.733, up to four "!" at +0.292 each, "mais"
  weighting, the same normalisation). Chosen over the alternatives looked at:
  - `vadersentiment-fr` (PyPI, MIT data) imports `fuzzywuzzy`, which is GPL-2: not in an MIT process; and its
    lexicon is a loose translation of VADER's ("terrible" -0.5, "horrible" -0.7, "nul" -0.5), too mild to
    tell anger from annoyance;
  - FEEL (French Expanded Emotion Lexicon) gives emotion categories without intensity, and its licence
    for redistribution was not confirmed: not used.
  The hand-built list knows customer-service anger, not French at large (it had 20 of the 107 adjectives
  that Pattern's raters found strongly negative), so it is widened by the hand-rated French adjectives of
  Pattern's subjectivity lexicon (De Smedt & Daelemans, public domain: `words/fr_adjectives_pattern.tsv`,
  strong and subjective entries only, scaled to VADER's range; our list wins where both have a word). Words
  are matched through their Snowball stem, so "déçue", "déçus", "décevant" share an entry.

**Cues** (`CueMatcher`): the protocol's crisis words and negative words matched in any inflected form
(Snowball stems of fr and en, so "recalls", "recalled", "rappelle", "rappelés", "piraté" find "recall",
"rappel", "piratage"), a multi-word term allowing two small words in between ("rappel de produit"), and
negation respected: a cue preceded in its clause by "not", "no", "never", "n't", "pas", "aucun", "jamais",
"ne"/"n'", "sans", "personne"... (up to four words before) is not said ("ce n'est pas un rappel").
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

import snowballstemmer

from bot.domain.text import fold

__all__ = ["CueMatcher", "Tone", "stems", "tone"]

# --- words and stems ---------------------------------------------------------------------------------------

# Words, "!" runs and clause breaks; French elisions ("n'est", "l'arnaque") split at the apostrophe.
_TOKEN = re.compile(r"[^\W_]+|!+|[.,;:?()\[\]|]")
_BREAK = frozenset(".,;:?()[]|")
# A Snowball stemmer keeps its word in its own fields while it works: one shared by two threads (two intake
# requests at once) reads the other's word and fails with IndexError. Each thread gets its own.
_LOCAL = threading.local()


def _stem(lang: str, word: str) -> str:
    stemmers = getattr(_LOCAL, "stemmers", None)
    if stemmers is None:
        stemmers = _LOCAL.stemmers = {"fr": snowballstemmer.stemmer("french"),
                                      "en": snowballstemmer.stemmer("english")}
    return stemmers[lang].stemWord(word)
# A cue's stem this long also finds longer stems ("grev" -> "grevist"), and a text's stem longer than this
# finds the cue's longer one ("piraté" -> "pirat" finds "piratage" -> "piratag").
_MIN_PREFIX = 4


@lru_cache(maxsize=50_000)
def stems(word: str) -> frozenset[str]:
    """The folded Snowball stems of `word` in French and in English ("Rappelés" -> {"rappel", "rappeles"})."""
    if word.isdigit():  # a number is its own stem in both languages: no need to run the stemmers
        return frozenset((word,))
    lower = word.lower()
    return frozenset(fold(_stem(lang, lower)) for lang in ("fr", "en"))


class _Token(NamedTuple):  # a tuple: made for every word of every mention, three times cheaper than a dataclass
    text: str  # as written
    start: int
    end: int

    @property
    def is_word(self) -> bool:
        return self.text[0] != "!" and self.text not in _BREAK


@lru_cache(maxsize=16)
def _tokens(text: str) -> tuple[_Token, ...]:
    """Remembered for the last few texts: triage reads the same text for its tone and for each list of cues."""
    text = text.replace("\u2019", "'")
    # tuple.__new__ is what _Token._make does, without its Python frame: four times faster than _Token(...).
    return tuple([_NEW_TUPLE(_Token, (m[0], *m.span())) for m in _TOKEN.finditer(text)])


_NEW_TUPLE = tuple.__new__


# --- negation ------------------------------------------------------------------------------------------------

_NEGATORS = frozenset(fold(w) for w in (
    # English ("don't" is split into "don" + "t")
    "not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "without", "t", "cannot", "nt",
    # French ("n'est" gives "n")
    "ne", "n", "pas", "jamais", "aucun", "aucune", "rien", "sans", "ni", "personne", "non", "guère",
))
_NEGATION_WINDOW = 4  # words looked back, within the clause


def _negated(tokens: tuple[_Token, ...], index: int) -> bool:
    seen = 0
    i = index - 1
    while i >= 0 and seen < _NEGATION_WINDOW:
        tok = tokens[i]
        if not tok.is_word:
            if tok.text in _BREAK:
                return False
            i -= 1
            continue
        if fold(tok.text) in _NEGATORS:
            return True
        seen += 1
        i -= 1
    return False


# --- cues: listed words in any form --------------------------------------------------------------------------

_GAP = 2  # small words allowed between the words of a multi-word cue


@lru_cache(maxsize=4096)
def _prefixes(term_stems: frozenset[str]) -> frozenset[str]:
    return frozenset(t[:_MIN_PREFIX] for t in term_stems if len(t) >= _MIN_PREFIX)


@lru_cache(maxsize=200_000)
def _word_matches(term_stems: frozenset[str], word: str) -> bool:
    """Remembered (a pure function of a cue's stems and a word; a frozenset keeps its hash): each matcher asks it
    for every word of every mention and every term, most of an import's triage before (issue 14)."""
    text_stems = stems(word)
    if term_stems & text_stems:
        return True
    # Either prefix rule below needs the two stems to share their first _MIN_PREFIX letters: most words of a
    # text share them with no cue, and are let go after a set look-up (issue 16: this was a third of an import).
    prefixes = _prefixes(term_stems)
    if not any(s[:_MIN_PREFIX] in prefixes for s in text_stems):
        return False
    return any(
        (len(t) >= _MIN_PREFIX and s.startswith(t)) or (len(s) > _MIN_PREFIX and t.startswith(s))
        for t in term_stems
        for s in text_stems
    )


@lru_cache(maxsize=200_000)
def _first_hits(firsts: tuple[frozenset[str] | None, ...], word: str) -> tuple[int, ...]:
    """The indexes of the terms whose first word's stems `word` matches."""
    return tuple(k for k, first in enumerate(firsts) if first is not None and _word_matches(first, word))


@dataclass(frozen=True)
class CueMatcher:
    """Terms as written in the protocol, found in any inflected form and only when not negated."""

    terms: tuple[str, ...]
    _parts: tuple[tuple[frozenset[str], ...], ...]
    _firsts: tuple[frozenset[str] | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_firsts", tuple(parts[0] if parts else None for parts in self._parts))

    @classmethod
    def of(cls, terms: Iterable[str]) -> CueMatcher:
        terms = tuple(dict.fromkeys(t.strip() for t in terms if t and t.strip()))
        parts = tuple(
            tuple(stems(tok.text) for tok in _tokens(term) if tok.is_word) for term in terms
        )
        return cls(terms, parts)

    def find(self, text: str) -> list[str]:
        """The terms `text` says (not negated), in the order of the list, each once."""
        if not self.terms:
            return []
        tokens = _tokens(text)
        words = [i for i, tok in enumerate(tokens) if tok.is_word]
        # The terms whose first word the text says in some form (one remembered look-up per word): only
        # those are searched word by word (issue 14: every term against every word was most of triage).
        firsts = self._firsts
        hit: set[int] = set()
        for i in words:
            hit.update(_first_hits(firsts, tokens[i].text))
        found = []
        for k, (term, parts) in enumerate(zip(self.terms, self._parts, strict=True)):
            if k in hit and self._said(tokens, words, parts):
                found.append(term)
        return found

    @staticmethod
    def _said(tokens: tuple[_Token, ...], words: list[int], parts: tuple[frozenset[str], ...]) -> bool:
        for w, index in enumerate(words):
            if not _word_matches(parts[0], tokens[index].text):
                continue
            pos, ok = w, True
            for part in parts[1:]:
                nxt = next(
                    (k for k in range(pos + 1, min(pos + 2 + _GAP, len(words)))
                     if _word_matches(part, tokens[words[k]].text)),
                    None,
                )
                if nxt is None:
                    ok = False
                    break
                pos = nxt
            if ok and not _negated(tokens, index):
                return True
        return False


# --- tone ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tone:
    score: float  # VADER's compound: -1 .. +1
    language: str | None  # the lexicon used ("en" or "fr"), None when neither applies

    @property
    def very_negative(self) -> bool:
        return self.score <= VERY_NEGATIVE

    @property
    def negative(self) -> bool:
        return self.score <= NEGATIVE


NEGATIVE = -0.5
VERY_NEGATIVE = -0.75

_vader = None


def _english(text: str) -> float:
    global _vader
    if _vader is None:  # loads the lexicon file once per process
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _vader = SentimentIntensityAnalyzer()
    return float(_vader.polarity_scores(text)["compound"])


# French valences on VADER's scale (-4 .. +4), as words: their stems are the keys.
_FR_WORDS = {
    -3.4: "pire catastrophe catastrophique scandale scandaleux honteux honte inadmissible inacceptable "
          "lamentable minable pitoyable déplorable exécrable immonde ignoble dégueulasse dégoûtant écœurant "
          "arnaque escroquerie escroc voleur voleurs mensonge menteur menteurs insupportable "
          "inqualifiable indigne abject odieux révoltant révolté",
    -2.8: "horrible terrible nul nulle nullité catastrophe désastre désastreux cauchemar honteusement "
          "incompétent incompétents incompétence mépris méprisant furieux furieuse colère rage "
          "inadmissiblement dangereux toxique pourri pourrie merde merdique foutage moquer moque "
          "dégoûté dégoutée écœuré fâché",
    -2.0: "déçu déçue décevant déception mauvais mauvaise médiocre lent lenteur inutile impossible "
          "problème problèmes panne cassé cassée abîmé abîmée défectueux perdu perdue retard retards "
          "jamais ignoré ignorée injoignable attente plainte plaindre bloqué bloquée agacé énervé "
          "énervant marre ras-le-bol fatigué lassé galère triste dommage regrette regret",
    -1.2: "bof moyen compliqué souci soucis ennui erreur erreurs attendre "
          "rembourser remboursement relance relancer",
    2.0: "bien bon bonne content contente satisfait satisfaite agréable rapide efficace pratique "
         "sympa gentil gentille aimable merci remercie recommande recommander plaisir top cool",
    3.0: "excellent excellente génial géniale parfait parfaite super formidable merveilleux "
         "bravo adore adorer ravi ravie impeccable fantastique extraordinaire incroyable magnifique "
         "délicieux délicieuse meilleur meilleure fan",
}
_FR_BOOSTERS = {
    "très": 0.293, "vraiment": 0.293, "trop": 0.293, "tellement": 0.293, "hyper": 0.293, "extrêmement": 0.293,
    "complètement": 0.293, "totalement": 0.293, "absolument": 0.293, "franchement": 0.293, "si": 0.293,
    "carrément": 0.293, "encore": 0.2, "tout": 0.2, "vachement": 0.293, "super": 0.293,
    "peu": -0.293, "plutôt": -0.2, "assez": -0.1, "presque": -0.2, "légèrement": -0.293,
}
_FR_BUT = frozenset({"mais", "pourtant", "cependant"})


# Pattern's polarity (-1 .. +1) on VADER's scale: its strongest words ("abominable", -0.9) land beside ours.
_PATTERN_SCALE = 3.4


def _pattern_adjectives() -> dict[str, float]:
    """Hand-rated French adjectives of Pattern's lexicon (words/fr_adjectives_pattern.tsv, public domain)."""
    text = resources.files("bot.domain").joinpath("words/fr_adjectives_pattern.tsv").read_text("utf-8")
    rated: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, polarity = line.split("\t")
            rated[word] = round(float(polarity) * _PATTERN_SCALE, 2)
    return rated


def _fr_lexicon() -> dict[str, float]:
    lexicon: dict[str, float] = {}
    # Our customer-service words first; Pattern's adjectives (De Smedt & Daelemans, rated on French reviews)
    # widen the rest: ours alone knew 20 of the 107 adjectives Pattern's raters found strongly negative.
    for word, valence in _pattern_adjectives().items():
        lexicon[fold(_stem("fr", word.lower()))] = valence
    for valence, words in _FR_WORDS.items():
        for word in words.split():
            lexicon[fold(_stem("fr", word.lower()))] = valence
    return lexicon


_FR_LEXICON = _fr_lexicon()
_FR_BOOST = {fold(w): v for w, v in _FR_BOOSTERS.items()}


@lru_cache(maxsize=50_000)
def _fr_stem(word: str) -> str:
    """The folded French stem of a lower-case word, remembered: stemming every word of every mention was about
    a quarter of intake's CPU (issue 16); mentions keep using the same few thousand words."""
    if word.isascii() and word.isdigit():  # a number is its own stem: ids and order numbers are not stemmed
        return word
    return fold(_stem("fr", word))


def _french(text: str) -> float:
    tokens = _tokens(text)
    words = [t for t in tokens if t.is_word]
    shouting = any(t.text.isupper() and len(t.text) > 1 for t in words) and not all(
        t.text.isupper() for t in words if len(t.text) > 1
    )
    valences: list[float] = []
    but_at = None
    for i, tok in enumerate(tokens):
        if not tok.is_word:
            continue
        folded = fold(tok.text)
        if folded in _FR_BOOST and folded != "super":
            valences.append(0.0)
            continue
        valence = _FR_LEXICON.get(_fr_stem(tok.text.lower()))
        if folded in _FR_BUT:
            but_at = len(valences)
        if valence is None:
            valences.append(0.0)
            continue
        if folded == "jamais" and i > 0 and fold(tokens[i - 1].text) == "plus":
            valence = -2.8  # "plus jamais"
        # Boosters up to three words before, damped with distance (VADER's rule).
        back = [t for t in tokens[max(0, i - 3):i] if t.is_word]
        for distance, prev in enumerate(reversed(back)):
            boost = _FR_BOOST.get(fold(prev.text), 0.0)
            boost *= (1.0, 0.95, 0.9)[distance]
            valence += boost if valence > 0 else -boost
        if shouting and tok.text.isupper() and len(tok.text) > 1:
            valence += 0.733 if valence > 0 else -0.733
        if folded != "jamais" and _negated(tokens, i):
            valence *= -0.74
        valences.append(valence)
    if but_at is not None:
        valences = [v * 0.5 for v in valences[:but_at]] + [v * 1.5 for v in valences[but_at:]]
    total = sum(valences)
    if total:
        marks = min(sum(len(t.text) for t in tokens if t.text[0] == "!"), 4) * 0.292
        total += marks if total > 0 else -marks
        return total / math.sqrt(total * total + 15)
    return 0.0


def tone(text: str, language: str | None) -> Tone:
    """The sentiment of `text` in `language` ("fr" or "en"; any other or None: English's, VADER also knows
    emoji and punctuation, and the French lexicon adds its score when it finds French words)."""
    if language == "fr":
        return Tone(round(_french(text), 4), "fr")
    if language == "en":
        return Tone(round(_english(text), 4), "en")
    return Tone(round(min(_english(text), _french(text)), 4), None)
