"""Personal data in a draft reply: pure functions returning findings with their position in the draft.

Kinds (each a finding code): `email` (also written "jean [at] example.com", "marie arobase exemple point fr"),
`phone` (French and international numbers, and national numbers of the regions the protocol lists),
`nir` (French social security number, its key checked), `card` (13 to 19 digits, Luhn and a card issuer's
prefix), `iban` (any case, the country's length and check digits), `employee_name` (a roster name in any
order, with or without hyphens, or the surname after a title: "M. Leroy").

Precision first: every number is checked (key, Luhn, mod 97, libphonenumber's metadata), digits glued to a
letter, a "#" or a "n°" are a reference, and a SIRET (14 digits whose first nine, the SIREN, also pass Luhn)
is a company id, not a card.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import phonenumbers
from stdnum import iban as std_iban
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.fr import nir as std_nir

from bot.domain.findings import Finding
from bot.domain.text import find_terms

__all__ = ["CODES", "allowed", "contact_keys", "find_personal_data"]

CODES = ("email", "phone", "iban", "nir", "card", "employee_name")

_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)


def _is_reference(text: str, start: int) -> bool:
    """Digits right after "#" or "n°" are a reference (an order, a ticket, a hashtag), not personal data."""
    before = text[:start].rstrip()
    return before.endswith(("#", "°", "º"))


def _in_url(start: int, urls: Sequence[tuple[int, int]]) -> bool:
    return any(s <= start < e for s, e in urls)


# --- e-mail addresses ------------------------------------------------------------------------------------------

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_BRACKETED = rf"\s*{_OPEN}\s*(?:at|arobase|@)\s*{_CLOSE}\s*"
_AT_WORD = r"\s+(?:at|arobase|chez)\s+"
_AT = rf"(?:@|[ ]@[ ]|{_AT_BRACKETED}|{_AT_WORD})"
_DOT_WORD = rf"(?:\s*{_OPEN}\s*(?:dot|point)\s*{_CLOSE}\s*|\s+(?:dot|point)\s+)"
_DOT = rf"(?:\.|{_DOT_WORD})"
_LABEL = r"[^\W_](?:[\w-]*[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![\w.+@-])(?P<local>[\w+-]+(?:{_DOT}[\w+-]+)*)(?P<at>{_AT})"
    rf"(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?P<tld>[^\W\d_]{{2,}}))(?![\w-])",
    re.IGNORECASE,
)
_DOT_ANY = re.compile(_DOT_WORD + r"|\.", re.IGNORECASE)
# A spelled-out address ends with a real top-level domain: "livré chez vous point relais" is not an address.
_TLDS = frozenset({
    "com", "net", "org", "info", "biz", "io", "co", "eu", "fr", "be", "ch", "lu", "de", "uk", "es", "it", "nl",
    "pt", "at", "ca", "us", "bzh", "paris", "corsica", "alsace", "re", "gp", "mq", "yt", "nc", "pf", "ma",
    "tn", "dz", "sn", "ci", "cm", "pl", "se", "dk", "no", "fi", "ie", "gr", "cz", "ro", "hu", "me", "tv",
    "app", "dev", "email", "online", "shop",
})


def _email_finding(match: re.Match[str]) -> Finding | None:
    at = match["at"].strip().strip("[](){}<> ").casefold()
    obfuscated = at != "@" or bool(re.search(_DOT_WORD, match["domain"] + match["local"], re.IGNORECASE))
    if obfuscated and match["tld"].casefold() not in _TLDS:
        return None
    if at in ("at", "chez") and not re.search(r"[\[\(\{<]", match["at"]):
        # "at" and "chez" are everyday words: "shop at amazon.com" is not an address. Spelled out, the address
        # says so by an uppercase AT, a spelled-out dot in the domain, or a local part no word has.
        spelled_dot = re.search(_DOT_WORD, match["domain"], re.IGNORECASE) is not None
        if not (match["at"].strip() == "AT" or spelled_dot or re.search(r"[._+\d]", match["local"])):
            return None
    local = _DOT_ANY.sub(".", match["local"])
    domain = _DOT_ANY.sub(".", match["domain"])
    return Finding("email", match.start(), match.end(), match.group(),
                   params={"address": f"{local}@{domain}".casefold()})


def find_emails(text: str) -> list[Finding]:
    found, position = [], 0
    while (match := _EMAIL.search(text, position)) is not None:
        finding = _email_finding(match)
        if finding is not None:
            found.append(finding)
            position = match.end()
        else:  # "I'm at priya.patel@example.com": "m at priya" was not an address, the rest may be one
            position = match.end("local") + 1
    return found


# --- IBAN ------------------------------------------------------------------------------------------------------

# Country code, check digits, then letters and digits, grouped or not; the valid prefix ending on a group is kept.
_IBAN = re.compile(r"(?<![\w#°])[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]){11,30}")


def _iban_valid(compact: str) -> bool:
    """Check digits (mod 97), the country's length and the shape of its account part. Not the national
    checks: python-stdnum's Belgian one, for one, also wants the bank code in its (dated) list of banks."""
    try:
        std_iban.validate(compact, check_country=False)
    except ValidationError:
        return False
    return True


def find_ibans(text: str) -> list[Finding]:
    found = []
    for match in _IBAN.finditer(text):
        raw, start = match.group(), match.start()
        # The match may run into the next word or a following group of digits ("... 7034 2026"): try the longest
        # valid prefix that ends a word.
        for end in range(len(raw), 14, -1):
            if raw[end - 1] == " " or (start + end < len(text) and text[start + end].isalnum()):
                continue
            compact = raw[:end].replace(" ", "").upper()
            if _iban_valid(compact):
                found.append(Finding("iban", start, start + end, raw[:end]))
                break
    return found


# --- numbers: NIR and cards ------------------------------------------------------------------------------------

# Groups of digits separated by one space, dot or dash; a run starts and ends at a word boundary.
_RUN = re.compile(r"(?<![\w#°º.,/-])\d+(?:[ .-]\d+)*(?![\w/])")
_GROUP = re.compile(r"\d+")
# Card issuers' prefixes (IIN) and their lengths: Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro.
_ISSUERS = (
    (re.compile(r"4"), (13, 16, 19)),
    (re.compile(r"5[1-5]|222[1-9]|22[3-9]\d|2[3-6]\d\d|27[01]\d|2720"), (16,)),
    (re.compile(r"3[47]"), (15,)),
    (re.compile(r"6011|64[4-9]|65"), (16, 17, 18, 19)),
    (re.compile(r"30[0-5]|36|38|39"), (14, 15, 16, 17, 18, 19)),
    (re.compile(r"35(?:2[89]|[3-8]\d)"), (16, 17, 18, 19)),
    (re.compile(r"62"), (16, 17, 18, 19)),
    (re.compile(r"50|5[6-9]|6[0-9]"), (12, 13, 14, 15, 16, 17, 18, 19)),
)
_COMPANY_ID = re.compile(r"\b(?:siret|siren|rcs|tva|vat|n°\s*tva)\b[\s:°n.]*$", re.IGNORECASE)


def _is_card(digits: str) -> bool:
    if not 13 <= len(digits) <= 19 or not luhn.is_valid(digits):
        return False
    if len(digits) == 14 and luhn.is_valid(digits[:9]):
        return False  # a SIRET: its SIREN passes Luhn too
    return any(prefix.match(digits) and len(digits) in lengths for prefix, lengths in _ISSUERS)


def _is_nir(digits: str) -> bool:
    return len(digits) == 15 and digits[0] in "12378" and std_nir.is_valid(digits)


def find_numbers(text: str) -> list[Finding]:
    """NIR and card numbers: within each run of digit groups, the longest valid stretch of whole groups."""
    urls = [m.span() for m in _URL.finditer(text)]
    found = []
    for run in _RUN.finditer(text):
        if _is_reference(text, run.start()) or _in_url(run.start(), urls):
            continue
        if _COMPANY_ID.search(text[max(0, run.start() - 20):run.start()]):
            continue
        groups = [(run.start() + m.start(), run.start() + m.end()) for m in _GROUP.finditer(run.group())]
        i = 0
        while i < len(groups):
            for j in range(len(groups) - 1, i - 1, -1):
                start, end = groups[i][0], groups[j][1]
                digits = "".join(text[s:e] for s, e in groups[i:j + 1])
                code = "nir" if _is_nir(digits) else "card" if _is_card(digits) else None
                if code is not None:
                    found.append(Finding(code, start, end, text[start:end]))
                    i = j
                    break
            i += 1
    return found


# --- phone numbers ---------------------------------------------------------------------------------------------

def _leniency(region: str) -> phonenumbers.Leniency:
    """Where national numbers start with a trunk 0 (most of Europe), that 0 marks them; elsewhere (the United
    States: "212-555-0187") the digits must also be grouped as the country writes them, so that an order
    number "2026 0412 77" is not a call to Washington."""
    prefix = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if prefix is not None and prefix.national_prefix == "0":
        return phonenumbers.Leniency.VALID
    return phonenumbers.Leniency.STRICT_GROUPING


def _glued(text: str, start: int) -> bool:
    """Digits glued to letters or a dash before them are part of a reference: "AR-2026-004512"."""
    return start > 0 and (text[start - 1].isalnum() or text[start - 1] in "-_/")


def find_phones(text: str, regions: Sequence[str] = ("FR",)) -> list[Finding]:
    """Valid numbers (libphonenumber's metadata): international ones, and national ones of each region.

    Leniency VALID rejects "commande 123456789" (no trunk 0), dates and prices. Digits right after "#" or
    "n°" are a reference, not a number to call; digits inside a link are part of the link.
    """
    urls = [m.span() for m in _URL.finditer(text)]
    found: list[Finding] = []
    # An unknown region is ignored; with none, only international numbers ("+32 ...") are read.
    known = [r.upper() for r in regions if r.upper() in phonenumbers.SUPPORTED_REGIONS] or ["ZZ"]
    for region in known:
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=_leniency(region)):
            if _is_reference(text, match.start) or _in_url(match.start, urls) or _glued(text, match.start):
                continue
            if any(f.start < match.end and match.start < f.end for f in found):
                continue  # already read as a number of an earlier region
            e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
            found.append(Finding("phone", match.start, match.end, match.raw_string, params={"e164": e164}))
    return found


# --- employee names --------------------------------------------------------------------------------------------

_TITLES = ("M.", "M", "Mme", "Mme.", "Mlle", "Monsieur", "Madame", "Mademoiselle", "Mr", "Mr.", "Mrs", "Mrs.",
           "Ms", "Ms.", "Miss", "Mx", "Dr", "Dr.")


def name_variants(name: str) -> dict[str, str]:
    """The ways a roster name is written, each mapped to the name: "Jean-Baptiste Leroy" -> "Jean Baptiste
    Leroy", "Leroy Jean-Baptiste", "M. Leroy"... The first word is the given name, the rest the surname."""
    words = name.split()
    variants = {name: name}
    if len(words) < 2:
        return variants  # a single name already matches on its own
    given, surname = words[0], " ".join(words[1:])
    for g in {given, given.replace("-", " ")}:
        for s in {surname, surname.replace("-", " ")}:
            variants.setdefault(f"{g} {s}", name)
            variants.setdefault(f"{s} {g}", name)
    for title in _TITLES:
        variants.setdefault(f"{title} {surname}", name)
    return variants


def find_names(text: str, names: Iterable[str]) -> list[Finding]:
    variants: dict[str, str] = {}
    for name in names:
        for variant, original in name_variants(name).items():
            variants.setdefault(variant, original)
    return [Finding("employee_name", s, e, text[s:e], params={"term": variants[variant]})
            for variant, s, e in find_terms(text, variants)]


# --- all together ----------------------------------------------------------------------------------------------

def contact_keys(contacts: Iterable[str], regions: Sequence[str] = ("FR",)) -> frozenset[str]:
    """E-mail addresses case-folded, phone numbers as E.164 ("01 23 45 67 89" -> "+33123456789")."""
    keys = set()
    for contact in contacts:
        contact = contact.strip()
        if "@" in contact:
            keys.add(contact.casefold())
            continue
        for region in [*regions, "ZZ"]:
            try:
                number = phonenumbers.parse(contact, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                keys.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
                break
    return frozenset(keys)


def allowed(finding: Finding, keys: frozenset[str]) -> bool:
    """Whether a finding is one of the company's own contacts (`contact_keys`)."""
    if finding.code == "email":
        return finding.params.get("address", finding.text.casefold()) in keys
    return finding.code == "phone" and finding.params.get("e164") in keys


def _overlaps(finding: Finding, others: Iterable[Finding]) -> bool:
    return any(o.start is not None and o.start < finding.end and finding.start < o.end for o in others)


def find_personal_data(text: str, *, employee_names: Iterable[str] = (), phone_regions: Sequence[str] = ("FR",),
                       allowed_contacts: Iterable[str] = ()) -> list[Finding]:
    """Every personal datum in `text`, sorted by position; one finding per span, the most specific kind first
    (an IBAN's or a card's digit groups are not also a phone number)."""
    findings: list[Finding] = []
    for kind in (find_ibans(text), find_numbers(text), find_emails(text), find_phones(text, phone_regions)):
        findings += [f for f in kind if not _overlaps(f, findings)]
    contacts = tuple(allowed_contacts)
    if contacts:
        keys = contact_keys(contacts, phone_regions)
        findings = [f for f in findings if not allowed(f, keys)]
    findings += find_names(text, employee_names)
    return sorted(findings, key=lambda f: (f.start, f.end, f.code))
