"""Language cells as exports write them -> ISO 639-1: "fr", "fr-FR", "fra", "fre", "French", "Français" -> "fr".

Meltwater and Radian6 write the English name, Agorapulse's French interface the French one, Synthesio the
ISO 639-3 code, most others the two-letter code (sometimes with a region). Matching ignores case and accents.
"""

from __future__ import annotations

import re
import unicodedata

# ISO 639-1: (ISO 639-2/B, ISO 639-2/T = 639-3, English name, French name), for the languages monitoring tools
# report most; anything else two-letter still passes as its own code.
_LANGUAGES: dict[str, tuple[str, ...]] = {
    "fr": ("fre", "fra", "french", "francais"),
    "en": ("eng", "english", "anglais"),
    "de": ("ger", "deu", "german", "allemand", "deutsch"),
    "es": ("spa", "spanish", "espagnol", "espanol"),
    "it": ("ita", "italian", "italien", "italiano"),
    "pt": ("por", "portuguese", "portugais", "portugues"),
    "nl": ("dut", "nld", "dutch", "neerlandais", "nederlands", "flemish", "flamand"),
    "ar": ("ara", "arabic", "arabe"),
    "zh": ("chi", "zho", "chinese", "chinois"),
    "ja": ("jpn", "japanese", "japonais"),
    "ko": ("kor", "korean", "coreen"),
    "ru": ("rus", "russian", "russe"),
    "pl": ("pol", "polish", "polonais"),
    "tr": ("tur", "turkish", "turc"),
    "sv": ("swe", "swedish", "suedois"),
    "da": ("dan", "danish", "danois"),
    "no": ("nor", "norwegian", "norvegien"),
    "nb": ("nob", "norwegian bokmal", "norvegien bokmal"),
    "fi": ("fin", "finnish", "finnois"),
    "el": ("gre", "ell", "greek", "grec"),
    "cs": ("cze", "ces", "czech", "tcheque"),
    "ro": ("rum", "ron", "romanian", "roumain"),
    "hu": ("hun", "hungarian", "hongrois"),
    "uk": ("ukr", "ukrainian", "ukrainien"),
    "he": ("heb", "hebrew", "hebreu"),
    "hi": ("hin", "hindi"),
    "id": ("ind", "indonesian", "indonesien"),
    "ms": ("may", "msa", "malay", "malais"),
    "th": ("tha", "thai", "thailandais"),
    "vi": ("vie", "vietnamese", "vietnamien"),
    "ca": ("cat", "catalan"),
    "eu": ("baq", "eus", "basque"),
    "br": ("bre", "breton"),
    "co": ("cos", "corsican", "corse"),
    "oc": ("oci", "occitan"),
    "lb": ("ltz", "luxembourgish", "luxembourgeois"),
    "ga": ("gle", "irish", "irlandais"),
    "cy": ("wel", "cym", "welsh", "gallois"),
    "fa": ("per", "fas", "persian", "persan", "farsi"),
    "ur": ("urd", "urdu", "ourdou"),
    "bn": ("ben", "bengali"),
    "sw": ("swa", "swahili"),
    "hr": ("hrv", "croatian", "croate"),
    "sr": ("srp", "serbian", "serbe"),
    "sk": ("slo", "slk", "slovak", "slovaque"),
    "sl": ("slv", "slovenian", "slovene"),
    "bg": ("bul", "bulgarian", "bulgare"),
    "lt": ("lit", "lithuanian", "lituanien"),
    "lv": ("lav", "latvian", "letton"),
    "et": ("est", "estonian", "estonien"),
    "is": ("ice", "isl", "icelandic", "islandais"),
    "tl": ("tgl", "tagalog"),
}
_BY_NAME = {name: code for code, names in _LANGUAGES.items() for name in names}


def language_code(value: str | None) -> str | None:
    """ISO 639-1 code of a language cell (see the module docstring); None when it names no language."""
    decomposed = unicodedata.normalize("NFKD", (value or "").strip().lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = re.sub(r"[\s_-]+", " ", plain).strip()
    if plain in _BY_NAME:
        return _BY_NAME[plain]
    tag = re.fullmatch(r"([a-z]{2,3})(?: [a-z0-9]+)*", plain)  # "fr-FR", "fra_FR", "en gb"
    if tag:
        code = tag[1]
        return code if len(code) == 2 else _BY_NAME.get(code)
    return None
