"""Run the analytics service: ``python -m services.analytics`` (settings from MENTORSHIP_* env).

Only the service frame is here yet; its domain arrives with its own issue.
"""

from shared.serve import serve_frame

if __name__ == "__main__":
    serve_frame("analytics", 8005, "Read side: relationship timelines and program-evaluation dashboards.", publishes=False)
