"""Translation layer: every user-facing sentence comes from the French or English catalogue.

The catalogues are the gettext files ``bot/i18n/{fr,en}/LC_MESSAGES/vigie.po`` and nothing else: Babel reads
them at start-up (no compile step, so a plain `pip install` works). Message ids are stable keys such as
``relay.assign``; values use ``{name}`` placeholders.

Plurals are gettext plurals: an entry with ``msgid_plural "<key>.plural"`` and one ``msgstr[i]`` per form of the
language's ``Plural-Forms`` rule (French: 0 and 1 are singular). `t` picks the form from the ``count``
placeholder (else ``n``), so callers need not know the entry is plural; `tn` takes the number explicitly.
Never write « (s) ».

French typography: U+202F (narrow no-break space) before « ; ! ? », U+00A0 (no-break space) before « : » and
inside « », so Slack never wraps a line before the mark (tests/test_i18n.py checks every French string).

Infrastructure: imports Babel and the standard library only, and any layer except bot/domain may import it.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
PLURAL_SUFFIX = ".plural"  # msgid_plural of the entry `key` is `key.plural`
_DIR = Path(__file__).parent


def po_path(lang: str) -> Path:
    return _DIR / lang / "LC_MESSAGES" / "vigie.po"


@cache
def _po(lang: str) -> Catalog:
    with open(po_path(lang), "rb") as fh:
        return read_po(fh, locale=lang)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """key -> text. A plural entry appears under its key with its first (singular) form; `tn` picks the form."""
    found: dict[str, str] = {}
    for m in _po(lang):
        if not m.id or not m.string:
            continue
        if m.pluralizable:
            found[str(m.id[0])] = str(m.string[0])
        else:
            found[str(m.id)] = str(m.string)
    return found


@cache
def plurals(lang: str) -> dict[str, tuple[str, ...]]:
    """key -> every form of a plural entry, in the order of the language's Plural-Forms rule."""
    return {str(m.id[0]): tuple(str(s) for s in m.string) for m in _po(lang) if m.id and m.pluralizable}


@cache
def _gnu(lang: str) -> gettext.GNUTranslations:
    """The catalogue as the standard library's gettext sees it (compiled in memory), for `ngettext`."""
    buf = BytesIO()
    write_mo(buf, _po(lang))
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def normalise(lang: str | None) -> str:
    """Slack locales look like 'fr-FR' or 'en-US'; anything we do not speak falls back to French."""
    if not lang:
        return DEFAULT_LANGUAGE
    short = lang.replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Translate `key` into `lang`. A missing key is a bug that tests catch; at run time it shows the key.
    A plural entry takes the form its `count` (else `n`) parameter asks for."""
    number = params.get("count", params.get("n"))
    if isinstance(number, int | float) and key in plurals(normalise(lang)):
        return tn(key, number, lang, **params)
    text = catalogue(normalise(lang)).get(key) or catalogue("en").get(key) or key
    return text.format(**params) if params else text


def tn(key: str, n: int | float, lang: str | None = None, /, **params: Any) -> str:
    """The plural entry `key` in the form `n` asks for in `lang` (gettext ngettext), formatted with `params`."""
    lang = normalise(lang)
    count = int(n) if float(n).is_integer() else 2  # a fraction reads as a plural in both languages
    for candidate in (lang, "en"):
        if key in plurals(candidate):
            text = _gnu(candidate).ngettext(key, key + PLURAL_SUFFIX, count)
            return text.format(**params) if params else text
    return key
