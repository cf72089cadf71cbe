"""Settings of the profiles service beyond every service's own (prefix ``MENTORSHIP_PROFILES_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProfilesSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_PROFILES_", extra="ignore")

    aggregate_callers: list[str] = Field(
        default_factory=lambda: ["service:analytics"],
        description="JSON list: the callers (token subjects, with role `service`) that may ask for demographic"
        " aggregates: analytics' client id at the provider (`service:analytics` is its development token)",
    )
    aggregate_min_cell: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Smallest cell a demographic aggregate ever shows, whatever `min_cell` the caller asks for",
    )
