"""Mentors' load in Postgres (``active_pairs``, one row per mentor and mentee, with the program and whether the
row belongs to a group): the ``Slots`` port.  Capacity and load per program are the SQL functions
``mentor_capacity`` and ``mentor_load`` (migration 003): a mentor's capacity in a program is the one they set
there, else their shared capacity, which every program without one of its own draws on; a group takes one slot
of each of its mentors however many mentees it has."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.matching.adapters.reporting_lines import PostgresReportingLines
from services.matching.domain.errors import MatchingRuleViolation
from services.matching.domain.hard_filters import InReportingLine
from shared.events.matching import DEFAULT_PROGRAM, GroupFormed

_INSERT = (
    "INSERT INTO active_pairs (mentor_id, mentee_id, match_id, since, program_id, grouped)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true"
)


class PostgresSlots:
    def __init__(self, lines: PostgresReportingLines) -> None:
        self.lines = lines

    async def _take(self, conn: asyncpg.Connection, mentor_id: str, mentee_ids: Sequence[str], program_id: str) -> None:
        """Locks the mentor's directory row (``FOR UPDATE``) until the transaction ends, then counts the load in
        the program: two matches for one mentor, in one program or in two sharing the capacity, are counted one
        after the other."""
        active = await conn.fetchval(
            "SELECT active FROM mentor_directory WHERE mentor_id = $1 AND active FOR UPDATE", mentor_id
        )
        if active is None:
            raise MatchingRuleViolation(f"mentor {mentor_id} is not an active mentor")
        # Both after the lock, in a statement of their own (its snapshot sees the match committed by whoever held the
        # lock before), and together: one round trip (bench/load.py, statements per command).
        capacity, load = await conn.fetchrow(
            "SELECT mentor_capacity($1, $2), mentor_load($1, $2)", mentor_id, program_id
        )
        if load >= capacity:
            where = "" if program_id == DEFAULT_PROGRAM else f" in program {program_id}"
            raise MatchingRuleViolation(
                f"mentor {mentor_id} has no capacity left{where} ({load} of {capacity} slots taken)"
            )
        above = InReportingLine(await self.lines.supervisors(conn, mentee_ids))
        for mentee_id in mentee_ids:
            if mentor_id in above.line_above(mentee_id):
                raise MatchingRuleViolation(f"mentor {mentor_id} is in mentee {mentee_id}'s reporting line")

    async def reserve(
        self,
        conn: asyncpg.Connection,
        mentor_id: str,
        mentee_id: str,
        match_id: str,
        now: datetime,
        program_id: str = DEFAULT_PROGRAM,
    ) -> None:
        await self._take(conn, mentor_id, [mentee_id], program_id)
        if not await conn.fetchval(_INSERT, mentor_id, mentee_id, match_id, now, program_id, False):
            raise MatchingRuleViolation(f"mentor {mentor_id} already mentors {mentee_id}")

    async def reserve_group(
        self,
        conn: asyncpg.Connection,
        mentor_id: str,
        mentee_ids: Sequence[str],
        match_id: str,
        now: datetime,
        program_id: str,
    ) -> None:
        await self._take(conn, mentor_id, mentee_ids, program_id)
        for mentee_id in mentee_ids:
            if not await conn.fetchval(_INSERT, mentor_id, mentee_id, match_id, now, program_id, True):
                raise MatchingRuleViolation(f"mentor {mentor_id} already mentors {mentee_id}")

    async def hold(
        self,
        conn: asyncpg.Connection,
        mentor_id: str,
        mentee_ids: Sequence[str],
        match_id: str,
        since: datetime,
        program_id: str = DEFAULT_PROGRAM,
        grouped: bool = False,
    ) -> None:
        for mentee_id in mentee_ids:
            await conn.execute(_INSERT, mentor_id, mentee_id, match_id, since, program_id, grouped)

    async def release(self, conn: asyncpg.Connection, mentor_id: str, mentee_ids: Sequence[str]) -> None:
        await conn.execute(
            "DELETE FROM active_pairs WHERE mentor_id = $1 AND mentee_id = ANY($2::text[])", mentor_id, list(mentee_ids)
        )

    async def record_group(self, conn: asyncpg.Connection, formed: GroupFormed) -> None:
        rows = [(formed.match_id, formed.program_id, m, "mentor") for m in formed.mentor_ids]
        role = "peer" if formed.model == "peer" else "mentee"
        rows += [(formed.match_id, formed.program_id, m, role) for m in formed.mentee_ids]
        await conn.executemany(
            "INSERT INTO group_members (match_id, program_id, participant_id, role) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            rows,
        )

    async def close_group(self, conn: asyncpg.Connection, match_id: str) -> None:
        await conn.execute("DELETE FROM group_members WHERE match_id = $1", match_id)
        await conn.execute("DELETE FROM active_pairs WHERE match_id = $1 AND grouped", match_id)

    async def link_relationship(
        self, conn: asyncpg.Connection, relationship_id: str, match_id: str, program_id: str
    ) -> None:
        await conn.execute(
            "INSERT INTO relationship_matches (relationship_id, match_id, program_id) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            relationship_id,
            match_id,
            program_id,
        )

    async def relationship_match(self, conn: asyncpg.Connection, relationship_id: str) -> tuple[str, str] | None:
        row = await conn.fetchrow(
            "SELECT match_id, program_id FROM relationship_matches WHERE relationship_id = $1", relationship_id
        )
        return None if row is None else (row["match_id"], row["program_id"])

    async def mentors_of(self, conn: asyncpg.Connection, mentee_id: str) -> set[str]:
        rows = await conn.fetch("SELECT mentor_id FROM active_pairs WHERE mentee_id = $1", mentee_id)
        return {r["mentor_id"] for r in rows}
