"""What scheduling needs beyond the repositories, as Protocols (Postgres in ``adapters/scheduling_postgres.py``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from services.relationships.domain.meeting_schedule import Busy, MeetingSchedule
from services.relationships.domain.scheduling_availability import Calendar, Window
from shared.ports import Conn


class Calendars(Protocol):
    """Each person's time zone (kept from profiles' events) and weekly availability windows (set by them here)."""

    async def of(self, conn: Conn, person_ids: Collection[str]) -> dict[str, Calendar]:
        """The calendars of the people named; someone never heard of is absent (free at any time, in UTC)."""
        ...

    async def set_time_zone(self, conn: Conn, person_id: str, time_zone: str) -> None: ...

    async def set_windows(self, conn: Conn, person_id: str, windows: Sequence[Window]) -> None: ...

    async def forget(self, conn: Conn, person_id: str) -> None:
        """Erasure: the person's windows and zone are deleted."""
        ...


class ScheduledMeetings(Protocol):
    """One row per scheduled meeting (a commit hook of the meeting repository)."""

    async def save(self, conn: Conn, meeting: MeetingSchedule) -> None: ...

    async def busy(self, conn: Conn, relationship_id: str, *, lock: bool = False) -> list[Busy]:
        """The pair's accepted meetings.  ``lock``: the pair is locked until the transaction ends (an advisory
        lock on the relationship), so two acceptances never both pass the overlap rule (the port owns this)."""
        ...

    async def of_relationship(self, conn: Conn, relationship_id: str) -> list[dict[str, Any]]:
        """The pair's scheduled meetings, soonest first."""
        ...

    async def next_accepted(self, conn: Conn, relationship_id: str, after: datetime) -> datetime | None:
        """The start of the pair's next accepted meeting after ``after``, if one is scheduled."""
        ...
