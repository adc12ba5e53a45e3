"""Human names for what the data stores as keys: networks and sources (`x`, `twitter`, `glassdoor`...),
languages (`fr`) and draft labels (`public`). Pure: a key and a language in, words out.

A known network or source has a catalogue entry (`network.<key>`, in both languages); an unknown one (a feed's
or a vendor's own name) is shown as the monitoring tool wrote it, escaped, with a capital first letter. A
language code is named by Babel in the reader's language (`fr` -> "français" / "French").
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError

from bot.i18n import t
from bot.slack.text import escape

# The keys a source or network may arrive as (lower case), and the catalogue entry naming each one.
NETWORK_KEYS: dict[str, str] = {
    "x": "x", "twitter": "x", "x.com": "x", "twitter.com": "x",
    "facebook": "facebook", "fb": "facebook",
    "instagram": "instagram", "ig": "instagram",
    "linkedin": "linkedin",
    "tiktok": "tiktok",
    "youtube": "youtube",
    "bluesky": "bluesky",
    "threads": "threads",
    "mastodon": "mastodon",
    "reddit": "reddit",
    "glassdoor": "glassdoor",
    "indeed": "indeed",
    "trustpilot": "trustpilot",
    "google": "google", "google_reviews": "google", "google-reviews": "google",
    "email": "email", "e-mail": "email", "mail": "email",
    "forum": "forum", "forums": "forum",
    "press": "press", "presse": "press", "news": "press",
    "blog": "blog", "blogs": "blog",
    "rss": "rss", "atom": "rss", "feed": "rss",
    "slack": "slack",
    "other": "other", "autre": "other",
}
# The catalogue entries (each has `network.<name>` in both catalogues; tests/slack/test_names.py checks it).
NETWORK_NAMES = frozenset(NETWORK_KEYS.values())


def network_name(key: str, lang: str) -> str:
    """"X (Twitter)" for `x` or `twitter`, "e-mail" for `email`; an unknown source as written (escaped)."""
    return escape(network_words(key, lang))


def network_words(key: str, lang: str) -> str:
    """`network_name` as plain text (not escaped), for a sentence that is escaped as a whole (the digest's lead)."""
    known = NETWORK_KEYS.get(key.strip().lower())
    if known is not None:
        return t(f"network.{known}", lang)
    shown = key.strip()
    if shown.islower():
        shown = shown[:1].upper() + shown[1:]
    return shown


def language_name(code: str, lang: str) -> str:
    """The language `code` (ISO 639-1, maybe with a region: "pt-BR") named in `lang` by Babel: "français",
    "anglais" in French, "French", "English" in English; an unknown code as written (escaped)."""
    base = code.replace("_", "-").split("-")[0].lower()
    try:
        name = Locale.parse(lang).languages.get(base)
    except (UnknownLocaleError, ValueError):
        name = None
    return name if name else escape(code)


def label_name(label: str, lang: str) -> str:
    """A draft's label ("public", "internal", "confidential") in words."""
    return t(f"label.{label}", lang) if label in ("public", "internal", "confidential") else escape(label)
