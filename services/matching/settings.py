"""Settings of the matching service beyond every service's own (prefix ``MENTORSHIP_MATCHING_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MatchingSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_MATCHING_", extra="ignore")

    response_days: int = Field(
        default=7, ge=1, le=90, description="Default days a forwarded mentor has to answer, until an admin sets it"
    )
    bulk_candidates: int = Field(
        default=50, ge=1, le=500, description="Top-K candidate mentors per mentee in bulk runs"
    )
