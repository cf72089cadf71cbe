"""Query: the mentors a mentee might ask, best first, with a score and a plain-language reason."""

from __future__ import annotations

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.mentors import supervisors
from services.matching.application.profiles import mentee_profile, mentor_profiles
from services.matching.application.program import get_program
from services.matching.domain.hard_filters import default_filters
from services.matching.domain.suggestions import Suggestion, suggest_mentors


async def suggestions(pool: asyncpg.Pool, deps: Deps, mentee_id: str, k: int) -> list[Suggestion]:
    async with pool.acquire() as conn:
        mentee = await mentee_profile(conn, mentee_id)
        current = {
            r["mentor_id"]
            for r in await conn.fetch("SELECT mentor_id FROM active_pairs WHERE mentee_id = $1", mentee_id)
        }
        mentors = [m for m in await mentor_profiles(conn) if m.mentor_id not in current]
        program = await get_program(conn, deps)
        line = await supervisors(conn)
    return suggest_mentors(mentee, mentors, program.weights, k=k, filters=default_filters(line))
