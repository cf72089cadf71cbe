"""The scheduling ports on Postgres: ``scheduled_meetings`` (the meetings' rows) and ``scheduling_calendars``."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, time
from typing import Any

import asyncpg

from services.relationships.domain.meeting_schedule import Busy, MeetingSchedule
from services.relationships.domain.scheduling_availability import Calendar, Window

_SAVE = """
INSERT INTO scheduled_meetings (meeting_id, relationship_id, version, status, proposed_by, organizer_id, candidates,
                                duration_minutes, starts_at, ends_at, sequence, agenda, format)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (meeting_id) DO UPDATE SET
    version = EXCLUDED.version, status = EXCLUDED.status, proposed_by = EXCLUDED.proposed_by,
    organizer_id = EXCLUDED.organizer_id, candidates = EXCLUDED.candidates,
    duration_minutes = EXCLUDED.duration_minutes, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
    sequence = EXCLUDED.sequence, agenda = EXCLUDED.agenda, format = EXCLUDED.format
"""


class PostgresScheduledMeetings:
    async def save(self, conn: asyncpg.Connection, m: MeetingSchedule) -> None:
        await conn.execute(
            _SAVE,
            m.meeting_id,
            m.relationship_id,
            m.version,
            m.status,
            m.proposed_by,
            m.organizer_id,
            m.candidates,
            int(m.duration.total_seconds() // 60),
            m.starts_at,
            m.ends_at,
            m.sequence,
            {"goal_ids": list(m.agenda.goal_ids), "topics": list(m.agenda.topics)},
            m.format,
        )

    async def busy(self, conn: asyncpg.Connection, relationship_id: str, *, lock: bool = False) -> list[Busy]:
        if lock:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('scheduling:' || $1))", relationship_id)
        rows = await conn.fetch(
            "SELECT meeting_id, starts_at, ends_at FROM scheduled_meetings"
            " WHERE relationship_id = $1 AND status = 'accepted' ORDER BY starts_at",
            relationship_id,
        )
        return [Busy(r["meeting_id"], r["starts_at"], r["ends_at"]) for r in rows]

    async def of_relationship(self, conn: asyncpg.Connection, relationship_id: str) -> list[dict[str, Any]]:
        rows = await conn.fetch(
            "SELECT meeting_id, relationship_id, version, status, proposed_by, organizer_id, candidates,"
            " duration_minutes, starts_at, ends_at, sequence, agenda, format FROM scheduled_meetings"
            " WHERE relationship_id = $1 ORDER BY coalesce(starts_at, candidates[1]), meeting_id",
            relationship_id,
        )
        return [dict(r) for r in rows]

    async def next_accepted(self, conn: asyncpg.Connection, relationship_id: str, after: datetime) -> datetime | None:
        return await conn.fetchval(
            "SELECT min(starts_at) FROM scheduled_meetings"
            " WHERE relationship_id = $1 AND status = 'accepted' AND starts_at > $2",
            relationship_id,
            after,
        )


class PostgresCalendars:
    async def of(self, conn: asyncpg.Connection, person_ids: Collection[str]) -> dict[str, Calendar]:
        rows = await conn.fetch(
            "SELECT person_id, time_zone, windows FROM scheduling_calendars WHERE person_id = ANY($1)",
            list(person_ids),
        )
        return {
            r["person_id"]: Calendar(
                r["person_id"],
                r["time_zone"],
                tuple(
                    Window(w["weekday"], time.fromisoformat(w["start"]), time.fromisoformat(w["end"]))
                    for w in r["windows"]
                ),
            )
            for r in rows
        }

    async def set_time_zone(self, conn: asyncpg.Connection, person_id: str, time_zone: str) -> None:
        await conn.execute(
            "INSERT INTO scheduling_calendars (person_id, time_zone) VALUES ($1, $2)"
            " ON CONFLICT (person_id) DO UPDATE SET time_zone = EXCLUDED.time_zone",
            person_id,
            time_zone,
        )

    async def set_windows(self, conn: asyncpg.Connection, person_id: str, windows: Sequence[Window]) -> None:
        stored = [{"weekday": w.weekday, "start": w.start.isoformat(), "end": w.end.isoformat()} for w in windows]
        await conn.execute(
            "INSERT INTO scheduling_calendars (person_id, windows) VALUES ($1, $2)"
            " ON CONFLICT (person_id) DO UPDATE SET windows = EXCLUDED.windows",
            person_id,
            stored,
        )

    async def forget(self, conn: asyncpg.Connection, person_id: str) -> None:
        await conn.execute("DELETE FROM scheduling_calendars WHERE person_id = $1", person_id)
