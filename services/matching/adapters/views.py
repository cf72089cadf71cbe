"""What the HTTP routes read directly: the request, directory and bulk-run views (the ``ReadModel`` port).

Reads only; each runs on the runtime's pool outside any use case's transaction.
"""

from __future__ import annotations

from typing import Any

from shared.runtime import ServiceRuntime

_REQUEST_COLUMNS = """request_id, version, mentee_id, status, origin, ranked_mentor_ids, biography, motivation,
choice_rank, mentor_id, respond_by, forwarded_to, decline_reason, matched_mentor_id, submitted_at, updated_at"""


class PostgresViews:
    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    async def request(self, request_id: str) -> dict[str, Any] | None:
        row = await self.runtime.pool.fetchrow(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE request_id = $1", request_id
        )
        return None if row is None else dict(row)

    async def requests(
        self, *, mentee_id: str | None, mentor_id: str | None, status: str | None, limit: int, offset: int
    ) -> list[dict[str, Any]]:
        rows = await self.runtime.pool.fetch(
            f"""SELECT {_REQUEST_COLUMNS} FROM requests
                WHERE ($1::text IS NULL OR mentee_id = $1) AND ($2::text IS NULL OR $2 = ANY (forwarded_to))
                  AND ($3::text IS NULL OR status = $3)
                ORDER BY submitted_at, request_id LIMIT $4 OFFSET $5""",
            mentee_id,
            mentor_id,
            status,
            limit,
            offset,
        )
        return [dict(r) for r in rows]

    async def mentors(self, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        async with self.runtime.pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM mentor_directory WHERE active")
            rows = await conn.fetch(
                """SELECT d.mentor_id, d.name, d.specialty, d.interests, d.career_stage, d.languages, d.time_zone,
                          d.biography, d.capacity,
                          CASE WHEN d.accepting_requests THEN greatest(d.capacity - (SELECT count(*)
                               FROM active_pairs p WHERE p.mentor_id = d.mentor_id), 0) ELSE 0 END AS open_slots
                   FROM mentor_directory d WHERE d.active ORDER BY d.registered_at, d.mentor_id
                   LIMIT $1 OFFSET $2""",
                limit,
                offset,
            )
        return total, [dict(r) for r in rows]

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
        view = dict(run)
        view["pairs"] = [dict(p) for p in pairs]
        return view
