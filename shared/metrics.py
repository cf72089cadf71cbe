"""Prometheus metrics shared by the plumbing; each process exposes them on ``/metrics``."""

from prometheus_client import Counter, Gauge

consumed_events = Counter(
    "mentorship_consumed_events_total",
    "Events seen by a consumer group, by outcome (handled, duplicate, ignored, dead_lettered)",
    ["group", "event_type", "outcome"],
)
handler_failures = Counter(
    "mentorship_handler_failures_total", "Failed handler attempts (retried or dead-lettered)", ["group", "event_type"]
)
outbox_published = Counter("mentorship_outbox_published_total", "Events the relay published", ["service"])
outbox_backlog = Gauge("mentorship_outbox_backlog", "Committed events not yet published", ["service"])
