"""Short answers to one person: why a read or an action was refused, and the sentence for someone with no role.

One place for these sentences, so `/vigie`, the Home tab and the buttons say the same thing in the same words.
"""

from __future__ import annotations

from typing import Any

from bot.i18n import t


def no_role_text(protocol: Any, lang: str) -> str:
    """"You have no role in the protocol, ask a community manager (@…)", in `lang`."""
    cms = ", ".join(f"<@{user}>" for user in protocol.community_managers)
    return t("access.no_role", lang, cms=cms)


def refusal_text(reason: str, *, protocol: Any, lang: str) -> str:
    """The sentence for a read refused with `reason` ("no_role", or a `refusal.<reason>` key), in `lang`."""
    return no_role_text(protocol, lang) if reason == "no_role" else t(f"refusal.{reason}", lang)
