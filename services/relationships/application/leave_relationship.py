"""Use cases: a member leaves a group or a peer circle (by themselves, recorded by the director, on leaving the
institution or on erasure).  The others go on unless fewer than the model's minimum remain: then it closes.

When the member who leaves was the last one who had not signed the current agreement draft, the draft is
signed by all who remain, so the agreement is concluded then and there.
"""

from __future__ import annotations

from uuid import UUID

from services.relationships.application.commands import LeaveRelationship
from services.relationships.application.container import Container
from services.relationships.domain.relationship import LeaveReason, Relationship
from shared.events import Event
from shared.ports import Conn


async def handle(c: Container, cmd: LeaveRelationship) -> int:
    """The relationship's version after the leaving (and its closure, or the agreement it concluded)."""
    async with c.transactions() as conn:
        relationship = await c.relationships.get(conn, cmd.relationship_id)
        events = relationship.leave(cmd.participant_id, cmd.by, c.today(), by_director=cmd.by_director)
        return await _commit(c, conn, relationship, events, cmd.correlation_id, None)


async def leave_all(
    c: Container, conn: Conn, participant_id: str, reason: LeaveReason, correlation_id: UUID | None, causation: UUID
) -> None:
    """Someone left the institution or was erased: each of their open relationships lets them go (a pair
    closes; an erasure leaves pairs to their departure, as before groups)."""
    for relationship_id in await c.read_model.open_ids_of(conn, participant_id):
        relationship = await c.relationships.load(conn, relationship_id)
        if reason == "erased" and relationship.model == "one_to_one":
            continue
        events = relationship.participant_left(participant_id, c.today(), reason)
        await _commit(c, conn, relationship, events, correlation_id, causation)


async def _commit(
    c: Container,
    conn: Conn,
    relationship: Relationship,
    events: list[Event],
    correlation_id: UUID | None,
    causation_id: UUID | None,
) -> int:
    version = await c.relationships.commit(
        conn, relationship, events, correlation_id=correlation_id, causation_id=causation_id
    )
    if relationship.phase != "preparing" or not events:
        return version
    draft = await c.drafts.load(conn, relationship.relationship_id, for_update=True)
    if draft is None or draft.concluded or not draft.signatures:
        return version
    program = await c.programs.terms(conn, relationship.program_id)
    concluded = relationship.conclude_agreement(draft, c.today(), program)
    if not concluded:
        return version
    draft.concluded = True
    await c.drafts.save(conn, draft)
    return await c.relationships.commit(
        conn, relationship, concluded, correlation_id=correlation_id, causation_id=causation_id
    )
