"""What a mention looks like when it enters Vigie, whatever the door (API, feed, file, Slack flag).

These pydantic models are the single contract of intake: the HTTP API's OpenAPI document is generated from
them, and feeds, file imports and the Slack shortcut all build a `MentionIn` before calling `ingest_mention`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from babel.core import Locale
from pydantic import (
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    Strict,
    StringConstraints,
    ValidationError,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from bot.i18n import LANGUAGES, t

# Bounds keep one hostile request from filling the database or a Slack card.
MAX_TEXT = 20_000
MAX_BATCH = 500
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_REACH = 2**31 - 1  # the column is a 32-bit INTEGER on PostgreSQL (and no audience is larger)

# Blank means absent: the pattern puts that rule in the OpenAPI document too, so what the document calls valid
# is accepted (schemathesis checks it in tests/test_fuzz.py). "One character that is not white space", spelt
# out because Python, JavaScript and pydantic's Rust regexes each have their own idea of `\s`.
NOT_BLANK = "[^\t\n\v\f\r \x00\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"


def _refuse_nul(value: Any) -> Any:
    """NUL (U+0000) is refused, never dropped: PostgreSQL cannot store it in text, and removing it silently made two
    different ids one (a\\x00b and ab). It never means anything in a post; a sender that has one has a bug to see."""
    if isinstance(value, str) and "\x00" in value:
        raise PydanticCustomError("nul_character", "contains a NUL character (U+0000)")
    return value


class _NoNul:
    """Says in the JSON schema what _refuse_nul enforces: no NUL anywhere, and still one character that is not blank
    (`^[^\\x00]*X[^\\x00]*$` where the field's own pattern was X)."""

    def __get_pydantic_json_schema__(self, core: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core)
        schema["pattern"] = f"^[^\\x00]*{schema['pattern']}[^\\x00]*$" if "pattern" in schema else "^[^\\x00]*$"
        return schema


NoNul = (BeforeValidator(_refuse_nul), _NoNul())
ShortStr = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK),
                     *NoNul]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=NOT_BLANK), *NoNul]
# A number given as a date (1700000000, "1700000000") would be read as a Unix time; the document says a string in
# ISO 8601, so that is what is accepted.
_NUMBER = re.compile(r"\s*[-+]?\d+(\.\d*)?\s*")


def _date_text(value: Any) -> Any:
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        raise PydanticCustomError("datetime_type", "must be an ISO 8601 date and time")
    return value


def _whole_float(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


class MentionIn(BaseModel):
    """One public mention of the company found by a monitoring tool."""

    # Unknown fields are refused with their names: a misspelt optional field ("langage") would otherwise be lost
    # without a word.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: ShortStr = Field(description="Monitoring tool or network, e.g. 'talkwalker', 'x', 'google-alerts'.")
    external_id: ShortStr = Field(description="The mention's id at its source; (source, external_id) is unique.")
    url: Annotated[AnyHttpUrl, BeforeValidator(_refuse_nul)] = Field(
        description="Public link to the mention (http or https).",
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s\\x00][^\\x00]*$"})
    author: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300, pattern=NOT_BLANK),
                      *NoNul]
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=NOT_BLANK), *NoNul]
    published_at: Annotated[datetime, BeforeValidator(_date_text)] = Field(
        description="When it was published; ISO 8601 with a timezone (UTC assumed if none).")
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        default=None, description="ISO 639-1 code (fr, en...); detected when absent."
    )
    # Strict, as the document says: true and "12" are not audiences (pydantic would take them as 1 and 12), nor is
    # 12.5; 12.0 is (JSON Schema counts a number without a fraction as an integer, and so do JSON senders).
    reach: Annotated[int, Strict(), Field(ge=0, le=MAX_REACH), BeforeValidator(_whole_float)] | None = Field(
        default=None, description="Audience size (followers, readership)."
    )
    tags: Annotated[list[Tag], Field(max_length=50)] = Field(default_factory=list)
    # What the monitoring tool itself measured (bot.intake.signals): stored with the mention, never shown raw;
    # a "negative" sentiment raises the severity like a negative tone (bot.domain.routing).
    engagement: Annotated[int, Strict(), Field(ge=0, le=MAX_REACH), BeforeValidator(_whole_float)] | None = Field(
        default=None, description="Interactions the tool counted (likes, shares, comments).")
    sentiment: Literal["negative", "neutral", "positive"] | None = Field(
        default=None, description="The tool's own sentiment; 'negative' raises the severity like a negative tone.")

    # Set by a reader that had no date it could read (a feed entry): `published_at` is then the time it arrived,
    # stored flagged as unknown (bot.intake.signals.vendor_extra) rather than taken for the source's date.
    _published_unknown: bool = PrivateAttr(default=False)

    @property
    def published_unknown(self) -> bool:
        return self._published_unknown

    def mark_published_unknown(self) -> None:
        self._published_unknown = True

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


# ---------------------------------------------------------------------------- errors, in the sender's language
# Each error body carries a stable `code` for programs and a `message` for people, in French or English.


def request_language(accept_language: str | None, default: str) -> str:
    """fr or en, the sender's preferred one by Accept-Language ("en-US,en;q=0.9,fr;q=0.8"), else `default`."""
    best, best_q = default, 0.0
    for part in (accept_language or "")[:500].split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().replace("_", "-").split("-")[0].lower()
        if lang not in LANGUAGES:
            continue
        try:
            q = float(params.strip().removeprefix("q=")) if params.strip().startswith("q=") else 1.0
        except ValueError:
            continue
        if q > best_q:  # strictly: on a tie, the one listed first wins
            best, best_q = lang, q
    return best


def _plural(key: str, n: int, lang: str, **params: Any) -> str:
    form = "one" if Locale.parse(lang).plural_form(n) == "one" else "other"
    return t(f"{key}.{form}", lang, n=n, **params)


def field_message(error: Mapping[str, Any], lang: str) -> str:
    """A pydantic error in words; the error's `type` stays the machine-readable code."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return t("intake.field.missing", lang)
    if kind == "nul_character":
        return t("intake.field.nul", lang)
    if kind == "extra_forbidden":
        return t("intake.field.unknown", lang, fields=", ".join(MentionIn.model_fields))
    if kind == "string_too_short" or (kind == "string_pattern_mismatch" and ctx.get("pattern") == NOT_BLANK):
        return t("intake.field.blank", lang)
    if kind == "string_too_long":
        return _plural("intake.field.too_long", int(ctx.get("max_length", 0)), lang)
    if kind == "too_long":
        return _plural("intake.field.too_many_items", int(ctx.get("max_length", 0)), lang)
    if kind == "string_pattern_mismatch" and error["loc"][-1:] == ("language",):
        return t("intake.field.language", lang)
    if kind.startswith("url_"):
        return t("intake.field.url", lang)
    if kind.startswith(("datetime_", "date_")):
        return t("intake.field.datetime", lang)
    if kind.startswith("int_"):
        return t("intake.field.integer", lang)
    if kind == "greater_than_equal":
        return t("intake.field.at_least", lang, limit=ctx.get("ge"))
    if kind == "less_than_equal":
        return t("intake.field.at_most", lang, limit=ctx.get("le"))
    if kind == "string_type":
        return t("intake.field.string", lang)
    if kind == "list_type":
        return t("intake.field.list", lang)
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return t("intake.field.object", lang)
    return t("intake.field.invalid", lang)


def field_errors(exc: ValidationError, *, batch: bool, lang: str) -> list[dict[str, Any]]:
    """Each invalid field: where ("url", or "[3].url" in a list), a stable code and a sentence."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = list(err["loc"])
        index = batch and loc and isinstance(loc[0], int)
        where = (f"[{loc[0]}]." if index else "") + ".".join(str(p) for p in (loc[1:] if index else loc))
        out.append({"field": where.rstrip(".") or "(body)", "code": err["type"], "message": field_message(err, lang)})
    return out


def field_summary(fields: list[dict[str, Any]], lang: str, *, limit: int = 5) -> str:
    """The first invalid fields in one line, with the language's punctuation ("url : …" in French)."""
    return t("intake.error.separator", lang).join(
        t("intake.error.field", lang, field=f["field"], message=f["message"]) for f in fields[:limit])
