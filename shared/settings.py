"""Settings every service takes from its environment (prefix ``MENTORSHIP_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_", extra="ignore")

    service_name: str = Field(description="profiles, matching, relationships, notifications or analytics")
    pg_dsn: str = Field(description="DSN of this service's own database")
    kafka_bootstrap: str = "127.0.0.1:9092"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    topic_partitions: int = Field(default=3, ge=1)
    dev_mode: bool = Field(
        default=False,
        description="Explicit development mode (`MENTORSHIP_DEV_MODE=1`; set by `mentorship dev up` and the tests)."
        " Development defaults (the development token secret, development keys) are accepted only in it;"
        " outside it a service refuses to start on them",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="The institution's OpenID Connect issuer URL; access tokens are verified against its JWKS",
    )
    jwt_secret: str = DEV_JWT_SECRET
    log_level: str = "INFO"
    log_json: bool = True
    consumer_max_attempts: int = Field(default=5, ge=1, description="Tries before a failing event is dead-lettered")
    consumer_backoff_seconds: float = Field(default=0.2, gt=0)
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    timer_poll_seconds: float = Field(default=1.0, gt=0, description="How often due timers are looked for")
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    http_max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body a route takes (bytes) unless it declares more (batches and files:"
        " shared.limits.BULK_BODY_BYTES); larger → 413 before the body is read",
    )
    http_max_in_flight: int = Field(
        default=16, ge=1, description="Requests one process serves at once (a few more than its 10 pooled connections)"
    )
    http_max_queued: int = Field(
        default=32, ge=0, description="Requests that may wait for a turn beyond those; any more → 503 at once"
    )
    http_queue_seconds: float = Field(
        default=1.0, gt=0, description="Longest wait for a turn before 503 (Retry-After: this, rounded up)"
    )
    db_acquire_timeout_seconds: float = Field(
        default=2.0, gt=0, description="Longest wait of a request for a database connection before 503"
    )
    dev_clock_file: str | None = Field(
        default=None,
        description="Development only (`mentorship dev up` demo): read the time from this file while it exists."
        " Never set in production",
    )
