"""Reads behind roles, the database side of `bot.domain.access`: the filter every query on mentions shown to a
person carries, and the sentence a person with no role gets instead of any mention.

The filter is part of the SQL (not applied to rows after loading them), so counts, limits and "… and N more"
never include what the person may not see.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col

from bot.domain.access import Sight
from bot.i18n import t
from bot.store.models import Mention

__all__ = ["no_role_text", "refusal_text", "team_filter"]


def team_filter(sight: Sight) -> list[Any]:
    """WHERE conditions keeping only the mentions of teams `sight` sees (none for every team)."""
    if sight.all_teams:
        return []
    return [col(Mention.team).in_(sorted(sight.teams))]


def no_role_text(protocol: Any, lang: str) -> str:
    """"You have no role in the protocol, ask a community manager (@…)", in `lang`."""
    cms = ", ".join(f"<@{user}>" for user in protocol.community_managers)
    return t("access.no_role", lang, cms=cms)


def refusal_text(reason: str, *, protocol: Any, lang: str) -> str:
    """The sentence for a read refused with `reason` ("no_role", or a `refusal.<reason>` key), in `lang`."""
    return no_role_text(protocol, lang) if reason == "no_role" else t(f"refusal.{reason}", lang)
