from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.routing import Reason, ReasonCode, Router, RouteRule, RoutingTable, SeverityRules, Triage
from bot.domain.workflow import Severity
from bot.protocol import load
from bot.protocol.load import EXAMPLE_PROTOCOL, load_protocol, router_for, routing_table, triage
from bot.protocol.schema import Protocol


def make_protocol(**overrides: Any) -> Protocol:
    data: dict[str, Any] = {
        "version": 1,
        "community_managers": ["U0CM00001"],
        "teams": {
            key: {"name": key.title(), "channel": f"#veille-{key}"}
            for key in ("general", "finance", "legal", "hr")
        },
        "default_team": "general",
        "routing": [
            {"team": "legal", "keywords": ["procès", "avocat", "RGPD", "lawsuit"]},
            {"team": "finance", "keywords": ["résultats", "dividende", "cours de bourse", "earnings"]},
            {"team": "hr", "keywords": ["grève", "salaire", "strike"]},
        ],
        "severity": {
            "default": "low",
            "reach": [{"at_least": 10_000, "severity": "medium"}, {"at_least": 100_000, "severity": "high"}],
            "negative_cues": {"raise_by": 1, "words": ["déçu", "honteux", "disappointed"]},
            "crisis_words": {"severity": "critical", "words": ["boycott", "rappel produit", "data breach"]},
        },
    }
    data.update(overrides)
    return Protocol.model_validate(data)


PROTOCOL = make_protocol()


def run(
    text: str,
    *,
    protocol: Protocol = PROTOCOL,
    source: str = "twitter",
    language: str | None = "fr",
    reach: int | None = None,
    tags: list[str] | None = None,
    forced_team: str | None = None,
) -> Triage:
    return triage(
        text=text,
        source=source,
        language=language,
        reach=reach,
        tags=tags or [],
        protocol=protocol,
        forced_team=forced_team,
    )


def codes(result: Triage) -> list[str]:
    return [str(r.code) for r in result.reasons]


def reason(result: Triage, code: ReasonCode) -> dict[str, Any]:
    [found] = [r.params for r in result.reasons if r.code == code]
    return found


# --- teams -------------------------------------------------------------------------------------------------


def test_french_keyword_routes_to_its_team() -> None:
    result = run("Armorine publie ses résultats annuels")
    assert result.team == "finance"
    assert reason(result, ReasonCode.route_keyword) == {"team": "finance", "keywords": ["résultats"]}


def test_english_keyword_routes_to_its_team() -> None:
    assert run("Armorine faces a lawsuit", language="en").team == "legal"


def test_accents_case_and_apostrophes_do_not_matter() -> None:
    assert run("RESULTATS EN HAUSSE").team == "finance"
    assert run("d'après l’avocat de la famille").team == "legal"
    assert run("non-conformité rgpd").team == "legal"


def test_part_of_a_word_is_not_a_keyword() -> None:
    assert run("Les grévistes sont nombreux").team == "general"  # "grève" is listed, not "grévistes"


def test_nothing_matched_goes_to_default_team() -> None:
    result = run("Super biscuits, merci Armorine")
    assert result.team == "general"
    assert reason(result, ReasonCode.route_default) == {"team": "general"}


def test_most_distinct_keywords_wins() -> None:
    # one legal word, two finance words (the repeated "résultats" counts once)
    result = run("L'avocat commente les résultats, les résultats et le dividende")
    assert result.team == "finance"
    assert reason(result, ReasonCode.route_keyword)["keywords"] == ["résultats", "dividende"]


def test_tie_goes_to_the_first_rule_in_the_file() -> None:
    assert run("Procès et grève chez Armorine").team == "legal"
    reordered = make_protocol(routing=list(reversed(PROTOCOL.model_dump()["routing"])))
    assert run("Procès et grève chez Armorine", protocol=reordered).team == "hr"


def test_patterns_count_like_keywords() -> None:
    protocol = make_protocol(
        routing=[
            {"team": "hr", "keywords": ["grève"]},
            {"team": "finance", "patterns": [r"\b[TQ][1-4]\s?20\d\d\b"]},
        ]
    )
    result = run("Grève: les ventes du T3 2025 reculent", protocol=protocol)
    assert result.team == "hr"  # 1 - 1: the earlier rule wins
    result = run("Les ventes du t3 2025 reculent", protocol=protocol)
    assert result.team == "finance"
    assert reason(result, ReasonCode.route_pattern) == {
        "team": "finance",
        "patterns": [r"\b[TQ][1-4]\s?20\d\d\b"],
    }


def test_tags_are_searched_like_the_text() -> None:
    assert run("Un article sur Armorine", tags=["Dividende"]).team == "finance"


# --- sources and languages -----------------------------------------------------------------------------------


def source_protocol() -> Protocol:
    return make_protocol(
        routing=[
            {"team": "hr", "sources": ["glassdoor", "Indeed"]},
            {"team": "legal", "sources": ["trustpilot"], "keywords": ["avocat"]},
            {"team": "finance", "keywords": ["résultats"]},
        ]
    )


def test_source_only_rule_takes_every_mention_from_that_source() -> None:
    result = run("Super ambiance", source="Glassdoor", protocol=source_protocol())
    assert result.team == "hr"
    assert reason(result, ReasonCode.route_source) == {"team": "hr", "source": "glassdoor"}
    assert run("Super ambiance", source="indeed", protocol=source_protocol()).team == "hr"


def test_source_only_rule_scores_one() -> None:
    # Two finance keywords beat the source rule; one ties, and the earlier (source) rule keeps it.
    protocol = make_protocol(
        routing=[
            {"team": "hr", "sources": ["glassdoor"]},
            {"team": "finance", "keywords": ["résultats", "dividende"]},
        ]
    )
    assert run("résultats et dividende", source="glassdoor", protocol=protocol).team == "finance"
    assert run("résultats", source="glassdoor", protocol=protocol).team == "hr"


def test_sources_narrow_a_keyword_rule() -> None:
    protocol = source_protocol()
    assert run("Mon avocat est saisi", source="trustpilot", protocol=protocol).team == "legal"
    assert run("Mon avocat est saisi", source="twitter", protocol=protocol).team == "general"
    assert run("Avis sans mot-clé", source="trustpilot", protocol=protocol).team == "general"


def test_languages_restrict_a_rule() -> None:
    protocol = make_protocol(routing=[{"team": "finance", "languages": ["en"], "keywords": ["Wall Street"]}])
    assert run("Wall Street likes it", language="en", protocol=protocol).team == "finance"
    assert run("Wall Street aime", language="fr", protocol=protocol).team == "general"
    assert run("Wall Street", language=None, protocol=protocol).team == "general"  # unknown language


# --- forced team ---------------------------------------------------------------------------------------------


def test_forced_team_wins_over_keywords() -> None:
    result = run("Procès et grève", forced_team="finance")
    assert result.team == "finance"
    assert codes(result)[0] == "route.forced"
    assert not any(r.code == ReasonCode.route_keyword for r in result.reasons)


def test_unknown_forced_team_falls_back_to_rules() -> None:
    assert run("Procès", forced_team="marketing").team == "legal"


# --- language ----------------------------------------------------------------------------------------------


def test_given_language_is_kept() -> None:
    result = run("Armorine publie ses résultats annuels", language="EN")
    assert (result.language, result.language_detected) == ("en", False)
    assert not any(str(r.code).startswith("lang.") for r in result.reasons)


def test_missing_language_is_detected() -> None:
    result = run("Les salariés d'Armorine sont en grève depuis lundi", language=None)
    assert (result.language, result.language_detected) == ("fr", True)
    assert reason(result, ReasonCode.lang_detected) == {"language": "fr"}


def test_undetectable_language_is_unknown() -> None:
    result = run("ok", language=None)
    assert (result.language, result.language_detected) == (None, False)
    assert reason(result, ReasonCode.lang_unknown) == {}


def test_detection_is_injectable() -> None:
    router = Router(routing_table(PROTOCOL), detect=lambda text: "en")
    result = router.triage(text="Bonjour tout le monde", source="x", language=None, reach=None)
    assert (result.language, result.language_detected) == ("en", True)


# --- severity ------------------------------------------------------------------------------------------------


def test_default_severity() -> None:
    result = run("Bonjour")
    assert result.severity is Severity.low
    assert reason(result, ReasonCode.severity_default) == {"severity": "low"}
    assert run("Bonjour", protocol=make_protocol(severity={"default": "medium"})).severity is Severity.medium


@pytest.mark.parametrize(
    ("reach", "expected", "threshold"),
    [
        (None, Severity.low, None),
        (9_999, Severity.low, None),
        (10_000, Severity.medium, 10_000),
        (99_999, Severity.medium, 10_000),
        (5_000_000, Severity.high, 100_000),
    ],
)
def test_reach_ladder(reach: int | None, expected: Severity, threshold: int | None) -> None:
    result = run("Bonjour", reach=reach)
    assert result.severity is expected
    if threshold is None:
        assert "severity.reach" not in codes(result)
    else:
        assert reason(result, ReasonCode.severity_reach) == {
            "reach": reach,
            "threshold": threshold,
            "severity": expected.value,
        }


def test_negative_cues_raise_by_levels() -> None:
    result = run("Franchement déçu")
    assert result.severity is Severity.medium
    assert reason(result, ReasonCode.severity_negative) == {"words": ["déçu"], "severity": "medium"}
    assert run("Franchement déçu", reach=10_000).severity is Severity.high


def test_negative_cues_never_make_a_crisis() -> None:
    protocol = make_protocol(severity={"negative_cues": {"raise_by": 3, "words": ["honteux"]}})
    assert run("C'est honteux", protocol=protocol).severity is Severity.high
    assert run("C'est honteux", protocol=protocol, reach=200_000).severity is Severity.high


def test_negative_cues_never_lower() -> None:
    protocol = make_protocol(
        severity={"reach": [{"at_least": 1, "severity": "critical"}], "negative_cues": {"words": ["déçu"]}}
    )
    assert run("déçu", reach=5, protocol=protocol).severity is Severity.critical


def test_crisis_words_set_their_severity() -> None:
    result = run("Appel au #boycott après le rappel produit")
    assert result.severity is Severity.critical
    assert reason(result, ReasonCode.severity_crisis_word) == {
        "words": ["boycott", "rappel produit"],
        "severity": "critical",
    }
    english = run("Armorine confirms a data breach", language="en")
    assert english.severity is Severity.critical


def test_crisis_words_never_lower() -> None:
    protocol = make_protocol(
        severity={
            "reach": [{"at_least": 1, "severity": "high"}],
            "crisis_words": {"severity": "medium", "words": ["boycott"]},
        }
    )
    assert run("boycott", reach=5, protocol=protocol).severity is Severity.high


def test_severity_reasons_come_in_order() -> None:
    result = run("Les résultats sont honteux, boycott !", reach=20_000)
    assert codes(result) == [
        "route.keyword",
        "severity.default",
        "severity.reach",
        "severity.negative",
        "severity.crisis_word",
    ]
    assert result.severity is Severity.critical


# --- reasons -------------------------------------------------------------------------------------------------


def test_reasons_are_json() -> None:
    result = run("Appel au boycott: procès, honteux", reach=200_000, language=None, tags=["x"])
    dumped = json.loads(json.dumps([r.to_dict() for r in result.reasons]))
    assert dumped == [r.to_dict() for r in result.reasons]
    assert all(set(d) == {"code", "params"} and isinstance(d["code"], str) for d in dumped)


def test_to_dict_is_a_copy() -> None:
    r = Reason(ReasonCode.route_keyword, {"team": "hr", "keywords": ["grève"]})
    r.to_dict()["params"]["keywords"].append("x")
    assert r.params["keywords"] == ["grève"]


# --- compiled once -----------------------------------------------------------------------------------------


def test_router_is_built_once_per_protocol() -> None:
    protocol = make_protocol()
    assert router_for(protocol) is router_for(protocol)
    assert router_for(make_protocol()) is not router_for(protocol)


def test_router_goes_with_its_protocol() -> None:
    protocol = make_protocol()
    router_for(protocol)
    key = id(protocol)
    assert key in load._routers
    del protocol
    gc.collect()
    assert key not in load._routers


def test_example_protocol_triage() -> None:
    protocol = load_protocol(EXAMPLE_PROTOCOL)
    result = run("Le procès contre Armorine s'ouvre au tribunal de commerce", protocol=protocol)
    assert result.team == "legal"
    assert codes(result)[:2] == ["route.keyword", "route.pattern"]
    assert run("Super ambiance de travail", source="Glassdoor", protocol=protocol).team == "hr"
    assert run("Nouveau biscuit au caramel", protocol=protocol, forced_team="finance").team == "finance"


# --- properties ----------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(max_size=200),
    source=st.text(max_size=20),
    language=st.one_of(st.none(), st.sampled_from(["fr", "en", "de", ""])),
    reach=st.one_of(st.none(), st.integers(min_value=0, max_value=10**10)),
    tags=st.lists(st.text(max_size=10), max_size=3),
    forced=st.one_of(st.none(), st.sampled_from(["finance", "nope"])),
)
def test_triage_never_raises_and_returns_a_known_team(
    text: str, source: str, language: str | None, reach: int | None, tags: list[str], forced: str | None
) -> None:
    result = run(text, source=source, language=language, reach=reach, tags=tags, forced_team=forced)
    assert result.team in PROTOCOL.teams
    assert isinstance(result.severity, Severity)
    assert result.language in (None, "fr", "en", "de")
    json.dumps([r.to_dict() for r in result.reasons])


# --- the router takes plain domain data ----------------------------------------------------------------------


def test_router_needs_no_protocol() -> None:
    table = RoutingTable(
        teams=frozenset({"general", "legal"}),
        default_team="general",
        rules=(RouteRule(team="legal", keywords=("avocat",)),),
        severity=SeverityRules(reach=((1000, Severity.high),), crisis_words=("boycott",)),
    )
    router = Router(table, detect=lambda text: None)
    legal = router.triage(text="Mon avocat vous écrira", source="x", language="fr", reach=5000)
    assert (legal.team, legal.severity) == ("legal", Severity.high)
    other = router.triage(text="Boycott !", source="x", language=None, reach=None)
    assert (other.team, other.severity, other.language) == ("general", Severity.critical, None)


def test_routing_table_is_built_from_the_protocol() -> None:
    table = routing_table(PROTOCOL)
    assert table.teams == frozenset({"general", "finance", "legal", "hr"}) and table.default_team == "general"
    assert table.rules[0] == RouteRule(team="legal", keywords=("procès", "avocat", "RGPD", "lawsuit"))
    assert table.severity.reach == ((10_000, Severity.medium), (100_000, Severity.high))
    assert (table.severity.negative_raise_by, table.severity.crisis_severity) == (1, Severity.critical)
