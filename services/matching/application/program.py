"""The program's settings: compatibility weights and how long a forwarded mentor has to answer."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import asyncpg

from services.matching.application.deps import Deps
from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import NotFound

DEFAULT_PROGRAM = "default"


@dataclass(frozen=True)
class Program:
    program_id: str
    weights: Weights
    response_days: int

    def respond_by(self, now: datetime) -> datetime:
        return now + timedelta(days=self.response_days)


def _known(program_id: str) -> None:
    if program_id != DEFAULT_PROGRAM:
        raise NotFound(f"no program {program_id}; only the {DEFAULT_PROGRAM!r} program exists")


async def get_program(
    conn: asyncpg.Connection | asyncpg.Pool, deps: Deps, program_id: str = DEFAULT_PROGRAM
) -> Program:
    _known(program_id)
    row = await conn.fetchrow("SELECT weights, response_days FROM program_settings WHERE program_id = $1", program_id)
    if row is None:
        return Program(program_id, Weights(), deps.default_response_days)
    return Program(program_id, Weights(**row["weights"]), row["response_days"])


async def save_program(
    pool: asyncpg.Pool, deps: Deps, program_id: str, *, weights: Weights | None = None, response_days: int | None = None
) -> Program:
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('program_settings'))")
        current = await get_program(conn, deps, program_id)
        program = Program(program_id, weights or current.weights, response_days or current.response_days)
        await conn.execute(
            """INSERT INTO program_settings (program_id, weights, response_days) VALUES ($1, $2::text::jsonb, $3)
               ON CONFLICT (program_id) DO UPDATE
               SET weights = EXCLUDED.weights, response_days = EXCLUDED.response_days""",
            program_id,
            json.dumps(asdict(program.weights)),
            program.response_days,
        )
    return program
