"""Run the relationships service: ``python -m services.relationships`` (settings from MENTORSHIP_* env).

Only the service frame is here yet; its domain arrives with its own issue.
"""

from shared.serve import serve_frame

if __name__ == "__main__":
    serve_frame("relationships", 8003, "Relationships, agreements, goals, meetings, cadence and closure.")
