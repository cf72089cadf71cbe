"""Use case: the director proposes a bulk run for a program's cohort (pairs or circles and report kept for review;
nothing is matched).

The cohort and the mentors are read in one transaction, the run is solved off the event loop on the pure
solvers (no connection held), and the proposal is recorded with its ``BulkMatchProposed`` in another.

In a one-to-one program the cohort is the program's free mentees (all registered mentees in "default",
the enrolled ones elsewhere) and the mentors its mentors with open slots there; the program's priority groups
are honoured by its ``priority_policy`` (``bulk_proposal.propose_with_priority``).  In a peer program the cohort
is its free enrolled peers and the run proposes circles of the program's ``circle_size`` (``groups.build_circles``).
A group program's groups are formed by the director (``form_group``), not by bulk runs.
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
    peer_score,
    propose_with_priority,
    report_of,
)
from services.matching.domain.compatibility import MenteeProfile
from services.matching.domain.errors import InvalidCommand
from services.matching.domain.groups import build_circles, circle_score
from services.matching.domain.program import Program
from shared.events.matching import BulkMatchProposed, BulkMatchSummary
from shared.ports import Conn


async def handle(deps: Deps, cmd: ProposeBulkRun) -> str:
    async with deps.transactions() as conn:
        program = await program_of(deps, conn, cmd.program_id)
        if program.model == "group":
            raise InvalidCommand("program_id", "a group program's groups are formed by the director, not bulk runs")
        mentees, cohort_name = await _cohort(deps, conn, cmd.mentee_ids, cmd.program_id)
        if program.model == "peer":
            return await _peer_run(deps, conn, cmd, program, mentees, cohort_name)
        mentors = await deps.directory.mentor_profiles(conn, cmd.program_id)
        line = await deps.lines.supervisors(conn, [m.mentee_id for m in mentees])
        groups = set(program.priority_groups)
        priority = await deps.enrolments.in_groups(conn, [m.mentee_id for m in mentees], groups) if groups else set()
    check_cohort(mentees, mentors)
    overrides = overrides_for(mentees, mentors, cmd.pinned, cmd.forbidden, line)
    run = await asyncio.to_thread(
        lambda: propose_with_priority(
            mentees,
            mentors,
            program.weights,
            overrides,
            cmd.mode,
            line,
            deps.bulk_candidates,
            priority=priority,
            policy=program.s.priority_policy,
        )
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
    report = report_of(run)
    report["priority"] = {"policy": program.s.priority_policy, "mentees": sorted(priority)}
    proposal = BulkProposal(
        run_id, cmd.mode, cohort_name, cmd.admin_id, summary, report, run.pairs, deps.clock.now(), cmd.program_id
    )
    await _record(deps, proposal, cmd)
    return run_id


async def _peer_run(
    deps: Deps, conn: Conn, cmd: ProposeBulkRun, program: Program, peers: list[MenteeProfile], cohort_name: str
) -> str:
    if cmd.pinned or cmd.forbidden:
        raise InvalidCommand("pinned", "a peer run has no mentors to pin or forbid")
    if len(peers) < 2:
        raise InvalidCommand("mentee_ids", "a peer run needs at least two free peers enrolled in the program")
    size = program.s.circle_size or 2
    profiles = {p.mentee_id: p for p in peers}
    pair = peer_score(program.weights)
    memo: dict[tuple[str, str], int] = {}

    def scored(a: str, b: str) -> int:
        key = (a, b) if a < b else (b, a)
        if key not in memo:
            memo[key] = pair(profiles[key[0]], profiles[key[1]])
        return memo[key]

    circles = await asyncio.to_thread(build_circles, list(profiles), size, scored)
    scores = [circle_score(c, scored) for c in circles]
    placed = sum(len(c) for c in circles)
    summary = BulkMatchSummary(
        mentees=len(peers),
        mentors=0,
        pairs=0,
        unmatched_mentees=len(peers) - placed,
        total_score=sum(scores),
        mean_score=round(sum(scores) / len(scores) / 100, 6) if scores else 0.0,
        circles=len(circles),
    )
    report = {
        "mode": cmd.mode,
        "circle_size": size,
        "circles": [{"member_ids": c, "score": s} for c, s in zip(circles, scores, strict=True)],
        "circle_scores": scores,
        "unplaced": sorted(set(profiles) - {m for c in circles for m in c}),
        "text": f"{len(circles)} circles of {size} (±1) for {len(peers)} peers; {len(peers) - placed} unplaced",
    }
    proposal = BulkProposal(
        str(uuid.uuid4()),
        cmd.mode,
        cohort_name,
        cmd.admin_id,
        summary,
        report,
        (),
        deps.clock.now(),
        cmd.program_id,
        circles,
    )
    await _record(deps, proposal, cmd, conn)
    return proposal.run_id


async def _record(deps: Deps, proposal: BulkProposal, cmd: ProposeBulkRun, conn: Conn | None = None) -> None:
    proposed = BulkMatchProposed(
        run_id=proposal.run_id,
        program_id=proposal.program_id,
        cohort=proposal.cohort,
        mode=cmd.mode,
        requested_by=cmd.admin_id,
        summary=proposal.summary,
    )
    if conn is not None:
        await deps.bulk_runs.record_proposal(conn, proposal)
        await deps.store.append(conn, proposal.run_id, 0, [proposed], correlation_id=cmd.correlation_id)
        return
    async with deps.transactions() as own:
        await deps.bulk_runs.record_proposal(own, proposal)
        await deps.store.append(own, proposal.run_id, 0, [proposed], correlation_id=cmd.correlation_id)


async def _cohort(
    deps: Deps, conn: Conn, mentee_ids: Sequence[str] | None, program_id: str
) -> tuple[list[MenteeProfile], str]:
    """The named mentees (each must be registered, active and free in the program) or every free one; and the
    cohort's name."""
    if mentee_ids is None:
        return await deps.directory.free_mentees(conn, None, program_id), ALL_FREE_MENTEES
    known = await deps.directory.mentees(conn, mentee_ids)
    free = await deps.directory.free_mentees(conn, mentee_ids, program_id)
    check_named_cohort(mentee_ids, {i: r.active for i, r in known.items()}, {m.mentee_id for m in free})
    return [known[i].profile for i in sorted(mentee_ids)], f"{len(mentee_ids)} named mentees"
