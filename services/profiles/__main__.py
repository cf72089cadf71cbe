"""Run the profiles service: ``python -m services.profiles`` (settings from MENTORSHIP_* env).

What it runs is wired in ``bootstrap.py``: the HTTP API, the ``hr.events`` consumer, and the durable
timers that apply forward-dated HR facts when their date arrives.
"""

from __future__ import annotations

from services.profiles.bootstrap import build_app
from shared.serve import serve

__all__ = ["build_app"]

if __name__ == "__main__":
    serve(build_app, service_name="profiles", default_port=8001)
