"""Which mentors may be offered a mentee now: the directory's and the reporting line's facts, the domain's rule."""

from __future__ import annotations

from collections.abc import Sequence

from services.matching.application.deps import Deps
from services.matching.domain.hard_filters import InReportingLine
from services.matching.domain.program import DEFAULT_PROGRAM
from services.matching.domain.request import Eligible, Request
from services.matching.domain.rules import exclusions
from shared.ports import Conn


async def exclusions_for(
    deps: Deps, conn: Conn, mentee_id: str, mentor_ids: Sequence[str], program_id: str = DEFAULT_PROGRAM
) -> dict[str, str | None]:
    """Per mentor, why they cannot be offered this mentee now in the program, or None."""
    standings = await deps.directory.mentor_standings(conn, mentee_id, mentor_ids, program_id)
    above = InReportingLine(await deps.lines.supervisors(conn, [mentee_id])).line_above(mentee_id)
    return exclusions(mentor_ids, standings, set(above))


async def eligibility(deps: Deps, conn: Conn, request: Request) -> Eligible:
    """Whether each of the request's ranked mentors may be offered it now."""
    reasons = await exclusions_for(deps, conn, request.mentee_id, request.ranked, request.program_id)
    return lambda mentor_id: reasons.get(mentor_id) is None
