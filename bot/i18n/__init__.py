"""Translation layer: every user-facing sentence comes from the French or English catalogue.

Catalogues are gettext .po files read with Babel at start-up (no compile step, so a plain `pip install`
works). Message ids are stable keys such as ``relay.header``; values use ``{name}`` placeholders.
Infrastructure: imports Babel and the standard library only, and any layer except bot/domain may import it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
_DIR = Path(__file__).parent


@cache
def catalogue(lang: str) -> dict[str, str]:
    with open(_DIR / lang / "LC_MESSAGES" / "vigie.po", "rb") as fh:
        cat = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def normalise(lang: str | None) -> str:
    """Slack locales look like 'fr-FR' or 'en-US'; anything we do not speak falls back to French."""
    if not lang:
        return DEFAULT_LANGUAGE
    short = lang.replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Translate `key` into `lang`. A missing key is a bug that tests catch; at run time it shows the key."""
    text = catalogue(normalise(lang)).get(key) or catalogue("en").get(key) or key
    return text.format(**params) if params else text
