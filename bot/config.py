"""Settings: the only place that reads the environment (and a `.env` file).

A missing or wrong setting stops start-up with one sentence that names the setting and says how to fix it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalogue, t

DEFAULT_SLACK_API_URL = "https://slack.com/api/"



class ConfigError(Exception):
    """A setting is missing or wrong: one sentence for a person, naming the setting and how to fix it.

    The sentence comes from the catalogues (`config.*`): `message(lang)`; `str()` is the French one.
    """

    def __init__(self, name: str, reason: tuple[str, dict[str, Any]] | None = None):
        self.name = name  # the environment variable, such as SLACK_BOT_TOKEN
        self.reason = reason  # None: missing; else (key after "config.reason.", its parameters)
        super().__init__(self.message(DEFAULT_LANGUAGE))

    def message(self, lang: str) -> str:
        fix_key = f"config.fix.{self.name.lower()}"
        fix = t(fix_key if fix_key in catalogue("en") else "config.fix.other", lang)
        if self.reason is None:
            return t("config.missing", lang, name=self.name, fix=fix)
        key, params = self.reason
        return t("config.wrong", lang, name=self.name, reason=t(f"config.reason.{key}", lang, **params), fix=fix)


def _invalid(code: str, **params: Any) -> PydanticCustomError:
    """A validation error whose reason is the catalogue's `config.reason.<code>` (pydantic's text: English)."""
    return PydanticCustomError(code, t(f"config.reason.{code}", "en"), params)


class Settings(BaseSettings):
    # An empty value means the default: .env.example lists every setting with an empty value to fill in.
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///vigie.db", alias="DATABASE_URL")
    protocol_file: Path | None = Field(default=None, alias="VIGIE_PROTOCOL_FILE")
    intake_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list, alias="VIGIE_INTAKE_TOKENS")
    # Shared secret of the publishing webhook (the protocol's publishing.webhook_url): HMAC-SHA256 signatures.
    publish_webhook_secret: SecretStr | None = Field(default=None, alias="VIGIE_PUBLISH_WEBHOOK_SECRET")
    # Outside language tools (bot/language): the Python that has Debian's python3-grammalecte; a LanguageTool server.
    grammalecte_python: str = Field(default="/usr/bin/python3", alias="VIGIE_GRAMMALECTE_PYTHON")
    languagetool_url: str | None = Field(default=None, alias="VIGIE_LANGUAGETOOL_URL")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(default="INFO", alias="VIGIE_LOG_LEVEL")
    log_format: Literal["console", "json"] = Field(default="console", alias="VIGIE_LOG_FORMAT")
    # Slack posts about one message per second per channel; the outbox paces itself to this.
    channel_interval_seconds: float = Field(default=1.0, ge=0.0, le=60.0, alias="VIGIE_CHANNEL_INTERVAL")
    # Longest wait for one Slack Web API answer; short, so a hung call neither holds a lane nor outlives a lease.
    slack_timeout_seconds: float = Field(default=10.0, ge=1.0, le=30.0, alias="VIGIE_SLACK_TIMEOUT")
    # A delivery claimed by a process that died is looked for in Slack (and re-sent if absent) after this.
    outbox_lease_seconds: float = Field(default=30.0, ge=2.0, le=3600.0, alias="VIGIE_OUTBOX_LEASE")
    # How often deadlines are checked: a critical mention at night reaches the on-call people within this.
    sweep_seconds: float = Field(default=30.0, ge=1.0, le=600.0, alias="VIGIE_SWEEP_SECONDS")
    run_scheduler: bool = Field(default=True, alias="VIGIE_RUN_SCHEDULER")
    # The HTTP server (bot.server). A client has this long to send a request's head (from its first byte, or from
    # connecting), then its body; slower ones are cut off with 408, so trickling bytes holds nothing for long.
    # Slack's requests are a few kilobytes; 30 s lets a 2 MiB intake batch through a link of 70 kB/s.
    http_header_timeout_seconds: float = Field(default=10.0, ge=0.1, le=300.0, alias="VIGIE_HTTP_HEADER_TIMEOUT")
    http_body_timeout_seconds: float = Field(default=30.0, ge=0.1, le=600.0, alias="VIGIE_HTTP_BODY_TIMEOUT")
    # An idle kept-alive connection is closed after this (uvicorn's default, said out loud).
    http_keep_alive_seconds: float = Field(default=5.0, ge=0.1, le=300.0, alias="VIGIE_HTTP_KEEP_ALIVE")
    # Connections served at once, open or in flight; beyond it requests get 503 at once instead of queueing.
    http_max_connections: int = Field(default=200, ge=1, le=100_000, alias="VIGIE_HTTP_MAX_CONNECTIONS")
    # Largest request head (request line and headers) accepted, whole or arriving (h11's default, said out loud).
    http_max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576, alias="VIGIE_HTTP_MAX_HEADER_BYTES")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xoxb-"):
            raise _invalid("bot_token")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xapp-"):
            raise _invalid("app_token")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise _invalid("http_url")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        if v.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        if not v.startswith(("sqlite:", "postgresql+psycopg:")):
            raise _invalid("database_url")
        return v

    @field_validator("intake_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, v: object) -> object:
        if isinstance(v, str):
            return [t.strip() for t in v.split(",") if t.strip()]
        return v

    @field_validator("intake_tokens")
    @classmethod
    def _token_length(cls, v: list[SecretStr]) -> list[SecretStr]:
        if any(len(t.get_secret_value()) < 16 for t in v):
            raise _invalid("token_length")
        return v

    @field_validator("protocol_file")
    @classmethod
    def _protocol_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise _invalid("no_file", path=str(v))
        return v

    # --- what each mode needs -------------------------------------------------------------------

    def require(self, *names: str) -> None:
        """Stop with one clear sentence if a setting a mode needs is absent."""
        for name in names:
            field = next(f for f, info in type(self).model_fields.items() if info.alias == name)
            if getattr(self, field) in (None, [], ""):
                raise ConfigError(name)


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one sentence (about the first problem)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "?"
        raise ConfigError(name, _reason(err)) from None


# pydantic's own error types for the settings above -> (catalogue key after "config.reason.", its parameter)
_BUILTIN_REASONS = {
    "literal_error": ("choice", "expected"),
    "float_parsing": ("number", None),
    "float_type": ("number", None),
    "int_parsing": ("number", None),
    "int_type": ("number", None),
    "int_from_float": ("number", None),
    "bool_parsing": ("bool", None),
    "bool_type": ("bool", None),
    "greater_than_equal": ("at_least", "ge"),
    "less_than_equal": ("at_most", "le"),
}


def _reason(err: Any) -> tuple[str, dict[str, Any]]:
    kind, ctx = err["type"], dict(err.get("ctx") or {})
    if f"config.reason.{kind}" in catalogue("en"):  # ours, raised with _invalid
        return kind, ctx
    if kind in _BUILTIN_REASONS:
        key, param = _BUILTIN_REASONS[kind]
        if key == "choice":
            return key, {"choices": str(ctx["expected"]).replace(" or ", ", ")}
        return key, ({"limit": ctx[param]} if param else {})
    return "invalid", {"detail": str(err["msg"]).removeprefix("Value error, ")}  # pydantic's words (English)


# --- the terminal's language (issue 15) -------------------------------------------------------------------------

_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def terminal_language(environ: Mapping[str, str] | None = None) -> str | None:
    """fr or en from the locale, the way gettext looks (LANGUAGE's list first, then LC_ALL, LC_MESSAGES, LANG);
    None when the locale says nothing we speak (C, POSIX, de_DE...). The terminal's language, not the protocol's."""
    env = os.environ if environ is None else environ
    for name in _LOCALE_VARIABLES:
        value = (env.get(name) or "").strip()
        if not value:
            continue
        for part in value.split(":") if name == "LANGUAGE" else [value]:
            code = part.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
            if code in LANGUAGES:
                return code
        if name != "LANGUAGE":  # the locale in force names another language (or C): no preference we can use
            return None
    return None
