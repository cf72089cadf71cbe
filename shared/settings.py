"""Settings every service takes from its environment (prefix ``MENTORSHIP_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-secret-change-me-in-production-0123456789"
DEFAULT_MAX_EVENT_BYTES = 1_000_000  # below Kafka's default message.max.bytes (1,048,588)


class BrokerSettings(BaseSettings):
    """How to reach the broker (``MENTORSHIP_KAFKA_*``): every service's, and the tools' that read the topics."""

    model_config = SettingsConfigDict(env_prefix="MENTORSHIP_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="How every producer, consumer and admin client reaches the broker; outside development mode"
        " it must be set explicitly (SASL_SSL in production)",
    )
    kafka_ssl_cafile: str | None = Field(
        default=None, description="PEM file of the CA that signed the broker's certificate (unset: the system's CAs)"
    )
    kafka_ssl_certfile: str | None = Field(default=None, description="PEM client certificate, for mutual TLS")
    kafka_ssl_keyfile: str | None = Field(default=None, description="PEM private key of the client certificate")
    kafka_ssl_check_hostname: bool = Field(
        default=True, description="Refuse a broker certificate that does not name the host connected to"
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = Field(default=None, description="This service's principal on the broker")
    kafka_sasl_password: SecretStr | None = None


class ServiceSettings(BrokerSettings):
    service_name: str = Field(description="profiles, matching, relationships, notifications or analytics")
    pg_dsn: str = Field(description="DSN of this service's own database")
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
    max_event_bytes: int = Field(
        default=DEFAULT_MAX_EVENT_BYTES,
        ge=1024,
        description="Largest event as published (envelope, key and headers), checked when it is appended:"
        " a command whose event is larger is refused with 413 and nothing is written. The producer's"
        " max_request_size and the topics' max.message.bytes are derived from it (shared.bus)",
    )
    dev_clock_file: str | None = Field(
        default=None,
        description="Development only (`mentorship dev up` demo): read the time from this file while it exists."
        " Never set in production",
    )
