"""The request repository: the shared ``Repository`` with what a request's commit also does, in its transaction.

After the append, in order: a ``MatchApproved`` takes the mentor's slot in the request's program
(``Slots.reserve``, which locks the mentor and refuses a full one), the request's view row is rewritten
(``RequestIndex.save``, which refuses a second open request per mentee and program), and the response-deadline
timer follows the request: armed for the choice it waits on, cancelled otherwise.  Any refusal rolls the events
back with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.matching.application.ports import RequestIndex, Slots
from services.matching.domain.errors import NotFound
from services.matching.domain.request import MAX_CHOICES, Request
from shared.events import Event
from shared.events.matching import MatchApproved
from shared.ports import Conn, EventStorePort, TimersPort
from shared.repository import Repository

RESPONSE_DEADLINE = "request-response-deadline"


def deadline_key(request_id: str, choice_rank: int) -> str:
    """One timer per choice, so firing one deadline never marks the next choice's as fired."""
    return f"respond:{request_id}:{choice_rank}"


def was_forwarded(request: Request, rank: int) -> bool:
    """Whether the request was ever forwarded to its choice of that rank (ranked choices are distinct)."""
    return rank <= len(request.ranked) and request.ranked[rank - 1] in request.forwarded_to


def request_repository(
    store: EventStorePort, slots: Slots, index: RequestIndex, timers: TimersPort
) -> Repository[Request]:
    async def take_slot(conn: Conn, request: Request, events: Sequence[Event], now: datetime) -> None:
        for event in events:
            if isinstance(event, MatchApproved):
                await slots.reserve(conn, event.mentor_id, event.mentee_id, event.match_id, now, event.program_id)

    async def save_view(conn: Conn, request: Request, events: Sequence[Event], now: datetime) -> None:
        await index.save(conn, request, now)

    async def follow_deadline(conn: Conn, request: Request, events: Sequence[Event], now: datetime) -> None:
        """Only a choice the request was forwarded to can have a timer (this hook is what sets them), so only
        those are cancelled: a new request cancels nothing, a forwarded one its own choices (each cancel is a
        round trip; bench/load.py counted three per request commit)."""
        for rank in range(1, MAX_CHOICES + 1):
            key = deadline_key(request.request_id, rank)
            if request.status == "forwarded" and request.choice_rank == rank and request.respond_by is not None:
                payload = {"choice_rank": rank}
                await timers.schedule(conn, key, RESPONSE_DEADLINE, request.request_id, request.respond_by, payload)
            elif was_forwarded(request, rank):
                await timers.cancel(conn, key)

    return Repository(
        store,
        Request,
        not_found=lambda request_id: NotFound(f"no request {request_id}"),
        on_commit=[take_slot, save_view, follow_deadline],
    )
