"""From matching's and relationships' events to recorded notices (and the facts later ones need)."""

from __future__ import annotations

import asyncpg

from services.notifications.application.deps import Deps
from services.notifications.application.record_notices import record
from services.notifications.domain import audience
from shared.envelope import Envelope
from shared.events.matching import (
    MatchApproved,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
)
from shared.events.relationships import (
    AgreementReviewDue,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
)
from shared.inbox import PermanentError


async def on_request_ranked(conn: asyncpg.Connection, deps: Deps, event: RequestRanked, envelope: Envelope) -> None:
    await conn.execute(
        "INSERT INTO requests (request_id, mentee_id, biography) VALUES ($1, $2, $3)"
        " ON CONFLICT (request_id) DO UPDATE SET mentee_id = EXCLUDED.mentee_id, biography = EXCLUDED.biography",
        event.request_id,
        event.mentee_id,
        event.biography,
    )
    await record(conn, deps, str(envelope.id), audience.request_for_review(event, deps.directors))


async def on_request_forwarded(
    conn: asyncpg.Connection, deps: Deps, event: RequestForwarded, envelope: Envelope
) -> None:
    biography = await conn.fetchval("SELECT biography FROM requests WHERE request_id = $1", event.request_id)
    await record(conn, deps, str(envelope.id), audience.request_forwarded(event, biography or ""))


async def on_match_approved(conn: asyncpg.Connection, deps: Deps, event: MatchApproved, envelope: Envelope) -> None:
    await record(conn, deps, str(envelope.id), audience.introduction(event))


async def on_request_unmatched(
    conn: asyncpg.Connection, deps: Deps, event: RequestUnmatched, envelope: Envelope
) -> None:
    await record(conn, deps, str(envelope.id), audience.request_unmatched(event, deps.directors))


async def on_request_reviewed(conn: asyncpg.Connection, deps: Deps, event: RequestReviewed, envelope: Envelope) -> None:
    if event.approved:
        return
    await record(
        conn, deps, str(envelope.id), audience.request_declined(event, await _mentee_of(conn, event.request_id))
    )


async def on_request_expired(conn: asyncpg.Connection, deps: Deps, event: RequestExpired, envelope: Envelope) -> None:
    await record(
        conn, deps, str(envelope.id), audience.request_expired(event, await _mentee_of(conn, event.request_id))
    )


async def on_relationship_started(
    conn: asyncpg.Connection, deps: Deps, event: RelationshipStarted, _: Envelope
) -> None:
    await conn.execute(
        "INSERT INTO relationships (relationship_id, mentor_id, mentee_ids) VALUES ($1, $2, $3)"
        " ON CONFLICT (relationship_id) DO UPDATE SET mentor_id = EXCLUDED.mentor_id, mentee_ids = EXCLUDED.mentee_ids",
        event.relationship_id,
        event.mentor_id,
        list(event.mentee_ids),
    )


async def on_lagging(conn: asyncpg.Connection, deps: Deps, event: RelationshipLagging, envelope: Envelope) -> None:
    mentor_id, mentee_ids = await parties_of(conn, event.relationship_id)
    await record(conn, deps, str(envelope.id), audience.lagging(event, mentor_id, mentee_ids))


async def on_review_due(conn: asyncpg.Connection, deps: Deps, event: AgreementReviewDue, envelope: Envelope) -> None:
    mentor_id, mentee_ids = await parties_of(conn, event.relationship_id)
    await record(conn, deps, str(envelope.id), audience.review_due(event, mentor_id, mentee_ids))


async def on_relationship_closed(
    conn: asyncpg.Connection, deps: Deps, event: RelationshipClosed, envelope: Envelope
) -> None:
    await record(conn, deps, str(envelope.id), audience.rematch_requested(event, deps.directors))


async def _mentee_of(conn: asyncpg.Connection, request_id: str) -> str:
    mentee_id = await conn.fetchval("SELECT mentee_id FROM requests WHERE request_id = $1", request_id)
    if mentee_id is None:
        raise PermanentError(f"request {request_id} is unknown: its RequestRanked was never seen")
    return mentee_id


async def parties_of(conn: asyncpg.Connection, relationship_id: str) -> tuple[str, list[str]]:
    row = await conn.fetchrow(
        "SELECT mentor_id, mentee_ids FROM relationships WHERE relationship_id = $1", relationship_id
    )
    if row is None:
        raise PermanentError(f"relationship {relationship_id} is unknown: its RelationshipStarted was never seen")
    return row["mentor_id"], list(row["mentee_ids"])
