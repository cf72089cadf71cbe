"""Use case: the director commits a proposed bulk run, all or nothing.

A one-to-one run: one ``MatchApproved`` (mode bulk, the run's program) per pair.  Each mentee is checked again
(still free in the program), each mentor's slot in the program is taken under lock in mentor id order
(``Slots.reserve``), then ``BulkMatchCommitted`` and the matches are appended, each match on its own
``bulk_match_id`` stream.

A peer run: one ``GroupFormed`` (model peer, no mentor) per proposed circle, on the ``bulk_match_id`` stream of
(run, the circle's first member); every member is checked again (still free in the program).
"""

from __future__ import annotations

from services.matching.application.commands import CommitBulkRun
from services.matching.application.deps import Deps
from services.matching.domain.bulk_proposal import bulk_match_id, check_proposed, check_still_free
from shared.events import Event
from shared.events.matching import BulkMatchCommitted, GroupFormed, MatchApproved


async def handle(deps: Deps, cmd: CommitBulkRun) -> int:
    now = deps.clock.now()
    async with deps.transactions() as conn:
        check_proposed(cmd.run_id, await deps.bulk_runs.lock_status(conn, cmd.run_id))
        program_id = await deps.bulk_runs.program(conn, cmd.run_id)
        pairs = await deps.bulk_runs.pairs(conn, cmd.run_id)
        circles = await deps.bulk_runs.circles(conn, cmd.run_id)
        wanted = [p.mentee_id for p in pairs] + [m for c in circles for m in c]
        free = await deps.directory.free_mentees(conn, wanted, program_id)
        check_still_free(wanted, {m.mentee_id for m in free})
        matches: list[Event] = []
        for pair in pairs:
            match_id = bulk_match_id(cmd.run_id, pair.mentee_id)
            await deps.slots.reserve(conn, pair.mentor_id, pair.mentee_id, match_id, now, program_id)
            matches.append(
                MatchApproved(
                    match_id=match_id,
                    program_id=program_id,
                    mentee_id=pair.mentee_id,
                    mentor_id=pair.mentor_id,
                    mode="bulk",
                    run_id=cmd.run_id,
                    approved_by=cmd.admin_id,
                )
            )
        for members in circles:
            formed = GroupFormed(
                match_id=bulk_match_id(cmd.run_id, members[0]),
                program_id=program_id,
                model="peer",
                mentee_ids=list(members),
                formed_by=cmd.admin_id,
                run_id=cmd.run_id,
            )
            await deps.slots.record_group(conn, formed)
            matches.append(formed)
        committed = BulkMatchCommitted(
            run_id=cmd.run_id,
            committed_by=cmd.admin_id,
            pair_count=len(pairs),
            overridden_count=sum(1 for p in pairs if p.pinned),
        )
        version = len(await deps.store.read_stream(conn, cmd.run_id))
        await deps.store.append(conn, cmd.run_id, version, [committed], correlation_id=cmd.correlation_id)
        for match in matches:
            await deps.store.append(conn, match.match_id, 0, [match], correlation_id=cmd.correlation_id)
        await deps.bulk_runs.decide(conn, cmd.run_id, "committed", cmd.admin_id, now)
    return len(pairs) + len(circles)
