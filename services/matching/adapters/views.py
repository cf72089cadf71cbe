"""What the HTTP routes read directly: the request, directory and bulk-run views (the ``ReadModel`` port).

Reads only; each runs on the runtime's pool outside any use case's transaction.
"""

from __future__ import annotations

import json
from typing import Any

from shared.runtime import ServiceRuntime

_REQUEST_COLUMNS = """r.request_id, r.version, r.mentee_id, r.status, r.origin, r.ranked_mentor_ids, r.biography,
r.motivation, r.choice_rank, r.mentor_id, r.respond_by, r.forwarded_to, r.decline_reason, r.matched_mentor_id,
r.submitted_at, r.updated_at, r.program_id, m.name AS mentee_name, m.priority_group,
(SELECT coalesce(jsonb_object_agg(d.mentor_id, d.name), '{}'::jsonb) FROM mentor_directory d
  WHERE d.mentor_id = ANY (r.ranked_mentor_ids || r.forwarded_to || r.matched_mentor_id)) AS mentor_names"""
_REQUESTS = f"SELECT {_REQUEST_COLUMNS} FROM requests r LEFT JOIN mentees m USING (mentee_id)"
_QUEUE = f"""SELECT {_REQUEST_COLUMNS} FROM requests r LEFT JOIN mentees m USING (mentee_id)
LEFT JOIN programs p ON p.program_id = r.program_id"""

_MENTOR_CARD = """SELECT d.mentor_id, d.name, d.specialty, d.interests, d.career_stage, d.languages, d.time_zone,
       d.biography, d.capacity,
       CASE WHEN d.accepting_requests THEN greatest(d.capacity - mentor_load(d.mentor_id, 'default'), 0)
            ELSE 0 END AS open_slots
FROM mentor_directory d WHERE d.active"""


class PostgresViews:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    async def request(self, request_id: str) -> dict[str, Any] | None:
        row = await self.runtime.pool.fetchrow(f"{_REQUESTS} WHERE r.request_id = $1", request_id)
        return None if row is None else _request(row)

    async def requests(
        self,
        *,
        mentee_id: str | None,
        mentor_id: str | None,
        status: str | None,
        limit: int,
        offset: int,
        waiting_for: str | None = None,
        program_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """``waiting_for``: only the requests waiting for that mentor's answer now (a mentor's inbox).

        Ordered by priority group first (the mentee's group's place in their request's program's
        ``priority_groups``; mentees in none of them after), then by submission: the director's review queue."""
        rows = await self.runtime.pool.fetch(
            f"""{_QUEUE}
                WHERE ($1::text IS NULL OR r.mentee_id = $1) AND ($2::text IS NULL OR $2 = ANY (r.forwarded_to))
                  AND ($3::text IS NULL OR r.status = $3)
                  AND ($6::text IS NULL OR (r.status = 'forwarded' AND r.mentor_id = $6))
                  AND ($7::text IS NULL OR r.program_id = $7)
                ORDER BY array_position(p.priority_groups, m.priority_group) NULLS LAST, r.submitted_at, r.request_id
                LIMIT $4 OFFSET $5""",
            mentee_id,
            mentor_id,
            status,
            limit,
            offset,
            waiting_for,
            program_id,
        )
        return [_request(r) for r in rows]

    async def mentors(self, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        async with self.runtime.pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM mentor_directory WHERE active")
            rows = await conn.fetch(
                f"{_MENTOR_CARD} ORDER BY d.registered_at, d.mentor_id LIMIT $1 OFFSET $2", limit, offset
            )
        return total, [dict(r) for r in rows]

    async def mentor(self, mentor_id: str) -> dict[str, Any] | None:
        """One active mentor's directory card."""
        row = await self.runtime.pool.fetchrow(f"{_MENTOR_CARD} AND d.mentor_id = $1", mentor_id)
        return None if row is None else dict(row)

    async def mentee(self, mentee_id: str) -> dict[str, Any] | None:
        """A mentee's card (no biography: that is the request's), with the mentors they are paired with now
        and the mentor a request of theirs waits for: who besides the director may read the card."""
        row = await self.runtime.pool.fetchrow(
            """SELECT m.mentee_id, m.name, m.specialty, m.interests, m.career_stage, m.languages, m.time_zone,
                      m.active,
                      ARRAY(SELECT p.mentor_id FROM active_pairs p WHERE p.mentee_id = m.mentee_id) AS mentor_ids,
                      ARRAY(SELECT r.mentor_id FROM requests r
                            WHERE r.mentee_id = m.mentee_id AND r.status = 'forwarded') AS asked_mentor_ids
               FROM mentees m WHERE m.mentee_id = $1""",
            mentee_id,
        )
        return None if row is None else dict(row)

    async def bulk_runs(self, *, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
        """Bulk runs, newest first, without their pairs and report."""
        rows = await self.runtime.pool.fetch(
            """SELECT run_id, program_id, mode, cohort, status, requested_by, summary, created_at, decided_by,
                      decided_at
               FROM bulk_runs WHERE $1::text IS NULL OR status = $1
               ORDER BY created_at DESC, run_id LIMIT $2 OFFSET $3""",
            status,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def bulk_run(self, run_id: str) -> dict[str, Any] | None:
        async with self.runtime.pool.acquire() as conn:
            run = await conn.fetchrow("SELECT * FROM bulk_runs WHERE run_id = $1", run_id)
            if run is None:
                return None
            pairs = await conn.fetch(
                "SELECT mentee_id, mentor_id, score, choice_rank, pinned FROM bulk_run_pairs WHERE run_id = $1"
                " ORDER BY mentee_id",
                run_id,
            )
            circles = await conn.fetch(
                "SELECT circle, member_ids, score FROM bulk_run_circles WHERE run_id = $1 ORDER BY circle", run_id
            )
        view = dict(run)
        view["pairs"] = [dict(p) for p in pairs]
        view["circles"] = [dict(c) for c in circles]
        return view

    async def program_ids(self) -> list[str]:
        rows = await self.runtime.pool.fetch("SELECT program_id FROM programs ORDER BY defined_at, program_id")
        return [r["program_id"] for r in rows]

    async def enrolled_counts(self) -> dict[str, dict[str, int]]:
        """Per program: how many mentors, mentees and peers are enrolled."""
        rows = await self.runtime.pool.fetch(
            "SELECT program_id, role, count(*) AS n FROM enrolments GROUP BY program_id, role"
        )
        counts: dict[str, dict[str, int]] = {}
        for r in rows:
            counts.setdefault(r["program_id"], {"mentors": 0, "mentees": 0, "peers": 0})[f"{r['role']}s"] = r["n"]
        return counts

    async def enrolments(self, program_id: str) -> list[dict[str, Any]]:
        rows = await self.runtime.pool.fetch(
            """SELECT e.participant_id, coalesce(m.name, d.name) AS name, e.role, e.capacity, e.enrolled_on
               FROM enrolments e
               LEFT JOIN mentees m ON m.mentee_id = e.participant_id
               LEFT JOIN mentor_directory d ON d.mentor_id = e.participant_id
               WHERE e.program_id = $1 ORDER BY e.role, e.participant_id""",
            program_id,
        )
        return [dict(r) for r in rows]

    async def enrolments_of(self, participant_id: str) -> list[dict[str, Any]]:
        rows = await self.runtime.pool.fetch(
            """SELECT e.program_id, p.name AS program_name, e.role, e.capacity
               FROM enrolments e LEFT JOIN programs p USING (program_id)
               WHERE e.participant_id = $1 ORDER BY e.program_id""",
            participant_id,
        )
        return [dict(r) for r in rows]


def _request(row: Any) -> dict[str, Any]:
    view = dict(row)
    names = view["mentor_names"]
    view["mentor_names"] = json.loads(names) if isinstance(names, str) else names
    return view
