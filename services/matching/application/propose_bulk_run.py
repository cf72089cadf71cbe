"""Use case: the director proposes a bulk run for a cohort (pairs and report kept for review; nothing is matched).

The cohort and the mentors are read in one transaction, the run is solved off the event loop on the pure
solvers (no connection held), and the proposal is recorded with its ``BulkMatchProposed`` in another.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence

from services.matching.application.commands import ProposeBulkRun
from services.matching.application.deps import Deps
from services.matching.application.ports import BulkProposal
from services.matching.application.program import program_of
from services.matching.domain.bulk_proposal import (
    ALL_FREE_MENTEES,
    check_cohort,
    check_named_cohort,
    overrides_for,
    propose,
    report_of,
)
from services.matching.domain.compatibility import MenteeProfile
from shared.events.matching import BulkMatchProposed, BulkMatchSummary
from shared.ports import Conn


async def handle(deps: Deps, cmd: ProposeBulkRun) -> str:
    async with deps.transactions() as conn:
        mentees, cohort_name = await _cohort(deps, conn, cmd.mentee_ids)
        mentors = await deps.directory.mentor_profiles(conn)
        program = await program_of(deps, conn)
        line = await deps.lines.supervisors(conn)
    check_cohort(mentees, mentors)
    overrides = overrides_for(mentees, mentors, cmd.pinned, cmd.forbidden, line)
    run = await asyncio.to_thread(
        propose, mentees, mentors, program.weights, overrides, cmd.mode, line, deps.bulk_candidates
    )
    run_id = str(uuid.uuid4())
    summary = BulkMatchSummary(
        mentees=len(mentees),
        mentors=sum(1 for m in mentors if m.open_slots > 0),
        pairs=len(run.pairs),
        unmatched_mentees=len(mentees) - len(run.pairs),
        total_score=run.report.total_score,
        mean_score=round(run.report.mean_score / 100, 6),
    )
    async with deps.transactions() as conn:
        proposal = BulkProposal(
            run_id, cmd.mode, cohort_name, cmd.admin_id, summary, report_of(run), run.pairs, deps.clock.now()
        )
        await deps.bulk_runs.record_proposal(conn, proposal)
        proposed = BulkMatchProposed(
            run_id=run_id, cohort=cohort_name, mode=cmd.mode, requested_by=cmd.admin_id, summary=summary
        )
        await deps.store.append(conn, run_id, 0, [proposed], correlation_id=cmd.correlation_id)
    return run_id


async def _cohort(deps: Deps, conn: Conn, mentee_ids: Sequence[str] | None) -> tuple[list[MenteeProfile], str]:
    """The named mentees (each must be registered, active and free) or every free one; and the cohort's name."""
    if mentee_ids is None:
        return await deps.directory.free_mentees(conn), ALL_FREE_MENTEES
    known = await deps.directory.mentees(conn, mentee_ids)
    free = await deps.directory.free_mentees(conn, mentee_ids)
    check_named_cohort(mentee_ids, {i: r.active for i, r in known.items()}, {m.mentee_id for m in free})
    return [known[i].profile for i in sorted(mentee_ids)], f"{len(mentee_ids)} named mentees"
