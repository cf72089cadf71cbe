"""Settings of the portal beyond every service's own (prefix ``MENTORSHIP_PORTAL_``).

The portal owns no domain data: its own database (``MENTORSHIP_PG_DSN``) holds the sign-in sessions and the sealed
tokens only. It reaches the other services through their HTTP APIs, so what it knows of them is their base URLs,
never a database (``tests/unit/portal/test_settings.py`` holds it to that).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import http_url

REPOSITORY = Path(__file__).resolve().parents[2]
HTMX_FILE = REPOSITORY / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
"""Installed by `make setup` (`npm ci`, package.json); served by the portal itself at /static/htmx.min.js."""

CALLED = ("profiles", "matching", "relationships", "notifications")
"""The services whose APIs the portal calls for the signed-in person (one access token audience each)."""


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_PORTAL_", extra="ignore")

    profiles_url: str = Field(default="http://127.0.0.1:8001", description="Base URL of the profiles API")
    matching_url: str = Field(default="http://127.0.0.1:8002", description="Base URL of the matching API")
    relationships_url: str = Field(default="http://127.0.0.1:8003", description="Base URL of the relationships API")
    notifications_url: str = Field(default="http://127.0.0.1:8004", description="Base URL of the notifications API")
    dashboard_url: str = Field(
        default="http://127.0.0.1:8005/dashboard",
        description="Where directors and analysts find the program-evaluation dashboard (a link)",
    )
    dev_mail_url: str | None = Field(
        default=None,
        description="The development mail sink (`mentorship dev up` sets it): shown at /dev/mail, in development mode"
        " only",
    )
    api_timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Longest wait for another service")
    htmx_file: Path = Field(default=HTMX_FILE, description="htmx as npm installed it (served at /static/htmx.min.js)")
    default_locale: str = Field(default="en", max_length=35, description="Page language when the browser asks none")

    @field_validator(
        "profiles_url", "matching_url", "relationships_url", "notifications_url", "dashboard_url", "dev_mail_url"
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return http_url(value, "http://127.0.0.1:8002")

    def base_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")
