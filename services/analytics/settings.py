"""Settings of the analytics service beyond every service's own (prefix ``MENTORSHIP_ANALYTICS_``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import http_url

"""Where the development stack runs profiles: the default of ``profiles_url`` in development mode only."""


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
    profiles_url: str | None = Field(
        default=None,
        description="Base URL of the profiles API, asked for demographic aggregates (the evaluation's breakdowns by"
        " consented demographics). Unset: those breakdowns say they are not configured. The development stack"
        " sets it to its profiles; there is no fixed default, so a lone analytics never asks whatever listens on"
        " a well-known port",
    )
    profiles_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Longest wait for profiles' answer before the block says so"
    )

    @field_validator("profiles_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return http_url(value, "https://profiles.internal")

    def profiles_base_url(self, dev_mode: bool) -> str | None:
        """The URL to ask profiles at: the configured one, in development mode too (``mentorship dev up`` and the
        tests' stacks set it to their own profiles)."""
        return self.profiles_url
