"""Run the analytics service (read side): ``python -m services.analytics`` (settings from MENTORSHIP_* env)."""

from __future__ import annotations

from services.analytics.bootstrap import build_app, startup_findings
from shared.serve import serve

if __name__ == "__main__":
    serve(build_app, service_name="analytics", default_port=8005, checks=startup_findings)
