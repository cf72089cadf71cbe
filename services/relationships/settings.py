"""Settings of the relationships service beyond every service's own (prefix ``MENTORSHIP_RELATIONSHIPS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.relationships.domain.topics import PROGRAM_TOPICS


class RelationshipsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_RELATIONSHIPS_", extra="ignore")

    confidential_keys: str | None = Field(
        default=None,
        description="AES-256 key ring for notes and comments, 'id:base64key,…' (first encrypts, all decrypt);"
        " unset: a public development key — set it in production",
    )
    cadence_grace_days: int = Field(default=14, ge=0, le=180, description="Days past the cadence before lagging")
    nudge_days_before_lagging: int = Field(
        default=7, ge=0, le=180, description="Days before a pair would lag that it is nudged to schedule a meeting"
    )
    inactive_notice_days: int = Field(
        default=30, ge=1, le=3650, description="Days after the re-engagement nudge before the director is told"
    )
    meeting_topics: list[str] = Field(default=list(PROGRAM_TOPICS), min_length=1)
    survey_expiry_days: int = Field(default=30, ge=1, le=365, description="Days a survey stays open for answers")
