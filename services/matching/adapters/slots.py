"""Mentors' load in Postgres (``active_pairs``, one row per mentor and mentee): the ``Slots`` port."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.matching.adapters.reporting_lines import PostgresReportingLines
from services.matching.domain.errors import MatchingRuleViolation
from services.matching.domain.hard_filters import InReportingLine


class PostgresSlots:
    def __init__(self, lines: PostgresReportingLines) -> None:
        self.lines = lines

    async def reserve(
        self, conn: asyncpg.Connection, mentor_id: str, mentee_id: str, match_id: str, now: datetime
    ) -> None:
        """Locks the mentor's directory row (``FOR UPDATE``) until the transaction ends, then counts the load:
        two matches for one mentor are counted one after the other."""
        capacity = await conn.fetchval(
            "SELECT capacity FROM mentor_directory WHERE mentor_id = $1 AND active FOR UPDATE", mentor_id
        )
        if capacity is None:
            raise MatchingRuleViolation(f"mentor {mentor_id} is not an active mentor")
        load = await conn.fetchval("SELECT count(*) FROM active_pairs WHERE mentor_id = $1", mentor_id)
        if load >= capacity:
            raise MatchingRuleViolation(f"mentor {mentor_id} has no capacity left ({load} of {capacity} mentees)")
        if mentor_id in InReportingLine(await self.lines.supervisors(conn)).line_above(mentee_id):
            raise MatchingRuleViolation(f"mentor {mentor_id} is in mentee {mentee_id}'s reporting line")
        inserted = await conn.fetchval(
            "INSERT INTO active_pairs (mentor_id, mentee_id, match_id, since) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING RETURNING true",
            mentor_id,
            mentee_id,
            match_id,
            now,
        )
        if not inserted:
            raise MatchingRuleViolation(f"mentor {mentor_id} already mentors {mentee_id}")

    async def hold(
        self, conn: asyncpg.Connection, mentor_id: str, mentee_ids: Sequence[str], match_id: str, since: datetime
    ) -> None:
        for mentee_id in mentee_ids:
            await conn.execute(
                "INSERT INTO active_pairs (mentor_id, mentee_id, match_id, since) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT DO NOTHING",
                mentor_id,
                mentee_id,
                match_id,
                since,
            )

    async def release(self, conn: asyncpg.Connection, mentor_id: str, mentee_ids: Sequence[str]) -> None:
        await conn.execute(
            "DELETE FROM active_pairs WHERE mentor_id = $1 AND mentee_id = ANY($2::text[])", mentor_id, list(mentee_ids)
        )

    async def mentors_of(self, conn: asyncpg.Connection, mentee_id: str) -> set[str]:
        rows = await conn.fetch("SELECT mentor_id FROM active_pairs WHERE mentee_id = $1", mentee_id)
        return {r["mentor_id"] for r in rows}
