"""Where relationships keeps a person's data (``shared.privacy``): texts they wrote, their relationships'
drafts and status rows."""

from __future__ import annotations

import asyncpg

from services.relationships.application.erase_participant import ERASED
from shared.privacy import Place

_THEIRS = (
    "SELECT relationship_id FROM relationship_view"
    " WHERE mentor_id = $1 OR $1 = ANY(co_mentor_ids) OR $1 = ANY(mentee_ids) OR $1 = ANY(left_ids)"
)

_DRAFT_TEXTS = (
    """
SELECT count(*) AS rows, count(*) FILTER (WHERE EXISTS (
           SELECT 1 FROM jsonb_array_elements(coalesce(d.terms -> 'goals', '[]'::jsonb)) g
           WHERE g ->> 'text' <> $2 OR g ->> 'measure' <> $2)
       OR EXISTS (
           SELECT 1 FROM jsonb_array_elements(coalesce(d.terms -> 'development_plan', '[]'::jsonb)) m
           WHERE m ->> 'title' <> $2)) AS readable
FROM agreement_drafts d WHERE d.relationship_id IN ("""
    + _THEIRS
    + ")"
)


async def inventory(conn: asyncpg.Connection, person_id: str) -> list[Place]:
    texts = await conn.fetchval("SELECT count(*) FROM confidential_texts WHERE author_id = $1", person_id)
    drafts = await conn.fetchrow(_DRAFT_TEXTS, person_id, ERASED)
    views = await conn.fetchval(f"SELECT count(*) FROM ({_THEIRS}) theirs", person_id)
    calendars = await conn.fetchval("SELECT count(*) FROM scheduling_calendars WHERE person_id = $1", person_id)
    return [
        Place(
            "table confidential_texts",
            "meeting notes and survey comments they wrote (encrypted, the pair can read them)",
            texts,
            texts,
        ),
        Place("table agreement_drafts", "goal texts, measures, milestones", drafts["rows"], drafts["readable"]),
        Place("table relationship_view", "ids, dates and phase only (no personal data)", views, 0),
        Place("table scheduling_calendars", "time zone and weekly availability windows", calendars, calendars),
    ]
