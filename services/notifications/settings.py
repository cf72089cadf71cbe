"""Settings of the notifications service beyond every service's own (prefix ``MENTORSHIP_NOTIFICATIONS_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.startup_checks import MIN_SECRET_LENGTH, Finding, public_https_url, secret


class NotificationsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_NOTIFICATIONS_", extra="ignore")

    director_ids: list[str] = Field(
        default_factory=list, description="Participant ids of the program directors (contacts from profiles events)"
    )
    director_emails: list[str] = Field(
        default_factory=list, description="Director addresses without a profile; each is its own recipient id"
    )
    program: str = Field(default="default", description="Template folder tried before the built-in templates")
    templates_dir: Path | None = Field(
        default=None, description="Holds <program>/ and default/ folders of *.subject/*.txt/*.html overrides"
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_tls: bool = Field(default=False, description="Implicit TLS (port 465 style)")
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10, gt=0)
    smtp_connections: int = Field(default=8, ge=1, le=100, description="SMTP sessions kept open and reused")
    smtp_idle_seconds: float = Field(
        default=30, gt=0, description="A pooled SMTP session idle longer than this is closed, not reused"
    )
    smtp_helo_name: str = Field(
        default="notifications.mentorship.local",
        description="EHLO name; given explicitly because aiosmtplib's default (socket.getfqdn) blocks the event loop",
    )
    mail_from: str = "Mentoring Office <mentoring@example.org>"
    message_id_domain: str = "notifications.mentorship.local"
    webhook_url: str | None = Field(
        default=None,
        description="The institution's receiver; unset: no webhook channel. Outside development mode an https URL"
        " of a public host",
    )
    webhook_secret: str = Field(
        default="",
        description="Shared secret for the HMAC-SHA256 signature; required (32 characters or more) whenever"
        " webhook_url is set",
    )
    default_channels: list[str] = Field(default_factory=lambda: ["email"])
    max_attempts: int = Field(default=5, ge=1, description="Delivery tries before NotificationFailed")
    retry_first_seconds: float = Field(default=30, gt=0, description="Back-off after the first failure; doubles")
    claim_lease_seconds: float = Field(default=120, gt=0, description="A 'sending' claim older than this was lost")
    response_reminder_days: float = Field(default=2, ge=0, description="Reminder this long before respond_by")
    cadence_reminder_days: float = Field(default=7, ge=0, description="Reminder this long before the cadence ends")
    meeting_reminder_hours: float = Field(
        default=24, ge=0, le=24 * 14, description="Reminder this long before a meeting"
    )
    portal_url: str = Field(
        default="http://localhost:8000", description="The portal's address, for links to its pages (no trailing /)"
    )
    calendar_domain: str = Field(default="mentorship", description="An invitation's UID is <meeting id>@<this>")
    digest_hour_utc: int = Field(default=7, ge=0, le=23)
    delivery_concurrency: int = Field(default=32, ge=1, le=200, description="Intents claimed (and sent) as one batch")
    delivery_batches: int = Field(
        default=4, ge=1, le=50, description="Claimed batches (of up to delivery_concurrency) in flight at once"
    )
    delivery_poll_seconds: float = Field(default=1.0, gt=0)
    consumer_fetch_wait_ms: int = Field(
        default=100,
        ge=1,
        le=500,
        description="Longest the broker may hold an empty fetch: the latency an idle consumer adds"
        " (Kafka's default 500). Each fetch costs the consumer about 1.5 ms of CPU, so at 20 ms an idle"
        " notifications process spent 89 ms CPU/s waiting; a mail may well wait 50 ms more"
        " (bench/load.py --idle-seconds, bench/notify_latency.py)",
    )
    consumer_batch: int = Field(
        default=100, ge=1, le=1000, description="Events handled in one consumer transaction at most (1: one by one)"
    )

    def webhook_findings(self) -> list[Finding]:
        """Without a webhook URL there is no webhook channel, so no secret is needed; with one, both must be
        safe: https to a public host, and a real shared secret."""
        if not self.webhook_url:
            return []
        return public_https_url("MENTORSHIP_NOTIFICATIONS_WEBHOOK_URL", self.webhook_url) + secret(
            "MENTORSHIP_NOTIFICATIONS_WEBHOOK_SECRET", self.webhook_secret, min_length=MIN_SECRET_LENGTH
        )
