"""Buttons on the relay card."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App

from bot.i18n import t
from bot.ids import Action

if TYPE_CHECKING:
    from bot.app import Runtime


def register(app: App, runtime: Runtime) -> None:
    @app.action(re.compile(f"^({'|'.join(a.value for a in Action)})$"))
    def relay_button(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        # Claim, draft, reroute and dismiss arrive with the drafting and approval work; until then the
        # button says so honestly rather than failing silently.
        runtime.vigie.tell_user(
            channel=body["channel"]["id"],
            user=body["user"]["id"],
            text=t("action.not_available", runtime.protocol.language),
        )
