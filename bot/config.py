"""Configuration from the environment (and a `.env` file in the working directory)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///mend.db", validation_alias="MEND_DATABASE_URL")
    timezone: str = Field("UTC", validation_alias="MEND_TIMEZONE")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")

    microsoft_app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(None, validation_alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str | None = Field(None, validation_alias="MICROSOFT_APP_TYPE")
    teams_emulator: bool = Field(False, validation_alias="MEND_TEAMS_EMULATOR")

    port: int = Field(3000, validation_alias=AliasChoices("PORT", "MEND_PORT"))
    tick_seconds: float = Field(2.0, gt=0, validation_alias="MEND_TICK_SECONDS")
    lease_seconds: float = Field(120.0, ge=1, validation_alias="MEND_LEASE_SECONDS")
    playbook: str | None = Field(None, validation_alias="MEND_PLAYBOOK")
    command_workers: int = Field(1, ge=0, le=16, validation_alias="MEND_COMMAND_WORKERS")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"MEND_TIMEZONE={value!r} is not an IANA time zone such as Europe/Paris") from exc
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and bool(self.slack_bot_token.get_secret_value())

    @property
    def teams_credentials(self) -> bool:
        """An app id with a password, or with a managed identity (UserAssignedMSI needs no password)."""
        if (self.microsoft_app_type or "").lower() == "userassignedmsi":
            return bool(self.microsoft_app_id)
        return bool(self.microsoft_app_id) and self.microsoft_app_password is not None
