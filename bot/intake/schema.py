"""What a mention looks like when it enters Vigie, whatever the door (API, feed, file, Slack flag).

These pydantic models are the single contract of intake: the HTTP API's OpenAPI document is generated from
them, and feeds, file imports and the Slack shortcut all build a `MentionIn` before calling `ingest_mention`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

# Bounds keep one hostile request from filling the database or a Slack card.
MAX_TEXT = 20_000
MAX_BATCH = 500
MAX_BODY_BYTES = 2 * 1024 * 1024

ShortStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class MentionIn(BaseModel):
    """One public mention of the company found by a monitoring tool."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    source: ShortStr = Field(description="Monitoring tool or network, e.g. 'talkwalker', 'x', 'google-alerts'.")
    external_id: ShortStr = Field(description="The mention's id at its source; (source, external_id) is unique.")
    url: AnyHttpUrl = Field(description="Public link to the mention (http or https).")
    author: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
    published_at: datetime = Field(description="When it was published; ISO 8601 with a timezone (UTC assumed if none).")
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        default=None, description="ISO 639-1 code (fr, en...); detected when absent."
    )
    reach: Annotated[int, Field(ge=0, le=10_000_000_000)] | None = Field(
        default=None, description="Audience size (followers, readership)."
    )
    tags: Annotated[list[Tag], Field(max_length=50)] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        # PostgreSQL refuses NUL in text; it never means anything in a post, so it is dropped at the door.
        if isinstance(data, dict):
            return {k: v.replace("\x00", "") if isinstance(v, str) else v for k, v in data.items()}
        return data

    @field_validator("text")
    @classmethod
    def _text_not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text is blank")
        return v

    @field_validator("published_at")
    @classmethod
    def _aware_utc(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            v = v.replace(tzinfo=UTC)
        return v.astimezone(UTC)
