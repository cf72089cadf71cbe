"""The ``ReadModel`` port on the relationship_view table: status and dates, never notes or comments.

``STATUS`` (the row as the API shows it) is shared with the read-only listing in ``views.py``.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from services.relationships.domain.relationship import Relationship

_UPSERT = """
INSERT INTO relationship_view (relationship_id, version, model, mentor_id, mentee_ids, match_id, phase, started_on,
                               agreement_signed_on, cadence_weeks_max, last_meeting_on, meetings, lagging,
                               review_due_on, closed_on, closure_reason, rematch_requested, program_id,
                               co_mentor_ids, left_ids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
ON CONFLICT (relationship_id) DO UPDATE SET
    version = EXCLUDED.version, phase = EXCLUDED.phase, mentor_id = EXCLUDED.mentor_id,
    co_mentor_ids = EXCLUDED.co_mentor_ids, mentee_ids = EXCLUDED.mentee_ids, left_ids = EXCLUDED.left_ids,
    agreement_signed_on = EXCLUDED.agreement_signed_on,
    cadence_weeks_max = EXCLUDED.cadence_weeks_max, last_meeting_on = EXCLUDED.last_meeting_on,
    meetings = EXCLUDED.meetings, lagging = EXCLUDED.lagging, review_due_on = EXCLUDED.review_due_on,
    closed_on = EXCLUDED.closed_on, closure_reason = EXCLUDED.closure_reason,
    rematch_requested = EXCLUDED.rematch_requested
"""

STATUS = """
SELECT v.relationship_id, v.version, v.model, v.program_id, v.mentor_id, v.co_mentor_ids, v.mentee_ids,
       array_remove(array_prepend(v.mentor_id, v.co_mentor_ids), NULL) AS mentors, v.mentee_ids AS members,
       v.match_id,
       CASE WHEN v.phase = 'preparing' AND d.relationship_id IS NOT NULL THEN 'negotiating' ELSE v.phase END AS phase,
       v.started_on, v.agreement_signed_on, v.cadence_weeks_max, v.last_meeting_on, v.meetings, v.lagging,
       v.review_due_on, v.closed_on, v.closure_reason, v.rematch_requested,
       CASE WHEN v.phase <> 'closed'
            THEN coalesce(v.last_meeting_on, v.started_on) + 7 * v.cadence_weeks_max END AS next_meeting_due_on
FROM relationship_view v LEFT JOIN agreement_drafts d USING (relationship_id)
"""


class PostgresReadModel:
    async def save(self, conn: asyncpg.Connection, r: Relationship) -> None:
        await conn.execute(
            _UPSERT,
            r.relationship_id,
            r.version,
            r.model,
            r.mentors[0] if r.mentors else None,
            r.members,
            r.match_id,
            r.phase,
            r.started_on,
            r.agreement.signed_on if r.agreement else None,
            r.cadence_weeks_max,
            r.last_meeting_on,
            len(r.meetings),
            r.lagging,
            r.review_due_on,
            r.closure.closed_on if r.closure else None,
            r.closure.reason if r.closure else None,
            r.closure.rematch_requested if r.closure else None,
            r.program_id,
            r.mentors[1:] if r.model == "group" else [],
            sorted(r.left),
        )

    async def status(self, conn: asyncpg.Connection, relationship_id: str) -> dict[str, Any] | None:
        row = await conn.fetchrow(f"{STATUS} WHERE v.relationship_id = $1", relationship_id)
        return dict(row) if row else None

    async def open_ids_of(self, conn: asyncpg.Connection, participant_id: str) -> list[str]:
        rows = await conn.fetch(
            "SELECT relationship_id FROM relationship_view"
            " WHERE phase <> 'closed' AND (mentor_id = $1 OR $1 = ANY (co_mentor_ids) OR $1 = ANY (mentee_ids))"
            " ORDER BY relationship_id",
            participant_id,
        )
        return [r["relationship_id"] for r in rows]
