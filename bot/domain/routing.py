"""Triage: which team gets a mention, and how severe it is. A pure function of the mention and the protocol.

No I/O, no clock: the same mention and protocol always give the same answer, which makes the rule easy to
test and its decisions easy to explain. Each decision carries `reasons` (codes plus JSON parameters) that
the Slack card renders through i18n and the audit log stores as they are.

(The one exception to "no I/O": lingua loads its models on the first detection of the
process; pass `detect=` to `Router` to avoid it in tests.)
"""

from __future__ import annotations

import copy
import re
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.language import detect_language
from bot.domain.text import Folded, TermMatcher, compile_terms
from bot.protocol.schema import Protocol
from bot.store.models import Severity

__all__ = ["Reason", "ReasonCode", "Router", "Triage", "router_for", "triage"]

_SEVERITIES = list(Severity)
# Tags are searched with the text; this separator keeps "cours de" + tag "bourse" from making a phrase.
_TAG_SEPARATOR = " | "


class ReasonCode(StrEnum):
    route_keyword = "route.keyword"  # {team, keywords: [...]}
    route_pattern = "route.pattern"  # {team, patterns: [...]}
    route_source = "route.source"  # {team, source}
    route_forced = "route.forced"  # {team}: the feed sends everything to this team
    route_default = "route.default"  # {team}: no rule matched
    lang_detected = "lang.detected"  # {language}
    lang_unknown = "lang.unknown"  # {}: no language given and detection unsure
    severity_default = "severity.default"  # {severity}
    severity_reach = "severity.reach"  # {reach, threshold, severity}
    severity_negative = "severity.negative"  # {words: [...], severity}
    severity_crisis_word = "severity.crisis_word"  # {words: [...], severity}


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    params: dict[str, Any] = field(default_factory=dict)  # JSON values only: str, int, lists of str

    def to_dict(self) -> dict[str, Any]:
        return {"code": str(self.code), "params": copy.deepcopy(self.params)}


@dataclass(frozen=True)
class Triage:
    team: str
    severity: Severity
    language: str | None
    language_detected: bool  # True when `language` comes from detection rather than from the source
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class _Rule:
    team: str
    keywords: TermMatcher
    patterns: tuple[tuple[str, re.Pattern[str]], ...]  # (as written, compiled)
    sources: frozenset[str]
    languages: frozenset[str]

    @property
    def by_source_only(self) -> bool:
        return not self.keywords.terms and not self.patterns


def _distinct(items: Sequence[tuple[str, int, int]]) -> list[str]:
    return list(dict.fromkeys(term for term, _, _ in items))


class Router:
    """A protocol's rules compiled once; `triage` then costs one scan of the text per term list."""

    def __init__(self, protocol: Protocol, *, detect: Callable[[str], str | None] = detect_language):
        # Only parts of the protocol are kept, not the protocol itself: `router_for` caches routers for as
        # long as their protocol lives, which a reference from here would make forever.
        self._teams = frozenset(protocol.teams)
        self._default_team = protocol.default_team
        self._policy = protocol.severity
        self._detect = detect
        self._rules = tuple(
            _Rule(
                team=rule.team,
                keywords=compile_terms(tuple(rule.keywords)),
                patterns=tuple(zip(rule.patterns, rule.compiled_patterns, strict=True)),
                sources=frozenset(rule.sources),  # already lowercased by the protocol
                languages=frozenset(rule.languages),
            )
            for rule in protocol.routing
        )
        self._negative = compile_terms(tuple(self._policy.negative_cues.words))
        self._crisis = compile_terms(tuple(self._policy.crisis_words.words))

    def triage(
        self,
        *,
        text: str,
        source: str,
        language: str | None,
        reach: int | None,
        tags: Sequence[str] = (),
        forced_team: str | None = None,
    ) -> Triage:
        reasons: list[Reason] = []
        language = (language or "").strip().lower() or None
        detected = False
        if language is None:
            language = self._detect(text)
            detected = language is not None
            if detected:
                reasons.append(Reason(ReasonCode.lang_detected, {"language": language}))
            else:
                reasons.append(Reason(ReasonCode.lang_unknown, {}))

        searchable = _TAG_SEPARATOR.join([text, *tags]) if tags else text
        folded = Folded(searchable)  # folded once, scanned by every term list
        team = self._route(folded, source.strip().lower(), language, forced_team, reasons)
        severity = self._severity(folded, reach, reasons)
        return Triage(team, severity, language, detected, tuple(reasons))

    def _route(
        self,
        folded: Folded,
        source: str,
        language: str | None,
        forced_team: str | None,
        reasons: list[Reason],
    ) -> str:
        # An unknown forced team (stale feed setting) is ignored: routing by words beats losing the mention.
        if forced_team is not None and forced_team in self._teams:
            reasons.append(Reason(ReasonCode.route_forced, {"team": forced_team}))
            return forced_team

        best: tuple[int, _Rule, list[str], list[str]] | None = None
        for rule in self._rules:
            if rule.sources and source not in rule.sources:
                continue
            if rule.languages and language not in rule.languages:
                continue
            if rule.by_source_only:
                keywords, patterns, score = [], [], 1
            else:
                # With keywords or patterns, sources only narrow the rule: a word must still be found.
                keywords = _distinct(rule.keywords.find(folded))
                patterns = [written for written, regex in rule.patterns if regex.search(folded.original)]
                score = len(keywords) + len(patterns)
                if score == 0:
                    continue
            if best is None or score > best[0]:  # strictly more: on a tie the earlier rule keeps it
                best = (score, rule, keywords, patterns)

        if best is None:
            team = self._default_team
            reasons.append(Reason(ReasonCode.route_default, {"team": team}))
            return team
        _, rule, keywords, patterns = best
        if keywords:
            reasons.append(Reason(ReasonCode.route_keyword, {"team": rule.team, "keywords": keywords}))
        if patterns:
            reasons.append(Reason(ReasonCode.route_pattern, {"team": rule.team, "patterns": patterns}))
        if rule.sources:
            reasons.append(Reason(ReasonCode.route_source, {"team": rule.team, "source": source}))
        return rule.team

    def _severity(self, folded: Folded, reach: int | None, reasons: list[Reason]) -> Severity:
        policy = self._policy
        severity = policy.default
        reasons.append(Reason(ReasonCode.severity_default, {"severity": severity.value}))

        if reach is not None:
            met = [t for t in policy.reach if reach >= t.at_least]
            if met:
                top = max(met, key=lambda t: (t.severity.rank, t.at_least))
                if top.severity.rank > severity.rank:
                    severity = top.severity
                    reasons.append(
                        Reason(
                            ReasonCode.severity_reach,
                            {"reach": reach, "threshold": top.at_least, "severity": severity.value},
                        )
                    )

        negative = _distinct(self._negative.find(folded))
        if negative:
            # Capped at high: angry words alone never make a crisis; only crisis words (or a reach threshold
            # the company set to critical) do.
            raised = min(severity.rank + policy.negative_cues.raise_by, Severity.high.rank)
            severity = _SEVERITIES[max(severity.rank, raised)]
            reasons.append(
                Reason(ReasonCode.severity_negative, {"words": negative, "severity": severity.value})
            )

        crisis = _distinct(self._crisis.find(folded))
        if crisis:
            severity = _SEVERITIES[max(severity.rank, policy.crisis_words.severity.rank)]
            reasons.append(
                Reason(ReasonCode.severity_crisis_word, {"words": crisis, "severity": severity.value})
            )
        return severity


# Routers by protocol identity: a Protocol is frozen, so its compiled router never goes stale. The weak
# reference drops the router with its protocol (and proves a reused id() is not a different protocol).
_routers: dict[int, tuple[weakref.ref[Protocol], Router]] = {}


def router_for(protocol: Protocol) -> Router:
    """The compiled router of `protocol`, built on first use."""
    key, routers = id(protocol), _routers  # the callback keeps its own reference: globals vanish at exit
    entry = routers.get(key)
    if entry is not None and entry[0]() is protocol:
        return entry[1]
    router = Router(protocol)

    def forget(ref: weakref.ref[Protocol]) -> None:
        if routers.get(key, (None,))[0] is ref:
            routers.pop(key, None)

    # Two threads may build a router for the same protocol at once: both are equal, either may stay.
    routers[key] = (weakref.ref(protocol, forget), router)
    return router


def triage(
    *,
    text: str,
    source: str,
    language: str | None,
    reach: int | None,
    tags: Sequence[str],
    protocol: Protocol,
    forced_team: str | None = None,
) -> Triage:
    """Decide the team and severity of one mention. See `Router.triage`; the router is built once per protocol.

    `language` given by the source is trusted (language_detected=False); when None it is detected.
    `tags` from the monitoring tool are searched like the text. A rule applies when its sources and
    languages (if any) hold; its score is the number of distinct keywords and patterns found (1 for a
    sources-only rule); the best score wins, the earlier rule on a tie; nothing found: default_team.
    """
    return router_for(protocol).triage(
        text=text, source=source, language=language, reach=reach, tags=tags, forced_team=forced_team
    )
