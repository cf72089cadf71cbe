"""Which mentors may be offered a mentee now: the directory's and the reporting line's facts, the domain's rule."""

from __future__ import annotations

from collections.abc import Sequence

from services.matching.application.deps import Deps
from services.matching.domain.hard_filters import InReportingLine
from services.matching.domain.request import Eligible, Request
from services.matching.domain.rules import exclusions
from shared.ports import Conn


async def exclusions_for(deps: Deps, conn: Conn, mentee_id: str, mentor_ids: Sequence[str]) -> dict[str, str | None]:
    """Per mentor, why they cannot be offered this mentee now, or None."""
    standings = await deps.directory.mentor_standings(conn, mentee_id, mentor_ids)
    above = InReportingLine(await deps.lines.supervisors(conn)).line_above(mentee_id)
    return exclusions(mentor_ids, standings, set(above))


async def eligibility(deps: Deps, conn: Conn, request: Request) -> Eligible:
    """Whether each of the request's ranked mentors may be offered it now."""
    reasons = await exclusions_for(deps, conn, request.mentee_id, request.ranked)
    return lambda mentor_id: reasons.get(mentor_id) is None
