"""Query: the mentors a mentee might ask in a program, best first, with a score and a plain-language reason (the
program's mentors with a free slot there, on the program's weights)."""

from __future__ import annotations

from services.matching.application.commands import SuggestMentors
from services.matching.application.deps import Deps
from services.matching.application.program import program_of
from services.matching.domain.errors import NotAllowed, NotFound
from services.matching.domain.hard_filters import default_filters
from services.matching.domain.suggestions import Suggestion, suggest_mentors


async def handle(deps: Deps, query: SuggestMentors) -> list[Suggestion]:
    if not query.director and query.subject != query.mentee_id:
        raise NotAllowed("a mentee may only ask for their own suggestions")
    async with deps.transactions() as conn:
        mentee = await deps.directory.mentee_profile(conn, query.mentee_id)
        if mentee is None:
            raise NotFound(f"no active mentee {query.mentee_id}")
        current = await deps.slots.mentors_of(conn, query.mentee_id)
        program = await program_of(deps, conn, query.program_id)
        candidates = await deps.directory.mentor_profiles(conn, query.program_id)
        mentors = [m for m in candidates if m.mentor_id not in current]
        line = await deps.lines.supervisors(conn, [query.mentee_id])
    return suggest_mentors(mentee, mentors, program.weights, k=query.k, filters=default_filters(line))
