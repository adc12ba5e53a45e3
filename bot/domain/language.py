"""Is a mention in French or English? Only those two matter: channel messages and keywords are fr/en.

Why langdetect: a pip-only, pure-Python port of Google's language-detection (about 2.7 MB of n-gram
profiles, no compiler, no model download), good enough on a tweet-length text. It is random by design, so we
fix the seed to give the same answer for the same text, every time and on every machine.

Its profiles are read from disk on first use (the only I/O here, once per process); a lock makes that
safe when several threads triage at the same time. Detection itself is thread-safe: each call builds its
own detector with its own random generator.
"""

from __future__ import annotations

import re
import threading

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

__all__ = ["MIN_LETTERS", "MIN_PROBABILITY", "detect_language"]

SUPPORTED = ("fr", "en")
# Below this many letters (once links, @handles and #hashtags are gone) a guess is a coin toss.
MIN_LETTERS = 12
# langdetect's probability for the best of fr/en must reach this; otherwise "we don't know".
MIN_PROBABILITY = 0.80
_SEED = 0

# Links, @handles and #hashtags say little about the language and confuse short texts.
_NOISE = re.compile(r"(?:https?://|www\.)\S+|[@#][\w.-]+", re.IGNORECASE)

_factory: DetectorFactory | None = None
_factory_lock = threading.Lock()


def _get_factory() -> DetectorFactory:
    global _factory
    if _factory is None:
        with _factory_lock:
            if _factory is None:  # another thread may have loaded it while we waited
                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                factory.set_seed(_SEED)
                _factory = factory
    return _factory


def detect_language(text: str) -> str | None:
    """Return "fr", "en", or None when the text is too short or the guess too unsure (or another language)."""
    cleaned = _NOISE.sub(" ", text)
    if sum(c.isalpha() for c in cleaned) < MIN_LETTERS:
        return None
    detector = _get_factory().create()
    detector.append(cleaned)
    try:
        guesses = detector.get_probabilities()
    except LangDetectException:  # "no features in text": only digits, emoji, punctuation...
        return None
    best = max((g for g in guesses if g.lang in SUPPORTED), key=lambda g: g.prob, default=None)
    if best is None or best.prob < MIN_PROBABILITY:
        return None
    return str(best.lang)
