"""When a mention's first response and its publication are due, from the protocol's SLAs (the rule itself is
`bot.domain.deadlines`); shared by intake and by a storm that raises a leader's severity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.domain import deadlines as deadline_rules
from bot.protocol.schema import Protocol


def sla_deadlines(protocol: Protocol, values: dict[str, Any], *,
                  crisis_factor: float | None = None) -> tuple[datetime, datetime]:
    """When a new mention's first response and its publication are due (business time unless round the clock;
    `crisis_factor`: the crisis declared now shortens both)."""
    cfg = protocol.sla_for(values["team"], values["severity"])

    def at(duration: Any) -> datetime:
        return deadline_rules.due(values["received_at"], duration, protocol.calendar, round_the_clock=cfg.round_the_clock,
                   crisis_factor=crisis_factor)

    return at(cfg.first_response), at(cfg.published)
