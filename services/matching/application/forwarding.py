"""Which of a request's ranked mentors may be offered it now."""

from __future__ import annotations

import asyncpg

from services.matching.application.mentors import exclusions
from services.matching.domain.request import Eligible, Request


async def eligibility(conn: asyncpg.Connection, request: Request) -> Eligible:
    reasons = await exclusions(conn, request.mentee_id, request.ranked)
    return lambda mentor_id: reasons.get(mentor_id) is None
