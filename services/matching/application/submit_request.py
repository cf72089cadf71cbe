"""Use case: a mentee asks for mentorship in a program, ranking one to three mentors.

Decided in this order (the first broken rule is the answer): the program takes requests (director review or
self-match; admin and bulk programs answer 409 saying how matching works there), the ranked choices' meaning
(the aggregate), the mentee's standing in that program (``rules.SUBMISSION_RULES`` on
``Directory.mentee_standing``, under the per-mentee lock: enrolled, no open request and no mentor *in that
program*), each ranked mentor's eligibility there (``rules.exclusion``).  A request of the mentee's in that
program still waiting unmatched is superseded (withdrawn) in the same transaction.  In a self-match program the
request skips the director's review: it is forwarded to the first eligible choice at once.
"""

from __future__ import annotations

import uuid

from services.matching.application.commands import SubmitRequest
from services.matching.application.deps import Deps
from services.matching.application.eligibility import exclusions_for
from services.matching.application.program import program_of
from services.matching.domain.errors import InvalidCommand
from services.matching.domain.request import Request, check_choices
from services.matching.domain.rules import check_submission


async def handle(deps: Deps, cmd: SubmitRequest) -> str:
    check_choices(cmd.mentee_id, cmd.ranked_mentor_ids)  # before anything is read
    request = Request(str(uuid.uuid4()))
    async with deps.transactions() as conn:
        program = await program_of(deps, conn, cmd.program_id)
        program.check_requests_allowed(deps.clock.now().date())
        self_match = None
        if program.s.matching_mode == "self_match":
            self_match = (lambda _mentor_id: True, program.respond_by(deps.clock.now()))
        events = request.submit(
            cmd.mentee_id, cmd.biography, cmd.motivation, cmd.ranked_mentor_ids, cmd.program_id, self_match=self_match
        )
        standing = await deps.directory.mentee_standing(conn, cmd.mentee_id, cmd.program_id)
        check_submission(standing)
        for why in (await exclusions_for(deps, conn, cmd.mentee_id, cmd.ranked_mentor_ids, cmd.program_id)).values():
            if why is not None:
                raise InvalidCommand("ranked_mentor_ids", why)
        for waiting_id in standing.unmatched_request_ids:  # read with the standing: no round trip of their own
            waiting = await deps.requests.load(conn, waiting_id)
            superseded = waiting.withdraw(f"superseded by request {request.request_id}")
            await deps.requests.commit(conn, waiting, superseded, correlation_id=cmd.correlation_id)
        await deps.requests.commit(conn, request, events, correlation_id=cmd.correlation_id)
    return request.request_id
