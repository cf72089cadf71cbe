"""Bulk runs' proposals in Postgres (``bulk_runs``, ``bulk_run_pairs``): the ``BulkRuns`` port."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from services.matching.application.ports import BulkProposal
from services.matching.domain.bulk_run import ProposedPair


class PostgresBulkRuns:
    async def record_proposal(self, conn: asyncpg.Connection, p: BulkProposal) -> None:
        await conn.execute(
            "INSERT INTO bulk_runs (run_id, mode, cohort, status, requested_by, summary, report, created_at,"
            " program_id)"
            " VALUES ($1, $2, $3, 'proposed', $4, $5::text::jsonb, $6::text::jsonb, $7, $8)",
            p.run_id,
            p.mode,
            p.cohort,
            p.requested_by,
            p.summary.model_dump_json(),
            json.dumps(p.report),
            p.created_at,
            p.program_id,
        )
        await conn.executemany(
            "INSERT INTO bulk_run_circles (run_id, circle, member_ids, score) VALUES ($1, $2, $3, $4)",
            [(p.run_id, n, list(members), score) for n, (members, score) in enumerate(_circles(p), start=1)],
        )
        await conn.executemany(
            "INSERT INTO bulk_run_pairs (run_id, mentee_id, mentor_id, score, choice_rank, pinned)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [(p.run_id, pair.mentee_id, pair.mentor_id, pair.score, pair.choice_rank, pair.pinned) for pair in p.pairs],
        )

    async def lock_status(self, conn: asyncpg.Connection, run_id: str) -> str | None:
        """Locks the run's row (``FOR UPDATE``) until the transaction ends."""
        return await conn.fetchval("SELECT status FROM bulk_runs WHERE run_id = $1 FOR UPDATE", run_id)

    async def pairs(self, conn: asyncpg.Connection, run_id: str) -> list[ProposedPair]:
        rows = await conn.fetch(
            "SELECT mentee_id, mentor_id, score, choice_rank, pinned FROM bulk_run_pairs WHERE run_id = $1"
            " ORDER BY mentor_id, mentee_id",
            run_id,
        )
        return [ProposedPair(**dict(r)) for r in rows]

    async def program(self, conn: asyncpg.Connection, run_id: str) -> str:
        return await conn.fetchval("SELECT program_id FROM bulk_runs WHERE run_id = $1", run_id)

    async def circles(self, conn: asyncpg.Connection, run_id: str) -> list[list[str]]:
        rows = await conn.fetch("SELECT member_ids FROM bulk_run_circles WHERE run_id = $1 ORDER BY circle", run_id)
        return [list(r["member_ids"]) for r in rows]

    async def decide(self, conn: asyncpg.Connection, run_id: str, status: str, decided_by: str, now: datetime) -> None:
        await conn.execute(
            "UPDATE bulk_runs SET status = $2, decided_by = $3, decided_at = $4 WHERE run_id = $1",
            run_id,
            status,
            decided_by,
            now,
        )


def _circles(p: BulkProposal) -> list[tuple[list[str], int]]:
    scores = p.report.get("circle_scores", []) if p.circles else []
    return [(list(c), int(scores[i]) if i < len(scores) else 0) for i, c in enumerate(p.circles)]
