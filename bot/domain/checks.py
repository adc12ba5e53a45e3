"""Pre-publish checks on a draft reply: pure functions returning findings with positions in the draft.

Each check is a function of the text and a `CheckPolicy` (the company's words, confidential terms, staff
names, per-network length limits); the only I/O is the spelling dictionaries, loaded once. A community
manager may override any finding except `label_not_public`: an internal or confidential draft can never be
published, a new public version must be written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.domain.findings import Finding
from bot.domain.grammar import check_confusions
from bot.domain.personal_data import CODES as PERSONAL_DATA_CODES
from bot.domain.personal_data import find_personal_data
from bot.domain.spelling import SpellChecker, get_spellchecker, misspellings
from bot.domain.text import find_terms

__all__ = ["CODES", "CheckPolicy", "Finding", "GrammarChecker", "run_checks", "summary"]

CODES = ("spelling", "grammar", "confidential_term", *PERSONAL_DATA_CODES, "too_long", "label_not_public")
PRIVATE_LABELS = frozenset({"internal", "confidential"})
X_URL_LENGTH = 23  # X wraps every link in t.co and counts it as 23 characters, however long it is


# An outside grammar checker, injected by the caller (e.g. Grammalecte across a pipe): (text, language) -> findings.
GrammarChecker = Callable[[str, str], Iterable[Finding]]


@dataclass(frozen=True)
class CheckPolicy:
    company_words: frozenset[str] = frozenset()
    confidential_terms: tuple[str, ...] = ()
    employee_names: tuple[str, ...] = ()
    # None: no limit on that network. A network missing from the mapping has no limit either.
    network_limits: Mapping[str, int | None] = field(default_factory=lambda: MappingProxyType({"x": 280}))
    # The company's own phone numbers and e-mail addresses: never flagged as personal data in a reply.
    allowed_contacts: tuple[str, ...] = ()
    # Regions whose national phone numbers are read (international ones always are): the protocol's list.
    phone_regions: tuple[str, ...] = ("FR",)


# --- grammar ---------------------------------------------------------------------------------------------------

# Deliberately tiny: hunspell checks words, not agreement, and a grammar engine (Grammalecte, GPL-3) is more
# than we need. These are the mistakes that actually reach brand replies, where "nous" means the company:
# "nous sommes désolé" -> "désolés". Add a rule only with a test showing a real draft it catches.
# Adjectives and participles a brand says of itself; each takes "e" in the feminine and "s" in the plural.
_AGREEING = ("désolé", "navré", "ravi", "content", "certain", "conscient", "reconnaissant", "sûr", "prêt",
             "mobilisé", "touché", "déçu", "engagé", "vigilant")
_PLURAL_AGREEMENT = re.compile(
    r"\bnous\s+(?:sommes|étions|serons|serions|restons|demeurons)\s+"
    r"(?:(?:très|vraiment|sincèrement|profondément|tellement|si|absolument|bien|toujours|tous|toutes)\s+)?"
    r"(?P<adj>(?:" + "|".join(_AGREEING) + r")e?)(?![\w'\u2019])",
    re.IGNORECASE,
)
# "N'hésitez pas a nous écrire": "a" (has) for "à" (to); hunspell accepts both words.
_A_FOR_A = re.compile(r"\bhésitez\s+pas\s+(?P<a>a)\s", re.IGNORECASE)


def _plural(adjective: str) -> str:
    return adjective + ("S" if adjective.isupper() else "s")


def check_grammar(text: str, language: str) -> list[Finding]:
    if language != "fr":
        return check_confusions(text, language)
    found = [
        Finding("grammar", m.start("adj"), m.end("adj"), m["adj"], (_plural(m["adj"]),),
                {"rule": "nous_plural_agreement"})
        for m in _PLURAL_AGREEMENT.finditer(text)
    ]
    found += [
        Finding("grammar", m.start("a"), m.end("a"), m["a"], ("à",), {"rule": "a_for_preposition"})
        for m in _A_FOR_A.finditer(text)
    ]
    return found + check_confusions(text, language)


def _distinct(findings: Iterable[Finding], taken: list[Finding]) -> list[Finding]:
    """Grammar findings from several sources, one per span: the first to flag a span keeps it."""
    spans = {(f.start, f.end) for f in taken}
    kept = []
    for finding in findings:
        if finding.code == "grammar" and (finding.start, finding.end) not in spans:
            spans.add((finding.start, finding.end))
            kept.append(finding)
    return kept


# --- personal data: bot.domain.personal_data ------------------------------------------------------------------

_URL = re.compile(r"\bhttps?://\S+", re.IGNORECASE)


def _terms(code: str, text: str, terms: Iterable[str]) -> list[Finding]:
    return [Finding(code, s, e, text[s:e], params={"term": term}) for term, s, e in find_terms(text, terms)]


# --- length ----------------------------------------------------------------------------------------------------

def displayed_length(text: str, network: str) -> int:
    """Length as the network counts it. X: links count 23 each. (X also counts emoji and CJK as 2; ignored.)"""
    if network != "x":
        return len(text)
    return len(_URL.sub("x" * X_URL_LENGTH, text))


def _overflow_start(text: str, network: str, limit: int) -> int:
    """Index of the first character past the limit (a link straddling the limit counts from its start)."""
    count, position = 0, 0
    spans = [m.span() for m in _URL.finditer(text)] if network == "x" else []
    for start, end in [*spans, (len(text), len(text))]:
        if count + (start - position) > limit:
            return position + (limit - count)
        count += start - position
        if start < end:
            if count + X_URL_LENGTH > limit:
                return start
            count += X_URL_LENGTH
        position = end
    return len(text)


def check_length(text: str, network: str, limits: Mapping[str, int | None]) -> list[Finding]:
    limit = limits.get(network)
    length = displayed_length(text, network)
    if limit is None or length <= limit:
        return []
    start = _overflow_start(text, network, limit)
    return [Finding("too_long", start, len(text), text[start:],
                    params={"limit": limit, "length": length, "network": network})]


# --- all together ----------------------------------------------------------------------------------------------

def _overlaps(finding: Finding, others: list[Finding]) -> bool:
    return any(o.start is not None and o.start < finding.end and finding.start < o.end for o in others)


def run_checks(
    text: str,
    *,
    language: str,
    network: str,
    label: str,
    policy: CheckPolicy,
    spellchecker: SpellChecker | None = None,
    grammar: GrammarChecker | None = None,
    grammar_findings: Iterable[Finding] = (),
) -> list[Finding]:
    """Every finding on `text`, sorted by position (whole-draft findings first).

    `grammar` is an outside checker the caller runs for us (the domain never starts a process), and
    `grammar_findings` findings the caller already has; both are merged with Vigie's own grammar rules, one
    finding per span, and a word they flag is not also reported as a spelling mistake.
    """
    findings: list[Finding] = []
    if label in PRIVATE_LABELS:
        findings.append(Finding("label_not_public", None, None, label, params={"label": label},
                                overridable=False))
    findings += find_personal_data(text, employee_names=policy.employee_names, phone_regions=policy.phone_regions,
                                   allowed_contacts=policy.allowed_contacts)
    findings += _terms("confidential_term", text, policy.confidential_terms)
    findings += _distinct(check_grammar(text, language), findings)
    findings += _distinct(grammar_findings, findings)
    if grammar is not None:
        findings += _distinct(grammar(text, language), findings)
    findings += check_length(text, network, policy.network_limits)
    if language in ("fr", "en"):
        checker = spellchecker or get_spellchecker()
        # A name, a number or a grammar slip already flagged is not also a spelling error.
        flagged = [f for f in findings if f.code != "too_long"]
        for start, end, word, suggestions in misspellings(
            text, language, company_words=policy.company_words, checker=checker
        ):
            spelling = Finding("spelling", start, end, word, tuple(suggestions))
            if not _overlaps(spelling, flagged):
                findings.append(spelling)
    return sorted(findings, key=lambda f: (-1 if f.start is None else f.start, f.end or 0, f.code))


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each code, e.g. {"spelling": 2, "phone": 1}."""
    return dict(Counter(f.code for f in findings))
