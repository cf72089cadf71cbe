"""From matching's and relationships' events to recorded notices (and the facts later ones need).

Each function is one consumed event's step: ``(deps, conn, event, cause_id)``, run in the consumer's
transaction; ``cause_id`` is the event's id.  An event about a request or relationship never seen
raises ``UnknownSubject`` (dead-lettered by the consumer).
"""

from __future__ import annotations

from services.notifications.application.deps import Deps
from services.notifications.application.ports import Parties
from services.notifications.application.record_notices import record
from services.notifications.domain import audience
from services.notifications.domain.errors import UnknownSubject
from shared.events import matching, relationships
from shared.ports import Conn


async def request_ranked(deps: Deps, conn: Conn, event: matching.RequestRanked, cause_id: str) -> None:
    await deps.requests.remember(conn, event.request_id, event.mentee_id, event.biography)
    await record(deps, conn, cause_id, audience.request_for_review(event, deps.directors))


async def request_forwarded(deps: Deps, conn: Conn, event: matching.RequestForwarded, cause_id: str) -> None:
    biography = await deps.requests.biography_of(conn, event.request_id)
    await record(deps, conn, cause_id, audience.request_forwarded(event, biography or ""))


async def match_approved(deps: Deps, conn: Conn, event: matching.MatchApproved, cause_id: str) -> None:
    await record(deps, conn, cause_id, audience.introduction(event))


async def request_unmatched(deps: Deps, conn: Conn, event: matching.RequestUnmatched, cause_id: str) -> None:
    await record(deps, conn, cause_id, audience.request_unmatched(event, deps.directors))


async def request_reviewed(deps: Deps, conn: Conn, event: matching.RequestReviewed, cause_id: str) -> None:
    if event.approved:
        return
    mentee_id = await mentee_of(deps, conn, event.request_id)
    await record(deps, conn, cause_id, audience.request_declined(event, mentee_id))


async def request_expired(deps: Deps, conn: Conn, event: matching.RequestExpired, cause_id: str) -> None:
    mentee_id = await mentee_of(deps, conn, event.request_id)
    await record(deps, conn, cause_id, audience.request_expired(event, mentee_id))


async def relationship_started(deps: Deps, conn: Conn, event: relationships.RelationshipStarted) -> None:
    await deps.relationships.remember(
        conn, event.relationship_id, event.mentor_id, event.mentee_ids, event.co_mentor_ids
    )


async def relationship_lagging(deps: Deps, conn: Conn, event: relationships.RelationshipLagging, cause_id: str) -> None:
    parties = await parties_of(deps, conn, event.relationship_id)
    await record(
        deps, conn, cause_id, audience.lagging(event, parties.mentor_id, parties.mentee_ids, parties.co_mentor_ids)
    )


async def review_due(deps: Deps, conn: Conn, event: relationships.AgreementReviewDue, cause_id: str) -> None:
    parties = await parties_of(deps, conn, event.relationship_id)
    await record(
        deps, conn, cause_id, audience.review_due(event, parties.mentor_id, parties.mentee_ids, parties.co_mentor_ids)
    )


async def relationship_closed(deps: Deps, conn: Conn, event: relationships.RelationshipClosed, cause_id: str) -> None:
    await record(deps, conn, cause_id, audience.rematch_requested(event, deps.directors))


async def mentee_of(deps: Deps, conn: Conn, request_id: str) -> str:
    mentee_id = await deps.requests.mentee_of(conn, request_id)
    if mentee_id is None:
        raise UnknownSubject(f"request {request_id} is unknown: its RequestRanked was never seen")
    return mentee_id


async def parties_of(deps: Deps, conn: Conn, relationship_id: str) -> Parties:
    parties = await deps.relationships.parties_of(conn, relationship_id)
    if parties is None:
        raise UnknownSubject(f"relationship {relationship_id} is unknown: its RelationshipStarted was never seen")
    return parties
