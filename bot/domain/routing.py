"""Triage: which team gets a mention, and how severe it is. A pure function of the mention and the routing table.

The table (`RoutingTable`) is plain data: the protocol layer builds it from the protocol file
(`bot.protocol.load.routing_table`) and caches one router per protocol (`bot.protocol.load.router_for`).

No I/O, no clock: the same mention and protocol always give the same answer, which makes the rule easy to
test and its decisions easy to explain. Each decision carries `reasons` (codes plus JSON parameters) that
the Slack card renders through i18n and the audit log stores as they are.

(The one exception to "no I/O": lingua loads its models on the first detection of the
process; pass `detect=` to `Router` to avoid it in tests.)
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.domain.language import detect_language
from bot.domain.sentiment import CueMatcher, Tone, tone
from bot.domain.text import Folded, TermMatcher, compile_terms
from bot.domain.workflow import Severity

__all__ = ["Reason", "ReasonCode", "RouteRule", "Router", "RoutingTable", "SeverityRules", "Triage"]

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
    severity_tone = "severity.tone"  # {score: -100..100, severity}: a negative tone
    severity_tone_strong = "severity.tone_strong"  # {score, severity}: a very negative tone
    severity_tone_vendor = "severity.tone_vendor"  # {source, severity}: the monitoring tool said "negative"
    severity_storm = "severity.storm"  # {copies, severity}: the story has grown to this many copies


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
class RouteRule:
    """Send mentions to `team` when they contain one of `keywords` or match one of `patterns`; `sources` and
    `languages`, when not empty, restrict the rule (a rule with sources only takes every mention from them)."""

    team: str
    keywords: tuple[str, ...] = ()
    patterns: tuple[tuple[str, re.Pattern[str]], ...] = ()  # (as written, compiled case-insensitive)
    sources: frozenset[str] = frozenset()  # lowercased
    languages: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SeverityRules:
    """How severe a mention is: `default`, raised by reach thresholds, negative cues and crisis words."""

    default: Severity = Severity.low
    reach: tuple[tuple[int, Severity], ...] = ()  # (at least this many people reached, severity)
    negative_raise_by: int = 1
    negative_words: tuple[str, ...] = ()
    crisis_severity: Severity = Severity.critical
    crisis_words: tuple[str, ...] = ()
    # The text's tone (bot.domain.sentiment) raises like negative words: 1 level when negative, 2 when very
    # negative, never above high.
    tone: bool = True
    # A story reaching this many copies (a storm) raises its severity to at least this level.
    storm: tuple[tuple[int, Severity], ...] = ((10, Severity.medium), (30, Severity.high))


@dataclass(frozen=True)
class RoutingTable:
    """Everything triage needs from the protocol, as plain data."""

    teams: frozenset[str]
    default_team: str
    rules: tuple[RouteRule, ...] = ()
    severity: SeverityRules = SeverityRules()


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
    """A routing table compiled once; `triage` then costs one scan of the text per term list."""

    def __init__(self, table: RoutingTable, *, detect: Callable[[str], str | None] = detect_language):
        self._teams = table.teams
        self._default_team = table.default_team
        self._policy = table.severity
        self._detect = detect
        self._rules = tuple(
            _Rule(
                team=rule.team,
                keywords=compile_terms(rule.keywords),
                patterns=rule.patterns,
                sources=rule.sources,
                languages=rule.languages,
            )
            for rule in table.rules
        )
        # Negative and crisis words are found in any inflected form (Snowball stems), not when negated.
        self._negative = CueMatcher.of(self._policy.negative_words)
        self._crisis = CueMatcher.of(self._policy.crisis_words)

    def triage(
        self,
        *,
        text: str,
        source: str,
        language: str | None,
        reach: int | None,
        tags: Sequence[str] = (),
        forced_team: str | None = None,
        sentiment: str | None = None,
    ) -> Triage:
        """Decide the team and severity of one mention.

        `language` given by the source is trusted (language_detected=False); when None it is detected.
        `tags` from the monitoring tool are searched like the text. A rule applies when its sources and
        languages (if any) hold; its score is the number of distinct keywords and patterns found (1 for a
        sources-only rule); the best score wins, the earlier rule on a tie; nothing found: default_team.
        `sentiment` is the tool's own ("negative", "neutral", "positive"): a "negative" raises the severity like
        a negative tone of the text (one level), whichever of the two is stronger.
        """
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
        severity = self._severity(searchable, text, language, reach, reasons,
                                  vendor_negative=sentiment == "negative", source=source.strip())
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

    def _severity(
        self, searchable: str, text: str, language: str | None, reach: int | None, reasons: list[Reason],
        *, vendor_negative: bool = False, source: str = "",
    ) -> Severity:
        """`searchable` (text and tags) for the listed words, `text` alone for the tone."""
        policy = self._policy
        severity = policy.default
        reasons.append(Reason(ReasonCode.severity_default, {"severity": severity.value}))

        if reach is not None:
            met = [(at_least, level) for at_least, level in policy.reach if reach >= at_least]
            if met:
                threshold, top = max(met, key=lambda t: (t[1].rank, t[0]))
                if top.rank > severity.rank:
                    severity = top
                    reasons.append(
                        Reason(
                            ReasonCode.severity_reach,
                            {"reach": reach, "threshold": threshold, "severity": severity.value},
                        )
                    )

        # Capped at high: anger alone never makes a crisis; only crisis words (or a reach threshold the
        # company set to critical) do. Words and tone do not add up: the stronger of the two raises.
        negative = self._negative.find(searchable)
        mood = tone(text, language) if policy.tone else Tone(0.0, language)
        by_words = policy.negative_raise_by if negative else 0
        by_tone = 2 if mood.very_negative else 1 if mood.negative else 0
        # The tool's "negative" counts as a negative tone: our own reading of the text wins when stronger.
        vendor = vendor_negative and policy.tone and by_tone == 0
        by_tone = max(by_tone, 1 if vendor else 0)
        base = severity
        if negative:
            severity = _raise(base, by_words)
            reasons.append(
                Reason(ReasonCode.severity_negative, {"words": negative, "severity": severity.value})
            )
        if by_tone:
            raised = _raise(base, by_tone)
            if raised.rank > severity.rank or not negative:
                severity = _SEVERITIES[max(severity.rank, raised.rank)]
                if vendor:
                    reasons.append(Reason(ReasonCode.severity_tone_vendor,
                                          {"source": source, "severity": severity.value}))
                else:
                    code = ReasonCode.severity_tone_strong if mood.very_negative else ReasonCode.severity_tone
                    reasons.append(Reason(code, {"score": round(mood.score * 100), "severity": severity.value}))

        crisis = self._crisis.find(searchable)
        if crisis:
            severity = _SEVERITIES[max(severity.rank, policy.crisis_severity.rank)]
            reasons.append(
                Reason(ReasonCode.severity_crisis_word, {"words": crisis, "severity": severity.value})
            )
        return severity

    def storm(self, severity: Severity, copies: int) -> tuple[Severity, Reason | None]:
        """The severity of a story of `copies` mentions (its first one included) now at `severity`: raised to
        the highest storm threshold met, with its reason; unchanged (and None) when no threshold raises it."""
        met = [level for at_least, level in self._policy.storm if copies >= at_least]
        if not met:
            return severity, None
        top = max(met, key=lambda level: level.rank)
        if top.rank <= severity.rank:
            return severity, None
        return top, Reason(ReasonCode.severity_storm, {"copies": copies, "severity": top.value})


def _raise(severity: Severity, by: int) -> Severity:
    """`severity` raised `by` levels, never above high (and never lowered)."""
    raised = min(severity.rank + by, Severity.high.rank)
    return _SEVERITIES[max(severity.rank, raised)]
