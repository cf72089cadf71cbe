"""Use case: a mentee asks for mentorship, ranking one to three mentors.

Decided in this order (the first broken rule is the answer): the ranked choices' meaning (the aggregate),
the mentee's standing (``rules.SUBMISSION_RULES`` on ``Directory.mentee_standing``, under the per-mentee
lock), each ranked mentor's eligibility (``rules.exclusion``).  A request of the mentee's still waiting
unmatched is superseded (withdrawn) in the same transaction.
"""

from __future__ import annotations

import uuid

from services.matching.application.commands import SubmitRequest
from services.matching.application.deps import Deps
from services.matching.application.eligibility import exclusions_for
from services.matching.domain.errors import InvalidCommand
from services.matching.domain.request import Request
from services.matching.domain.rules import check_submission


async def handle(deps: Deps, cmd: SubmitRequest) -> str:
    request = Request(str(uuid.uuid4()))
    events = request.submit(cmd.mentee_id, cmd.biography, cmd.motivation, cmd.ranked_mentor_ids)
    async with deps.transactions() as conn:
        check_submission(await deps.directory.mentee_standing(conn, cmd.mentee_id))
        for why in (await exclusions_for(deps, conn, cmd.mentee_id, cmd.ranked_mentor_ids)).values():
            if why is not None:
                raise InvalidCommand("ranked_mentor_ids", why)
        for waiting_id in await deps.index.of_mentee(conn, cmd.mentee_id, ["unmatched"]):
            waiting = await deps.requests.load(conn, waiting_id)
            superseded = waiting.withdraw(f"superseded by request {request.request_id}")
            await deps.requests.commit(conn, waiting, superseded, correlation_id=cmd.correlation_id)
        await deps.requests.commit(conn, request, events, correlation_id=cmd.correlation_id)
    return request.request_id
