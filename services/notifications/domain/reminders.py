"""When reminders fall due: before a mentor's response deadline and before the cadence runs out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

REMINDER_HOUR = time(9, 0, tzinfo=UTC)


def response_reminder_at(respond_by: datetime, lead: timedelta) -> datetime:
    return respond_by - lead


def cadence_reminder_at(last_met_on: date, cadence_weeks_max: int, lead: timedelta) -> datetime:
    """``lead`` before the last meeting plus the longest agreed cadence, at the reminder hour."""
    runs_out = last_met_on + timedelta(weeks=cadence_weeks_max)
    return datetime.combine(runs_out, REMINDER_HOUR) - lead


def response_timer_key(request_id: str, mentor_id: str) -> str:
    return f"respond-reminder:{request_id}:{mentor_id}"


def cadence_timer_key(relationship_id: str) -> str:
    return f"cadence-reminder:{relationship_id}"


def next_digest_at(now: datetime, hour: int) -> datetime:
    today = datetime.combine(now.date(), time(hour, 0, tzinfo=UTC))
    return today if today > now else today + timedelta(days=1)
