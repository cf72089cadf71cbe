"""Pure translations for scheduled meetings: the ``datetime-local`` values a person types (in their own time zone)
as the aware times relationships expects, those times shown back in the person's zone, and the 422 field paths of
the rows actually sent placed back on the rows of the form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CANDIDATE_ROWS = 3
"""Candidate times a proposal or a reschedule offers (relationships accepts up to five)."""
WINDOW_ROWS = 3
"""Empty weekly-window rows the availability form adds after the windows already set."""
WEEKDAYS = (0, 1, 2, 3, 4, 5, 6)


def zone(name: str | None) -> ZoneInfo:
    """The person's IANA zone; UTC for none or an unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_to_aware(typed: str, zone_name: str | None) -> str:
    """``2026-03-03T10:00`` typed in ``Europe/Berlin`` → ``2026-03-03T10:00:00+01:00``. What is not a local time
    is sent as typed, so relationships names the field."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return typed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(zone_name))
    return moment.isoformat()


def aware_to_local(value: str | datetime | None, zone_name: str | None) -> str:
    """An instant as a ``datetime-local`` value in the person's zone (``2026-03-03T10:00``)."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone(zone_name)).strftime("%Y-%m-%dT%H:%M")


def shown(value: str | datetime | None, zone_name: str | None) -> str:
    """An instant as the person reads it: ``2026-03-03 10:00 (Europe/Berlin)``."""
    local = aware_to_local(value, zone_name)
    return f"{local.replace('T', ' ')} ({zone(zone_name).key})" if local else ""


def filled(values: Sequence[str]) -> list[tuple[int, str]]:
    """The rows typed in (their form index and value); empty rows are not sent."""
    return [(i, v) for i, v in enumerate(values) if v]


def rows_back(errors: Mapping[str, str], prefix: str, sent: Sequence[int]) -> dict[str, str]:
    """The service's ``prefix.N…`` paths (N counting the rows sent) as the form's row indexes; other paths kept."""
    placed: dict[str, str] = {}
    for path, reason in errors.items():
        parts = path.split(".")
        if parts[0] == prefix and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(sent):
            parts[1] = str(sent[int(parts[1])])
        placed.setdefault(".".join(parts), reason)
    return placed
