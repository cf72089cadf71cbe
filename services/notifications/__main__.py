"""Run the notifications service: ``python -m services.notifications`` (settings from MENTORSHIP_* env).

Only the service frame is here yet; its domain arrives with its own issue.
"""

from shared.serve import serve_frame

if __name__ == "__main__":
    serve_frame("notifications", 8004, "Introductions, forwarded requests, nudges and reminders.")
