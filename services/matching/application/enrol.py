"""Use cases: a participant enrols in a program (themselves, or by the director) and leaves it.

Enrolling someone else is the director's; eligibility (``domain/enrolment.py``) is decided on what matching
knows of the person (``Enrolments.person``).  A program past its end date takes no more enrolments.  Leaving
a program withdraws the participant's requests there that are not matched yet; matches and groups stay (their
relationships end by closure).
"""

from __future__ import annotations

from services.matching.application.commands import Enrol, Unenrol
from services.matching.application.deps import Deps
from services.matching.application.program import program_of
from services.matching.domain.enrolment import Enrolment, enrolment_id
from services.matching.domain.errors import MatchingRuleViolation, NotAllowed, NotFound
from services.matching.domain.program import DEFAULT_PROGRAM
from services.matching.domain.request import WITHDRAWABLE


async def enrol(deps: Deps, cmd: Enrol) -> Enrolment:
    if cmd.participant_id != cmd.by and not cmd.director:
        raise NotAllowed("only the director enrols someone else")
    async with deps.transactions() as conn:
        program = await program_of(deps, conn, cmd.program_id)
        if program.program_id == DEFAULT_PROGRAM:
            raise MatchingRuleViolation("everyone registered takes part in the default program; no enrolment needed")
        ends_on = program.s.ends_on
        if ends_on is not None and deps.clock.now().date() > ends_on:
            raise MatchingRuleViolation(f"program {program.program_id} ended on {ends_on.isoformat()}")
        person = await deps.enrolments.person(conn, cmd.participant_id)
        enrolment = await deps.enrolment_repo.load(conn, enrolment_id(cmd.program_id, cmd.participant_id))
        events = enrolment.enrol(program, person, cmd.role, cmd.capacity, cmd.by)
        await deps.enrolment_repo.commit(conn, enrolment, events, correlation_id=cmd.correlation_id)
    return enrolment


async def unenrol(deps: Deps, cmd: Unenrol) -> None:
    if cmd.participant_id != cmd.by and not cmd.director:
        raise NotFound(f"no enrolment of {cmd.participant_id} in program {cmd.program_id}")
    async with deps.transactions() as conn:
        await program_of(deps, conn, cmd.program_id)
        enrolment = await deps.enrolment_repo.load(conn, enrolment_id(cmd.program_id, cmd.participant_id))
        if not enrolment.enrolled:
            raise NotFound(f"no enrolment of {cmd.participant_id} in program {cmd.program_id}")
        await deps.enrolment_repo.commit(conn, enrolment, enrolment.unenrol(cmd.by), correlation_id=cmd.correlation_id)
        for request_id in await deps.index.of_mentee(conn, cmd.participant_id, WITHDRAWABLE):
            request = await deps.requests.load(conn, request_id)
            if request.program_id == cmd.program_id:
                withdrawn = request.withdraw(f"left program {cmd.program_id}")
                await deps.requests.commit(conn, request, withdrawn, correlation_id=cmd.correlation_id)
