"""Who may read which mentions: the read side of the protocol's roles, as one pure rule.

Every read (`/vigie liste`, `voir`, `statut`, `moi`, `résumé`, the Home tab, a story's "List them") asks this
module, for the user Slack signed for, from the protocol's people (`bot.usecases.response.people_of`):

* community managers and decision makers see every team's mentions (they answer for the whole company);
* a team's lead and experts see that team's mentions;
* a reviewer whose approval a draft in review needs sees that draft's mention, while it is in review (a rule
  or a crisis may ask legal to approve a finance reply, and nobody approves a reply to a post they may not
  read): `reviewing` is what that draft needs, empty when the mention has no draft in review;
* anybody else sees none, and is told they have no role (`Sight.has_role`).

Owning a mention grants nothing by itself: only a lead or a community manager can assign, and the owner must
still be allowed to see the team. Plain data in, plain data out: no I/O, no clock, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.workflow import COMMUNITY_MANAGER, DECISION_MAKER, People, Requirement, roles_of

__all__ = ["Sight", "may_see", "sight_of"]


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
