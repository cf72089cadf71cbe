"""Use case: the director forms a mentoring group in a group program from its enrolled mentors and mentees, or
a peer circle in a peer program from its enrolled peers: ``GroupFormed`` (subject = the new match id).

Each mentor must be enrolled as a mentor there, each mentee as a mentee with no mentor, group or open request
in the program; at most the program's ``group_size_max`` mentees.  A group takes **one slot of each of its
mentors** (however many mentees it has), under the mentor's row lock (``Slots.reserve_group``), in mentor id
order.  The mentees are locked first (the per-mentee lock a request takes, in id order), so two groups, or a
group and a request, never take one mentee twice.  Peer circles also form by bulk runs (``commit_bulk_run``).
"""

from __future__ import annotations

import uuid

from services.matching.application.commands import FormGroup
from services.matching.application.deps import Deps
from services.matching.application.program import program_of
from services.matching.domain.groups import check_group
from shared.events.matching import GroupFormed


async def handle(deps: Deps, cmd: FormGroup) -> str:
    match_id = str(uuid.uuid4())
    now = deps.clock.now()
    async with deps.transactions() as conn:
        program = await program_of(deps, conn, cmd.program_id)
        for mentee_id in sorted(set(cmd.mentee_ids)):  # the per-mentee lock requests take too, in id order
            await deps.directory.mentee_standing(conn, mentee_id, cmd.program_id)
        roles = {p: await deps.enrolments.role(conn, cmd.program_id, p) for p in (*cmd.mentor_ids, *cmd.mentee_ids)}
        free = {m.mentee_id for m in await deps.directory.free_mentees(conn, cmd.mentee_ids, cmd.program_id)}
        check_group(program, cmd.mentor_ids, cmd.mentee_ids, roles, free)
        for mentor_id in sorted(cmd.mentor_ids):
            await deps.slots.reserve_group(conn, mentor_id, cmd.mentee_ids, match_id, now, cmd.program_id)
        formed = GroupFormed(
            match_id=match_id,
            program_id=cmd.program_id,
            model="peer" if program.model == "peer" else "group",
            mentor_ids=list(cmd.mentor_ids),
            mentee_ids=list(cmd.mentee_ids),
            formed_by=cmd.formed_by,
        )
        await deps.slots.record_group(conn, formed)
        await deps.store.append(conn, match_id, 0, [formed], correlation_id=cmd.correlation_id)
    return match_id
