"""`vigie check`: the findings a draft would get, for the people who write the protocol and the canned replies.

The same checks as the draft card (bot.domain.checks.run_checks with the protocol's policy), plus the outside
grammar tools found here: Grammalecte for French (bot.language.grammalecte, its own process) and a LanguageTool
server when VIGIE_LANGUAGETOOL_URL is set. `check_batch` reads one draft per JSON line (`{"text", "lang",
"network"}`) and yields one JSON result per line (`{"findings": [{"kind", "text", "start", "end",
"suggestions"}]}`), so a library of replies is checked with one warm Grammalecte worker.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from bot.domain import checks as rules
from bot.domain.checks import CheckPolicy, Finding, GrammarChecker
from bot.domain.spelling import SpellChecker
from bot.language.grammalecte import start_grammalecte
from bot.language.languagetool import connect

__all__ = ["DraftChecker", "check_batch", "finding_json", "outside_grammar", "policy_of"]

_outside: list[GrammarChecker] | None = None
_outside_lock = threading.Lock()


def outside_grammar(*, grammalecte_python: str | None = None,
                    languagetool_url: str | None = None) -> list[GrammarChecker]:
    """The outside grammar tools present here, started once per process (each logs whether it was found).

    The arguments are the VIGIE_GRAMMALECTE_PYTHON and VIGIE_LANGUAGETOOL_URL settings.
    """
    global _outside
    with _outside_lock:
        if _outside is None:
            found: list[GrammarChecker | None] = [start_grammalecte(grammalecte_python), connect(languagetool_url)]
            _outside = [checker for checker in found if checker is not None]
        return _outside


def policy_of(protocol: Any) -> CheckPolicy:
    """The check policy a protocol sets (the same as the draft card's)."""
    return CheckPolicy(
        company_words=frozenset(w.casefold() for w in protocol.checks.company_words),
        confidential_terms=tuple(protocol.checks.confidential_terms),
        employee_names=tuple(protocol.employee_names),
        network_limits=dict(protocol.networks),
        allowed_contacts=tuple(protocol.checks.allowed_contacts),
        phone_regions=tuple(protocol.checks.phone_regions),
    )


class DraftChecker:
    def __init__(self, policy: CheckPolicy | None = None, *, grammar: Iterable[GrammarChecker] | None = None,
                 spellchecker: SpellChecker | None = None) -> None:
        self.policy = policy or CheckPolicy()
        self.grammar = list(outside_grammar() if grammar is None else grammar)
        self.spellchecker = spellchecker

    def _outside(self, text: str, language: str) -> list[Finding]:
        return [finding for checker in self.grammar for finding in checker(text, language)]

    def check(self, text: str, *, language: str, network: str = "") -> list[Finding]:
        return rules.run_checks(text, language=language, network=network, label="public", policy=self.policy,
                                spellchecker=self.spellchecker, grammar=self._outside)


def finding_json(finding: Finding) -> dict[str, Any]:
    return {"kind": finding.code, "text": finding.text, "start": finding.start, "end": finding.end,
            "suggestions": list(finding.suggestions)}


def check_batch(lines: Iterable[str], checker: DraftChecker, *, language: str,
                network: str = "") -> Iterator[tuple[str, int]]:
    """(JSON result line, number of findings) per input line; a line that is not a draft gets `{"error"}`."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            draft = json.loads(line)
            text = draft["text"]
            lang = draft.get("lang") or language
            if not isinstance(text, str) or lang not in ("fr", "en"):
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError):
            yield json.dumps({"line": number, "error": "not a draft: {\"text\", \"lang\", \"network\"}"}), 1
            continue
        found = checker.check(text, language=lang, network=str(draft.get("network") or network))
        yield json.dumps({"findings": [finding_json(f) for f in found]}, ensure_ascii=False), len(found)
