"""The program's settings in Postgres (``program_settings``): the ``Programs`` port."""

from __future__ import annotations

import json
from dataclasses import asdict

import asyncpg

from services.matching.domain.compatibility import Weights
from services.matching.domain.program import Program


class PostgresPrograms:
    async def load(self, conn: asyncpg.Connection, program_id: str, *, for_update: bool = False) -> Program | None:
        """``for_update``: an advisory lock (``program_settings``) held until the transaction ends."""
        if for_update:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('program_settings'))")
        row = await conn.fetchrow(
            "SELECT weights, response_days FROM program_settings WHERE program_id = $1", program_id
        )
        return None if row is None else Program(program_id, Weights(**row["weights"]), row["response_days"])

    async def save(self, conn: asyncpg.Connection, program: Program) -> None:
        await conn.execute(
            """INSERT INTO program_settings (program_id, weights, response_days) VALUES ($1, $2::text::jsonb, $3)
               ON CONFLICT (program_id) DO UPDATE
               SET weights = EXCLUDED.weights, response_days = EXCLUDED.response_days""",
            program.program_id,
            json.dumps(asdict(program.weights)),
            program.response_days,
        )
