"""Is a mention in French or English? Only those two matter: channel messages and keywords are fr/en.

Why lingua (low-accuracy mode): measured here, 0.05 ms a short text against 4.3 ms for langdetect, about
12 MB resident, and right on tweet-length French and English (see BENCHMARKS.md). Its models ship inside the
wheel, so nothing is downloaded at run time, and it is deterministic. It also knows a few neighbouring
languages, so a Spanish or German post is "neither" rather than forced into French or English.

Cost (issue 16): a source that gives the language skips detection altogether (bot.domain.routing); otherwise
only the first `MAX_CHARS` characters are read (lingua's time grows with the text, and a long article's first
sentences tell its language), and the answers for the most recent texts are remembered: copies of one post (a
storm of retweets) are detected once.

The detector is built once, on first use (loading its models is the only I/O here); a lock makes that safe
when several threads triage at the same time. Detection itself is thread-safe.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

__all__ = ["MIN_CONFIDENCE", "MIN_LETTERS", "detect_language"]

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


@lru_cache(maxsize=4096)
def detect_language(text: str) -> str | None:
    """Return "fr", "en", or None when the text is too short, too unsure, or in another language."""
    cleaned = _NOISE.sub(" ", text if len(text) <= 2 * MAX_CHARS else text[:2 * MAX_CHARS])
    if len(cleaned) > MAX_CHARS:
        cut = cleaned.rfind(" ", 0, MAX_CHARS)
        cleaned = cleaned[:cut if cut > MAX_CHARS // 2 else MAX_CHARS]
    if sum(c.isalpha() for c in cleaned) < MIN_LETTERS:
        return None
    best = _get_detector().compute_language_confidence_values(cleaned)[0]
    code = _CODES.get(best.language)
    if code is None or best.value < MIN_CONFIDENCE:
        return None
    return code
