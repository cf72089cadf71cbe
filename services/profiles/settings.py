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
    hr_feed_fetch_wait_ms: int = Field(
        default=250,
        ge=1,
        le=500,
        description="Longest the broker may hold an empty fetch of the HR feed (hr.events): how long an HR fact may"
        " wait after a quiet spell (Kafka's default 500). The feed has no user waiting on it, and at the services'"
        " 20 ms an idle profiles process fetched 45 times a second for nothing, a third of its CPU per command and"
        " as much again in the broker (bench/load.py --idle-seconds)",
    )
