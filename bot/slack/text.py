"""Making outside text safe for Slack.

Slack parses `<...>` in message text: `<!channel>`, `<!here>`, `<@U123>`, `<!subteam^S1>` ping people and
`<https://evil|bank.example>` disguises a link. Slack's own rule is to escape `&`, `<` and `>`; once done, no
outside text can form those sequences. We also drop invisible characters (zero-width, bidirectional
overrides, fillers) that make a text read differently from what it is, and make every line break a "\n".
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from urllib.parse import quote as percent_encode
from urllib.parse import urlsplit

# What makes a text read differently from what it is, dropped rather than shown (a reader should see the text
# as a plain editor would):
# - every "format" character (Unicode category Cf): zero-width spaces and joiners, the bidirectional marks,
#   embeddings, overrides and isolates (the "Trojan Source" characters) and the Arabic letter mark U+061C, soft
#   hyphens, word joiners, invisible operators, interlinear annotations, the "tag" letters (U+E0000 block) that
#   can smuggle hidden text. A family emoji loses its joiner and shows as its members; nothing else is lost;
# - the characters Unicode files as letters or marks but that render as nothing: the Hangul fillers, the
#   combining grapheme joiner, the Khmer inherent vowels, the Mongolian free variation selectors;
# - variation selectors beyond the one a character may carry (U+FE0E/U+FE0F after "❤" picks text or emoji
#   style and is kept; a run of them, or the supplement's 240 selectors, is a place to hide bytes).
_FILLERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
_VARIATION = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]+")
# Line separators Slack may show as breaks (or not): every one becomes a plain "\n", so `quote()` quotes each
# line whichever separator the outside text used.
_LINE_BREAKS = re.compile("\r\n|[\r\u0085\u2028\u2029]")
_SPACES = re.compile(r"[ \t\f\v]+")


def _visible(char: str) -> bool:
    return char not in _FILLERS and unicodedata.category(char) != "Cf"


def _one_selector(match: re.Match[str]) -> str:
    # Of a run of selectors, only a text/emoji style selector right after a character is kept.
    first = match.group()[0]
    return first if first in "\ufe0e\ufe0f" and match.start() > 0 else ""


def strip_invisible(text: str) -> str:
    if text.isascii():
        return _LINE_BREAKS.sub("\n", text)
    text = "".join(char for char in text if _visible(char))
    return _LINE_BREAKS.sub("\n", _VARIATION.sub(_one_selector, text))


def escape(text: str) -> str:
    """Escape outside text for a mrkdwn or plain message field."""
    text = strip_invisible(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def excerpt(text: str, limit: int) -> str:
    """A readable, escaped excerpt of at most `limit` characters once escaped."""
    flat = _SPACES.sub(" ", strip_invisible(text)).strip()
    out = escape(flat)
    if len(out) <= limit:
        return out
    # Cut on the raw text so we never split an entity such as "&amp;" in two.
    cut = flat[: max(limit - 1, 0)]
    while len(escape(cut)) > limit - 1:
        cut = cut[:-1]
    return escape(cut.rstrip()) + "…"


def quote(text: str, limit: int) -> str:
    """Outside text as a mrkdwn block quote: escaped, cut to about `limit`, and every line quoted, so a line
    break in the text (whichever separator it used: `strip_invisible` made them all "\n") cannot end the quote
    and make what follows read as the bot's own words."""
    return "\n".join("> " + line for line in excerpt(text, limit).split("\n"))


def safe_url(url: str) -> str | None:
    """An http(s) URL that cannot break out of Slack's `<url|label>` syntax, or None."""
    url = strip_invisible(url).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return percent_encode(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def link(url: str, label: str | None = None) -> str:
    """A link whose label is the URL's real host, so a post can never pose as another site."""
    safe = safe_url(url)
    if safe is None:
        return escape(url)
    host = urlsplit(safe).hostname or safe
    return f"<{safe}|{escape(label or host)}>"


def slack_date(when: datetime, style: str = "{date_short_pretty} {time}") -> str:
    """Slack's `<!date^…>` token: rendered in each reader's own timezone and locale; the fallback is UTC.

    The one place the token is written (cards, answers, reminders, Home): `style` is Slack's format string,
    e.g. "{ago}" for "3 minutes ago".
    """
    utc = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    return f"<!date^{int(utc.timestamp())}^{style}|{utc:%Y-%m-%d %H:%M} UTC>"
