"""Use case: the mentor a request was forwarded to accepts (a match) or declines (the next choice gets it).

An acceptance takes the mentor's slot as the request commits (``request_repository``): a full mentor refuses
(409) and the request stays forwarded.
"""

from __future__ import annotations

from datetime import datetime

from services.matching.application.commands import RespondToRequest
from services.matching.application.deps import Deps
from services.matching.application.eligibility import eligibility
from services.matching.application.program import program_of
from services.matching.domain.request import Eligible, Request
from shared.ports import Conn


async def handle(deps: Deps, cmd: RespondToRequest) -> int:
    async with deps.transactions() as conn:
        request = await deps.requests.get(conn, cmd.request_id)
        now = deps.clock.now()
        eligible, respond_by = (_no_next_choice, now) if cmd.accepted else await _next_choices(deps, conn, request, now)
        events = request.respond(cmd.mentor_id, cmd.accepted, cmd.reason, eligible, respond_by, now)
        return await deps.requests.commit(conn, request, events, correlation_id=cmd.correlation_id)


async def _next_choices(deps: Deps, conn: Conn, request: Request, now: datetime) -> tuple[Eligible, datetime]:
    """What a decline passes the request on with: which of its choices may be offered it now, and the deadline the
    next one gets (the program's)."""
    program = await program_of(deps, conn, request.program_id)
    return await eligibility(deps, conn, request), program.respond_by(now)


def _no_next_choice(_mentor_id: str) -> bool:
    """An acceptance matches the mentor answering and offers the request to nobody else (the slot's reservation
    checks that mentor under its lock): the next choices' eligibility and the program's deadline are read only for a
    decline, three round trips an acceptance does not need (bench/load.py, statements per command)."""
    return False
