"""Making outside text safe for Slack.

Slack parses `<...>` in message text: `<!channel>`, `<!here>`, `<@U123>`, `<!subteam^S1>` ping people and
`<https://evil|bank.example>` disguises a link. Slack's own rule is to escape `&`, `<` and `>`; once done, no
outside text can form those sequences. We also drop invisible characters (zero-width, bidirectional
overrides) that make a text read differently from what it is.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

# Zero-width spaces and joiners, word joiner, BOM, soft hyphen, and the bidirectional embedding/override/
# isolate controls (the "Trojan Source" characters).
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v]+")


def strip_invisible(text: str) -> str:
    return _INVISIBLE.sub("", text)


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


def safe_url(url: str) -> str | None:
    """An http(s) URL that cannot break out of Slack's `<url|label>` syntax, or None."""
    url = strip_invisible(url).strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~-._")


def link(url: str, label: str | None = None) -> str:
    """A link whose label is the URL's real host, so a post can never pose as another site."""
    safe = safe_url(url)
    if safe is None:
        return escape(url)
    host = urlsplit(safe).hostname or safe
    return f"<{safe}|{escape(label or host)}>"
