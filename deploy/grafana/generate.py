"""Writes the Grafana dashboard JSON for the platform's Prometheus metrics (``shared/metrics.py``).

python -m deploy.grafana.generate
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).parent
DASHBOARD = HERE / "mentorship.json"

PANELS = [
    ("Consumer lag by group and partition", "sum by (group, topic, partition) (mentorship_consumer_lag)", "short"),
    (
        "Events handled / s by group",
        'sum by (group) (rate(mentorship_consumed_events_total{outcome="handled"}[5m]))',
        "ops",
    ),
    (
        "Dead-lettered events / s",
        'sum by (group, event_type) (rate(mentorship_consumed_events_total{outcome="dead_lettered"}[5m]))',
        "ops",
    ),
    ("Handler failures / s", "sum by (group, event_type) (rate(mentorship_handler_failures_total[5m]))", "ops"),
    ("Outbox backlog", "max by (service) (mentorship_outbox_backlog)", "short"),
    (
        "Relay latency p99",
        "histogram_quantile(0.99, sum by (service, le) (rate(mentorship_relay_latency_seconds_bucket[5m])))",
        "s",
    ),
    ("Events published / s", "sum by (service) (rate(mentorship_outbox_published_total[5m]))", "ops"),
    (
        "HTTP p99 by route",
        "histogram_quantile(0.99, sum by (service, route, le) (rate(mentorship_http_request_seconds_bucket[5m])))",
        "s",
    ),
    ("HTTP 5xx / s", 'sum by (service, route) (rate(mentorship_http_request_seconds_count{status=~"5.."}[5m]))', "ops"),
]


def dashboard() -> dict:
    panels = [
        {
            "id": i + 1,
            "type": "timeseries",
            "title": title,
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
            "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
            "targets": [{"refId": "A", "expr": expr}],
        }
        for i, (title, expr, unit) in enumerate(PANELS)
    ]
    return {
        "title": "Mentorship platform",
        "uid": "mentorship-platform",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": panels,
    }


def render() -> str:
    return json.dumps(dashboard(), indent=2) + "\n"


if __name__ == "__main__":
    DASHBOARD.write_text(render())
    print(f"wrote {DASHBOARD}")
