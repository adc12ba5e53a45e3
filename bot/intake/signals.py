"""What a monitoring tool already says about a mention: its sentiment and its engagement, as the vendors write them.

    sentiment_label("Négatif") == "negative"; sentiment_label(-3) == "negative"   # Talkwalker's -5..5
    sentiment_label("mixed") is None                                              # not one we can use: unknown

The vendors' sentiments, by their documentation (tests/fixtures/exports/SOURCES.md):
- Meltwater, Sprout Social, Hootsuite, Radian6, Agorapulse: "Positive" / "Neutral" / "Negative" (or the French
  words in a French interface); Brandwatch and Synthesio: "positive" / "neutral" / "negative";
- Talkwalker: an integer from -5 to 5 (developer.talkwalker.com, field information: `sentiment`);
- Radarly: `tone` "positive" / "neutral" / "negative" / "mixed"; Mention: `tone` -1, 0 or 1.
A value that is none of these is unknown (None), never an error: the mention is stored all the same, and the
vendor's sentiment is a signal among others (bot.domain.routing: a "negative" raises like a negative tone).

Engagement (likes + shares + comments, as each tool counts them) is read like reach ("1,2K", "12 500").
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

Sentiment = Literal["negative", "neutral", "positive"]
SENTIMENTS: tuple[Sentiment, ...] = ("negative", "neutral", "positive")

_WORDS: dict[str, Sentiment] = {
    "negative": "negative", "negatif": "negative", "negativ": "negative", "neg": "negative", "bad": "negative",
    "neutral": "neutral", "neutre": "neutral", "neu": "neutral", "neut": "neutral",
    "positive": "positive", "positif": "positive", "positiv": "positive", "pos": "positive", "good": "positive",
}


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def sentiment_label(value: Any) -> Sentiment | None:
    """A vendor's sentiment -> "negative", "neutral" or "positive"; None when it says none of these.

    Words in English or French, any case ("Negative", "négatif", "NEG"); numbers by their sign (Talkwalker's
    -5..5, Mention's -1..1, a score from -1 to 1): below zero negative, zero neutral, above positive."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = Decimal(str(value))
    else:
        text = _folded(str(value))
        if text in _WORDS:
            return _WORDS[text]
        if not re.fullmatch(r"[-+]?[0-9]+(?:[.,][0-9]+)?", text):
            return None
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern only lets numbers through
            return None
    if not number.is_finite():
        return None
    return "negative" if number < 0 else "positive" if number > 0 else "neutral"


def vendor_extra(*, engagement: int | None, sentiment: str | None,
                 published_unknown: bool = False) -> dict[str, Any] | None:
    """What is stored in the mention's `extra` column (never shown raw): the vendor's engagement and sentiment,
    and {"published_unknown": true} when its date could not be read (published_at then holds its arrival);
    None when there is nothing to say."""
    extra: dict[str, Any] = {key: value for key, value in (("engagement", engagement), ("sentiment", sentiment))
                             if value is not None}
    if published_unknown:
        extra["published_unknown"] = True
    return extra or None
