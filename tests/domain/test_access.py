"""Who may read which mentions (`bot.domain.access`), as a table a reader can check at a glance.

Written from the rule in the README ("community managers and decision makers see every team; a team's lead and
experts see that team's mentions; anybody else sees none"), not from the code.
"""

from __future__ import annotations

import pytest

from bot.domain.access import Sight, may_declare_crisis, may_see, may_take_oncall, oncall_role_of, sight_of
from bot.domain.workflow import People

CM, DECIDER = "UCM", "UDM"
LEGAL_LEAD, LEGAL_EXPERT, NEWBIE = "ULEGLEAD", "ULEGEXP", "UNEW"
FIN_LEAD, FIN_EXPERT = "UFINLEAD", "UFINEXP"
LEAD_ONLY = "UHRLEAD"  # leads hr, left out of team_members by the caller: the lead still counts
STRANGER = "USTRANGER"  # in the workspace, named nowhere in the protocol
DOUBLE_ONLY = "UAGENCY"  # under double command but in no team: double command is no role

PEOPLE = People(
    community_managers=frozenset({CM}),
    decision_makers=frozenset({DECIDER}),
    team_leads={"legal": LEGAL_LEAD, "finance": FIN_LEAD, "hr": LEAD_ONLY, "general": None},
    team_members={
        "legal": frozenset({LEGAL_LEAD, LEGAL_EXPERT, NEWBIE}),
        "finance": frozenset({FIN_LEAD, FIN_EXPERT}),
        "hr": frozenset(),
        "general": frozenset(),
    },
    double_command=frozenset({NEWBIE, DOUBLE_ONLY}),
)

# Which teams' mentions each person sees ("*": every team, even one the protocol no longer has).
TABLE = """
            legal  finance  hr  general  gone
cm          y      y        y   y        y
decider     y      y        y   y        y
legal_lead  y      .        .   .        .
legal_exp   y      .        .   .        .
newbie      y      .        .   .        .
fin_lead    .      y        .   .        .
fin_exp     .      y        .   .        .
hr_lead     .      .        y   .        .
stranger    .      .        .   .        .
double_only .      .        .   .        .
"""
WHO = {"cm": CM, "decider": DECIDER, "legal_lead": LEGAL_LEAD, "legal_exp": LEGAL_EXPERT, "newbie": NEWBIE,
       "fin_lead": FIN_LEAD, "fin_exp": FIN_EXPERT, "hr_lead": LEAD_ONLY, "stranger": STRANGER,
       "double_only": DOUBLE_ONLY}


def _rows() -> list[tuple[str, str, bool]]:
    header, *rows = [line.split() for line in TABLE.strip().splitlines()]
    return [(row[0], team, mark == "y") for row in rows for team, mark in zip(header, row[1:], strict=True)]


def test_the_table_covers_every_person_and_team():
    assert {who for who, _, _ in _rows()} == set(WHO)
    assert len(_rows()) == len(WHO) * 5


@pytest.mark.parametrize(("who", "team", "sees"), _rows())
def test_who_sees_which_teams_mentions(who, team, sees):
    user = WHO[who]
    assert sight_of(user, people=PEOPLE).team(team) is sees
    # The low-severity approvals of most teams (a community manager) grant nobody else anything.
    assert may_see(user, team=team, people=PEOPLE, reviewing=("community_manager",)) is sees


@pytest.mark.parametrize("who", sorted(WHO))
def test_only_people_the_protocol_names_have_a_role(who):
    assert sight_of(WHO[who], people=PEOPLE).has_role is (who not in ("stranger", "double_only"))


def test_a_reviewer_a_draft_in_review_needs_sees_that_mention_and_only_it():
    # e.g. `crisis.approvers: ["team:legal"]`, or a rule asking legal to approve finance replies. The caller
    # passes what the mention's draft in review needs (nothing when no draft is in review).
    asked = ("community_manager", "team:legal")
    for user in (LEGAL_LEAD, LEGAL_EXPERT, NEWBIE):
        sight = sight_of(user, people=PEOPLE)
        assert sight.mention("finance", asked) and not sight.mention("finance", ("community_manager",))
        assert not sight.team("finance")  # the team's list stays closed
    for user in (FIN_EXPERT, STRANGER, DOUBLE_ONLY):
        assert not may_see(user, team="hr", people=PEOPLE, reviewing=asked)
    # A requirement nobody holds, or a made-up one, grants nothing.
    assert not may_see(STRANGER, team="legal", people=PEOPLE, reviewing=("team:nowhere", "", "stranger"))


def test_digest_scope_is_the_company_for_all_teams_else_the_first_team_in_protocol_order():
    order = ["general", "finance", "legal", "hr"]
    assert sight_of(CM, people=PEOPLE).home_team(order) is None
    assert sight_of(DECIDER, people=PEOPLE).home_team(order) is None
    assert sight_of(LEGAL_EXPERT, people=PEOPLE).home_team(order) == "legal"
    assert sight_of(LEAD_ONLY, people=PEOPLE).home_team(order) == "hr"
    both = People(team_leads={"legal": "UBOTH", "finance": "UBOTH"})
    assert sight_of("UBOTH", people=both).home_team(order) == "finance"
    assert sight_of("UBOTH", people=both).home_team(["legal", "finance"]) == "legal"


def test_a_community_manager_who_also_leads_a_team_still_sees_everything():
    people = People(community_managers=frozenset({"U1"}), team_leads={"general": "U1"},
                    team_members={"general": frozenset({"U1"}), "legal": frozenset({"U2"})})
    sight = sight_of("U1", people=people)
    assert sight.all_teams and sight.team("legal") and sight.home_team(["general", "legal"]) is None


def test_no_people_at_all_means_nobody_sees_anything():
    sight = sight_of(CM, people=People())
    assert sight == Sight(user=CM, all_teams=False, teams=frozenset(), roles=frozenset())
    assert not sight.has_role and not sight.mention("legal", ("community_manager", "team:legal"))


# --- crisis and on-call: who holds a company-wide role --------------------------------------------------------


@pytest.mark.parametrize(("user", "allowed"), [
    (CM, True), (DECIDER, True), (LEGAL_LEAD, False), (LEGAL_EXPERT, False), (STRANGER, False), (DOUBLE_ONLY, False),
])
def test_who_may_declare_a_crisis(user: str, allowed: bool) -> None:
    assert may_declare_crisis(user, people=PEOPLE) is allowed


@pytest.mark.parametrize(("user", "role"), [
    (CM, "community_managers"), (DECIDER, "decision_makers"), (LEGAL_LEAD, None), (STRANGER, None),
])
def test_oncall_role_of(user: str, role: str | None) -> None:
    assert oncall_role_of(user, people=PEOPLE) == role


def test_a_community_manager_who_also_decides_takes_the_community_managers_turns() -> None:
    both = People(community_managers=frozenset({CM}), decision_makers=frozenset({CM}), team_leads={},
                  team_members={})
    assert oncall_role_of(CM, people=both) == "community_managers"


def test_only_who_holds_a_role_takes_its_oncall() -> None:
    assert may_take_oncall(CM, role="community_managers", people=PEOPLE)
    assert not may_take_oncall(CM, role="decision_makers", people=PEOPLE)
    assert may_take_oncall(DECIDER, role="decision_makers", people=PEOPLE)
    assert not may_take_oncall(LEGAL_LEAD, role="community_managers", people=PEOPLE)
