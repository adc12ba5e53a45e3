"""What an action answers (`Outcome`), how a rule refuses it (`Refused`) and what a request says it is about
(`Target`): shared by the response loop's modules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Outcome", "Refused", "Target"]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str | None = None  # for the actor only (ephemeral), already in their language
    told: bool = False  # the message is already queued for the actor, in the action's own transaction


class Refused(Exception):
    def __init__(self, reason: str, **params: Any):
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True)
class Target:
    """What a request says it is about (as given: it may not exist), for the audit of a refusal."""

    mention: int | None = None
    draft: int | None = None
