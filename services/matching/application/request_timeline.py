"""Query: a request's status as a timeline (submitted, reviewed, forwarded to choice 1/2/3 with the deadline,
answered, expired, unmatched, matched, withdrawn), read from the request's own stream."""

from __future__ import annotations

from typing import Any

from services.matching.application.commands import ShowTimeline
from services.matching.application.deps import Deps
from services.matching.domain.errors import NotFound
from services.matching.domain.request import Request
from services.matching.domain.request_timeline import timeline
from services.matching.domain.rules import check_reader
from shared.events.matching import RequestRanked, RequestUnmatched


async def handle(deps: Deps, query: ShowTimeline) -> dict[str, Any]:
    """To a caller who may not read the request it is not found, exactly as an id nobody holds."""
    async with deps.transactions() as conn:
        stored = await deps.store.read_stream(conn, query.request_id)
    history = [(s.event, s.envelope.time) for s in stored]
    request = Request.rebuild(query.request_id, history)
    if not history or not isinstance(history[0][0], RequestRanked | RequestUnmatched):  # a bulk match's stream, a run's
        raise NotFound(f"no request {query.request_id}")
    check_reader(query.request_id, query.subject, request.mentee_id, request.forwarded_to, director=query.director)
    steps = timeline(history, query.subject, mentee_id=request.mentee_id, director=query.director)
    return {"request_id": query.request_id, "status": request.status, "steps": steps}
