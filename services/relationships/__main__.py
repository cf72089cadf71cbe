"""Run the relationships service: ``python -m services.relationships`` (settings from MENTORSHIP_* env).

The wiring is ``bootstrap.build_app``; this module only serves it.
"""

from __future__ import annotations

from services.relationships.bootstrap import build_app, startup_findings
from shared.serve import serve

__all__ = ["build_app"]

if __name__ == "__main__":
    serve(build_app, service_name="relationships", default_port=8003, checks=startup_findings)
