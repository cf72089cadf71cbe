"""When a person can meet: weekly windows in their own time zone.  No I/O.

A window is a weekday (0 = Monday) and a start and end time of day, read in the person's IANA time
zone (from their profile), so "Tuesdays 09:00-12:00" in Europe/Berlin stays 09:00-12:00 Berlin time
on both sides of a DST change.  A person who has stated no windows is taken to be free at any time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Window:
    weekday: int
    start: time
    end: time

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Calendar:
    """A person's time zone and weekly availability windows (none: any time)."""

    person_id: str
    time_zone: str = "UTC"
    windows: tuple[Window, ...] = field(default_factory=tuple)

    @property
    def zone(self) -> ZoneInfo:
        return zone_of(self.time_zone)


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone, UTC for an unknown name (a profile's zone is checked where it is entered)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def outside_windows(calendar: Calendar, start: datetime, end: datetime) -> str | None:
    """Why ``start``-``end`` is not within one of the person's windows in their zone; None when it is."""
    if not calendar.windows:
        return None
    local_start, local_end = start.astimezone(calendar.zone), end.astimezone(calendar.zone)
    if local_start.date() != local_end.date() and local_end.time() != time(0):
        return f"{local_start:%a %H:%M}-{local_end:%a %H:%M} {calendar.time_zone} spans two days"
    end_of_day = local_end.time() if local_end.date() == local_start.date() else time.max
    for window in calendar.windows:
        if window.weekday == local_start.weekday() and window.start <= local_start.time() and end_of_day <= window.end:
            return None
    stated = ", ".join(str(w) for w in calendar.windows)
    return f"{local_start:%A %H:%M}-{local_end:%H:%M} {calendar.time_zone} is not within {stated}"


def check_windows(windows: Sequence[Window]) -> str | None:
    """Why the windows are not well formed (index and reason), or None."""
    for n, w in enumerate(windows):
        if not 0 <= w.weekday <= 6:
            return f"{n}: weekday is 0 (Monday) to 6 (Sunday)"
        if w.end <= w.start:
            return f"{n}: ends after it starts"
    return None


def valid_zone(name: object) -> bool:
    if not isinstance(name, str) or not name or len(name) > 64:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
