"""Making outside text safe for Slack.

Slack parses `<...>` in message text: `<!channel>`, `<!here>`, `<@U123>`, `<!subteam^S1>` ping people and
`<https://evil|bank.example>` disguises a link. Slack's own rule is to escape `&`, `<` and `>`; once done, no
outside text can form those sequences. We also drop invisible characters (zero-width, bidirectional
overrides) that make a text read differently from what it is.
"""

from __future__ import annotations

import re
from urllib.parse import quote as percent_encode
from urllib.parse import urlsplit

# Zero-width spaces and joiners, word joiner, BOM, soft hyphen, Mongolian vowel separator, interlinear
# annotation marks, the bidirectional marks, embeddings, overrides and isolates (the "Trojan Source"
# characters), and the invisible "tag" letters (U+E0000 block) that can smuggle hidden text. They are dropped,
# not shown: a reader should see the text as a plain editor would, and none of them carries meaning in a post
# (a family emoji loses its joiner and shows as its members).
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
                        "\ufff9-\ufffb\U000e0000-\U000e007f]")
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


def quote(text: str, limit: int) -> str:
    """Outside text as a mrkdwn block quote: escaped, cut to about `limit`, and every line quoted, so a line
    break in the text cannot end the quote and make what follows read as the bot's own words."""
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
