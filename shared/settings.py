"""Settings every service takes from its environment (prefix ``MENTORSHIP_``)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.roles import DEV_JWT_SECRET

DEFAULT_MAX_EVENT_BYTES = 1_000_000  # below Kafka's default message.max.bytes (1,048,588)


def http_url(value: str | None, example: str) -> str | None:
    """A setting's URL of another service's API: http(s) with a host, kept without its trailing slash."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL of the service's API, e.g. {example}")
    return value.rstrip("/")


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
    oidc_audience: str = Field(
        default="urn:mentorship:{service}",
        description="The audience an access token must name to be accepted by this service; `{service}` stands for"
        " the service's name (one audience per service, so a token for one service is refused by the others)",
    )
    oidc_subject_claim: str = Field(
        default="sub", description="The claim that holds the participant's id (e.g. an employee id claim)"
    )
    oidc_roles_claim: str = Field(default="groups", description="The claim that holds the caller's groups or roles")
    oidc_role_map: dict[str, Literal["admin", "mentor", "mentee", "analyst", "hr-integration", "service"]] = Field(
        default_factory=dict,
        description="JSON: a value of the roles claim → a platform role (admin, mentor, mentee, analyst,"
        " hr-integration, service). Empty: values that are role names map to themselves",
    )
    oidc_client_id: str | None = Field(default=None, description="The web pages' client at the provider (sign-in)")
    oidc_client_secret: str | None = Field(default=None, description="That client's secret")
    oidc_scopes: str = Field(
        default="openid profile", description="What the web sign-in asks for: the scopes that bring the claims above"
    )
    web_session_seconds: int = Field(default=8 * 3600, ge=60, description="How long a web page's sign-in lasts")
    public_url: str | None = Field(
        default=None,
        description="Where browsers reach this service (behind a proxy): the sign-in's redirect URI and the origin"
        " forms must come from. Default: the request's own",
    )
    oidc_jwks_refresh_seconds: float = Field(
        default=10.0, ge=0, description="At most one JWKS refetch for an unknown key id per this many seconds"
    )
    token_max_lifetime_seconds: int = Field(
        default=12 * 3600, ge=60, description="A token whose exp - iat exceeds this is refused, however it is signed"
    )
    token_leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat")
    jwt_secret: str = DEV_JWT_SECRET
    key_sources: dict[str, str] = Field(
        default_factory=dict,
        description="JSON: the producers whose sealed personal fields this service opens → their base URLs"
        ' (comma-separated replicas, tried in turn), e.g. {"profiles": "https://profiles.internal"}.'
        " Records of any other producer open to placeholders (shared.keysource)",
    )
    key_cache_seconds: float = Field(
        default=60.0, ge=0, description="How long a consumer keeps a producer's key in memory (0: ask every time)"
    )
    service_client_id: str | None = Field(
        default=None, description="This service's client at the provider, for the keys of its key sources"
    )
    service_client_secret: SecretStr | None = Field(default=None, description="That client's secret")
    service_token_scope: str | None = Field(
        default=None,
        description="Scope to ask with the client-credentials grant, if the provider wants one"
        " (`{audience}` stands for the producer's audience)",
    )
    log_level: str = "INFO"
    log_json: bool = True
    consumer_max_attempts: int = Field(default=5, ge=1, description="Tries before a failing event is dead-lettered")
    consumer_backoff_seconds: float = Field(default=0.2, gt=0)
    consumer_session_timeout_ms: int = Field(default=10_000, ge=1_000)
    timer_poll_seconds: float = Field(default=1.0, gt=0, description="How often due timers are looked for")
    relay_batch_size: int = Field(default=500, ge=1)
    relay_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="The relay's fallback poll: it is woken at once when rows are committed to the outbox (NOTIFY)",
    )
    producer_linger_ms: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="How long the producer waits to fill a batch; 0: records go at once (the relay sends a"
        " round's rows together anyway)",
    )
    consumer_batch_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Records a consumer handles in one transaction at most, with one offset commit (whatever has"
        " arrived; it does not wait to fill a batch). 1: one transaction and one offset commit per record",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        le=500,
        description="Longest the broker may hold an empty fetch (Kafka's default 500): Tansu looks for records"
        " again after half of it, then three quarters and so on, so a record waits about half of it at most, and"
        " an idle consumer fetches this often",
    )
    max_event_bytes: int = Field(
        default=DEFAULT_MAX_EVENT_BYTES,
        ge=1024,
        description="Largest event as published (envelope, key and headers), checked when it is appended:"
        " a command whose event is larger is refused with 413 and nothing is written. The producer's"
        " max_request_size and the topics' max.message.bytes are derived from it (shared.bus)",
    )
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
    tracing_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint traces are exported to (e.g. http://otel-collector:4318); unset: no tracing,"
        " at no cost (shared.tracing)",
    )
    tracing_sample_ratio: float = Field(
        default=1.0, ge=0, le=1, description="Share of traces begun here that are recorded (a caller's choice stands)"
    )
    dev_clock_file: str | None = Field(
        default=None,
        description="Development only (`mentorship dev up` demo): read the time from this file while it exists."
        " Never set in production",
    )
