"""What a pre-publication check reports: a `Finding`, with its position in the draft (bot.domain.checks)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Finding"]


@dataclass(frozen=True)
class Finding:
    code: str
    start: int | None  # position in the draft, None when the finding is about the whole draft
    end: int | None
    text: str  # the offending text (text[start:end]), or the label for label_not_public
    suggestions: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable details for the message
    overridable: bool = True
