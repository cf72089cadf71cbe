"""Prometheus metrics shared by the plumbing; each process exposes them on ``/metrics``."""

from prometheus_client import Counter, Gauge, Histogram

consumed_events = Counter(
    "mentorship_consumed_events_total",
    "Events seen by a consumer group, by outcome (handled, duplicate, ignored, dead_lettered)",
    ["group", "event_type", "outcome"],
)
handler_failures = Counter(
    "mentorship_handler_failures_total", "Failed handler attempts (retried or dead-lettered)", ["group", "event_type"]
)
consumer_lag = Gauge(
    "mentorship_consumer_lag",
    "Records behind the partition's end when the last record was handled",
    ["group", "topic", "partition"],
)
consumer_recoveries = Counter(
    "mentorship_consumer_recoveries_total",
    "Times a stuck consumer left its group and joined again (shared/watchdog.py), by reason (unassigned, stalled)",
    ["group", "reason"],
)
outbox_published = Counter("mentorship_outbox_published_total", "Events the relay published", ["service"])
outbox_backlog = Gauge(
    "mentorship_outbox_backlog", "Committed events not yet published (as of the last round)", ["service"]
)
outbox_parked_events = Counter(
    "mentorship_outbox_parked_events_total",
    "Events the relay parked: refused by the broker for good, or held behind a parked event of their aggregate",
    ["service", "cause"],
)
outbox_parked = Gauge(
    "mentorship_outbox_parked", "Parked events waiting for an operator (mentorship outbox parked)", ["service"]
)
relay_latency = Histogram(
    "mentorship_relay_latency_seconds",
    "From an event's append to the broker's acknowledgement of it",
    ["service"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
http_latency = Histogram(
    "mentorship_http_request_seconds",
    "HTTP request latency by route and status",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
http_shed = Counter(
    "mentorship_http_shed_total",
    "Requests answered 503 with Retry-After because the service was at capacity, by reason",
    ["service", "reason"],
)
db_statements = Counter(
    "mentorship_db_statements_total",
    "SQL statements this process sent to Postgres, each a round trip (transaction control and resets included)",
)
key_fetch_latency = Histogram(
    "mentorship_key_fetch_seconds",
    "A consumer's request for a producer's person keys (shared/keysource.py), from asking to the answer",
    ["producer"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5),
)
