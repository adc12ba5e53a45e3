"""Who may read which mentions, declare a crisis and take on-call: the protocol's roles, as pure rules.

(Who may claim, draft, approve and publish is `bot.domain.workflow.decide`; who hears a ladder step is
`bot.domain.sla.who_hears`.)

Every read (`/vigie liste`, `voir`, `statut`, `moi`, `résumé`, the Home tab, a story's "List them") asks this
module, for the user Slack signed for, from the protocol's people (`bot.usecases.response.people_of`):

* community managers and decision makers see every team's mentions (they answer for the whole company);
* a team's lead and experts see that team's mentions;
* a reviewer whose approval a draft in review needs sees that draft's mention, while it is in review (a rule
  or a crisis may ask legal to approve a finance reply, and nobody approves a reply to a post they may not
  read): `reviewing` is what that draft needs, empty when the mention has no draft in review;
* anybody else sees none, and is told they have no role (`Sight.has_role`).

Owning a mention grants nothing by itself: only a lead or a community manager can assign, and the owner must
still be allowed to see the team.

A crisis is declared and ended by a community manager or a decision maker (`may_declare_crisis`); each role has
its own on-call rotation, and only someone holding a role takes or is handed its on-call (`oncall_role_of`,
`may_take_oncall`). Plain data in, plain data out: no I/O, no clock, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bot.domain.workflow import COMMUNITY_MANAGER, DECISION_MAKER, People, Requirement, roles_of

__all__ = [
    "OncallRole",
    "Sight",
    "may_declare_crisis",
    "may_see",
    "may_take_oncall",
    "oncall_role_of",
    "sight_of",
]

OncallRole = Literal["community_managers", "decision_makers"]


@dataclass(frozen=True)
class Sight:
    """What one person may read. `all_teams`: every team, including a team key the protocol no longer has."""

    user: str
    all_teams: bool
    teams: frozenset[str]  # the teams whose mentions they see (when not all_teams)
    roles: frozenset[Requirement]  # the approvals they can give (community_manager, team:<key>...)

    @property
    def has_role(self) -> bool:
        """False for a workspace member the protocol does not name: they see no mention at all."""
        return bool(self.all_teams or self.teams or self.roles)

    def team(self, team: str) -> bool:
        """May they see every mention of `team`?"""
        return self.all_teams or team in self.teams

    def mention(self, team: str, reviewing: Iterable[Requirement] = ()) -> bool:
        """May they see one mention of `team`? `reviewing`: the approvals its draft in review needs (empty when
        it has none in review)."""
        return self.team(team) or bool(self.roles & frozenset(reviewing))

    def home_team(self, order: Iterable[str]) -> str | None:
        """The team whose digest they get: None for the company-wide one (all teams), else their first team in
        the protocol's `order`. Only meaningful when `has_role`."""
        if self.all_teams:
            return None
        return next((key for key in order if key in self.teams), None)


def sight_of(user: str, *, people: People) -> Sight:
    """What `user` may read, from the protocol's people."""
    roles = roles_of(user, team="", people=people)
    every = bool(roles & {COMMUNITY_MANAGER, DECISION_MAKER})
    teams = frozenset(key for key in {*people.team_members, *people.team_leads} if people.in_team(user, key))
    return Sight(user=user, all_teams=every, teams=teams, roles=roles)


def may_see(user: str, *, team: str, people: People, reviewing: Iterable[Requirement] = ()) -> bool:
    """May `user` see a mention of `team` (whose draft in review needs `reviewing`)? `Sight.mention` in one call."""
    return sight_of(user, people=people).mention(team, reviewing)


def may_declare_crisis(user: str, *, people: People) -> bool:
    """May `user` declare (or end) a crisis? Community managers and decision makers: they answer for the company."""
    return user in people.community_managers or user in people.decision_makers


def oncall_role_of(user: str, *, people: People) -> OncallRole | None:
    """The on-call rotation `user` takes turns in (community managers first); None: they may not take on-call."""
    if user in people.community_managers:
        return "community_managers"
    if user in people.decision_makers:
        return "decision_makers"
    return None


def may_take_oncall(user: str, *, role: OncallRole, people: People) -> bool:
    """May `user` be on call for `role` (take a turn, or be handed one in a swap)? Only who holds the role."""
    return user in (people.community_managers if role == "community_managers" else people.decision_makers)
