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
    max_snapshots: int = Field(
        default=3,
        ge=0,
        le=100,
        description="As-of snapshots kept at once; a new one is refused (409) while this many exist (0: none)",
    )
    snapshot_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days an as-of snapshot is kept after it was started; then it is no longer served and is dropped",
    )
