"""Run the notifications service: ``python -m services.notifications`` (settings from MENTORSHIP_* env).

What it is made of is built in ``bootstrap.py``.
"""

from __future__ import annotations

from services.notifications.bootstrap import build_app, startup_findings
from shared.serve import serve

__all__ = ["build_app"]

if __name__ == "__main__":
    serve(build_app, service_name="notifications", default_port=8004, checks=startup_findings)
