"""Run the matching service: ``python -m services.matching`` (settings from MENTORSHIP_* env).

The wiring is in ``bootstrap.py``; ``build_app`` is re-exported for callers that import it from here.
"""

from __future__ import annotations

from services.matching.bootstrap import build_app
from shared.serve import serve

__all__ = ["build_app"]

if __name__ == "__main__":
    serve(build_app, service_name="matching", default_port=8002)
