"""Settings of the analytics service beyond every service's own (prefix ``MENTORSHIP_ANALYTICS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_ANALYTICS_", extra="ignore")

    min_cell: int = Field(
        default=5,
        ge=0,
        description="Small-cell suppression: a breakdown cell of fewer people is withheld (0 or 1: nothing is)",
    )
