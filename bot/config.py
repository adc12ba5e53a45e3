"""Settings: the only place that reads the environment (and a `.env` file).

A missing or wrong setting stops start-up with one sentence that names the setting and says how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# What to tell a person when a setting is wrong: the setting's name and how to fix it.
_HOW_TO_FIX = {
    "SLACK_BOT_TOKEN": "set it to the app's Bot User OAuth Token (xoxb-...), from the Slack app's "
    "'OAuth & Permissions' page",
    "SLACK_APP_TOKEN": "set it to an app-level token (xapp-...) with the connections:write scope, from the "
    "Slack app's 'Basic Information' page (needed by `vigie run`, Socket Mode)",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from the Slack app's 'Basic Information' page "
    "(needed by `vigie serve`, HTTP mode)",
    "SLACK_API_URL": "give an http(s) URL ending with /api/, or leave it unset for Slack's own",
    "DATABASE_URL": "give a SQLAlchemy URL such as sqlite:///vigie.db or "
    "postgresql+psycopg://user@host/dbname",
    "VIGIE_PROTOCOL_FILE": "give the path of your protocol YAML file, or leave it unset to run on the example",
    "VIGIE_INTAKE_TOKENS": "give one or more comma-separated secrets of at least 16 characters",
    "VIGIE_PUBLISH_WEBHOOK_SECRET": "set it to the secret your publishing endpoint uses to check signatures",
}


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one sentence for a person."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")
    database_url: str = Field(default="sqlite:///vigie.db", alias="DATABASE_URL")
    protocol_file: Path | None = Field(default=None, alias="VIGIE_PROTOCOL_FILE")
    intake_tokens: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list, alias="VIGIE_INTAKE_TOKENS")
    # Shared secret of the publishing webhook (the protocol's publishing.webhook_url): HMAC-SHA256 signatures.
    publish_webhook_secret: SecretStr | None = Field(default=None, alias="VIGIE_PUBLISH_WEBHOOK_SECRET")
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

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xoxb-"):
            raise ValueError("must start with xoxb-")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xapp-"):
            raise ValueError("must start with xapp-")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str) -> str:
        if v.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
            v = "postgresql+psycopg://" + v.split("://", 1)[1]
        if not v.startswith(("sqlite:", "postgresql+psycopg:")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
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
            raise ValueError("each token must be at least 16 characters")
        return v

    @field_validator("protocol_file")
    @classmethod
    def _protocol_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"no file at {v}")
        return v

    # --- what each mode needs -------------------------------------------------------------------

    def require(self, *names: str) -> None:
        """Stop with one clear sentence if a setting a mode needs is absent."""
        for name in names:
            field = next(f for f, info in type(self).model_fields.items() if info.alias == name)
            if getattr(self, field) in (None, [], ""):
                raise ConfigError(f"{name} is not set: {_HOW_TO_FIX[name]}.")


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one sentence per problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        err = exc.errors()[0]
        name = str(err["loc"][0]) if err["loc"] else "a setting"
        reason = str(err["msg"]).removeprefix("Value error, ")
        fix = _HOW_TO_FIX.get(name, "check its value")
        raise ConfigError(f"{name} is wrong ({reason}): {fix}.") from None
