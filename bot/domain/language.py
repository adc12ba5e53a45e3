"""Is a mention in French or English? Only those two matter: channel messages and keywords are fr/en.

Why lingua (low-accuracy mode): measured here, 0.05 ms a short text against 4.3 ms for langdetect, about
12 MB resident, and right on tweet-length French and English (see BENCHMARKS.md). Its models ship inside the
wheel, so nothing is downloaded at run time, and it is deterministic. It also knows a few neighbouring
languages, so a Spanish or German post is "neither" rather than forced into French or English.

Cost (issue 16): a source that gives the language skips detection altogether (bot.domain.routing); otherwise
only the first `MAX_CHARS` characters are read (lingua's time grows with the text, and a long article's first
sentences tell its language), and the answers for the most recent texts are remembered: copies of one post (a
storm of retweets) are detected once. A batch (an intake request of several mentions, a history import's
batch) is read by lingua in one call (`detect_languages`, issue 14): same answers, about a fifth less CPU.

The detector is built once, on first use (loading its models is the only I/O here); a lock makes that safe
when several threads triage at the same time. Detection itself is thread-safe.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from functools import lru_cache

from lingua import ConfidenceValue, Language, LanguageDetector, LanguageDetectorBuilder

__all__ = ["MIN_CONFIDENCE", "MIN_LETTERS", "detect_language", "detect_languages"]

_CODES = {Language.FRENCH: "fr", Language.ENGLISH: "en"}
# Candidates: ours plus the languages a French company's mentions most often come in otherwise.
_CANDIDATES = (Language.FRENCH, Language.ENGLISH, Language.SPANISH, Language.GERMAN, Language.ITALIAN,
               Language.PORTUGUESE, Language.DUTCH)
# Below this many letters (once links, @handles and #hashtags are gone) a guess is a coin toss.
MIN_LETTERS = 12
# lingua's confidence for French or English must reach this; otherwise "we don't know".
MIN_CONFIDENCE = 0.5
# Enough text to tell French from English (and from their neighbours); a longer text is cut at a space.
MAX_CHARS = 300

# Links, @handles and #hashtags say little about the language and confuse short texts.
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@#][\w.-]+", re.IGNORECASE)

_detector: LanguageDetector | None = None
_detector_lock = threading.Lock()


def _get_detector() -> LanguageDetector:
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:  # another thread may have built it while we waited
                _detector = LanguageDetectorBuilder.from_languages(*_CANDIDATES).with_low_accuracy_mode().build()
    return _detector


def _cleaned(text: str) -> str | None:
    """What lingua reads of `text`, or None when too few letters are left to guess."""
    cleaned = _NOISE.sub(" ", text if len(text) <= 2 * MAX_CHARS else text[:2 * MAX_CHARS])
    if len(cleaned) > MAX_CHARS:
        cut = cleaned.rfind(" ", 0, MAX_CHARS)
        cleaned = cleaned[:cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    if sum(map(str.isalpha, cleaned)) < MIN_LETTERS:  # (map: half the time of a generator)
        return None
    return cleaned


def _verdict(best: ConfidenceValue) -> str | None:
    code = _CODES.get(best.language)
    if code is None or best.value < MIN_CONFIDENCE:
        return None
    return code


@lru_cache(maxsize=4096)
def _detect_one(text: str) -> str | None:
    cleaned = _cleaned(text)
    if cleaned is None:
        return None
    return _verdict(_get_detector().compute_language_confidence_values(cleaned)[0])


# Answers `detect_languages` worked out for a batch, each taken (once) by `detect_language` when triage asks.
# Bounded: a batch whose texts are never asked for (an error in between) cannot make it grow.
_primed: dict[str, str | None] = {}
_PRIMED_MAX = 20_000
_MISSING = object()


def detect_language(text: str) -> str | None:
    """Return "fr", "en", or None when the text is too short, too unsure, or in another language."""
    primed = _primed.pop(text, _MISSING)
    if primed is not _MISSING:
        return primed  # type: ignore[return-value]
    return _detect_one(text)


# lingua's batch call runs on a Rust thread pool made on its first use. A process forked after that (a history
# import's workers, bot.usecases.history) inherits the pool's bookkeeping but not its threads, and its own batch
# call would wait for them for ever (seen): there, texts are read one by one. Single calls use no thread pool.
_pool_started = False
_pool_usable = True


def _forked() -> None:
    global _pool_usable
    if _pool_started:
        _pool_usable = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forked)


def detect_languages(texts: Sequence[str]) -> list[str | None]:
    """`detect_language` of each text, the batch read by lingua in one call (its Rust threads, no Python per
    text): same cleaning, same thresholds, same answers. The answers are also kept for `detect_language`, which
    triage calls text by text next (issue 14: a file's rows without a language column; measured 0.07 ms of
    CPU a row less than one call a text)."""
    global _pool_started
    cleaned = [_cleaned(text) for text in texts]
    readable = [c for c in cleaned if c is not None]
    detector = _get_detector()
    if not readable:
        values = iter(())
    elif _pool_usable:
        _pool_started = True
        values = iter(detector.compute_language_confidence_values_in_parallel(readable))
    else:
        values = iter([detector.compute_language_confidence_values(c) for c in readable])
    answers = [None if c is None else _verdict(next(values)[0]) for c in cleaned]
    if len(_primed) + len(texts) > _PRIMED_MAX:
        _primed.clear()
    _primed.update(zip(texts, answers, strict=True))
    return answers
