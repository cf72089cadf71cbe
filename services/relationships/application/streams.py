"""Load a relationship from its stream; append what it decided, rewrite its view row and timers, in one transaction."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from services.relationships.adapters import read_model
from services.relationships.application.cadence_watch import sync_timers
from services.relationships.application.deps import Deps
from services.relationships.domain.errors import RelationshipNotFound
from services.relationships.domain.relationship import Relationship
from shared.events import Event


async def load(conn: asyncpg.Connection, deps: Deps, relationship_id: str) -> Relationship:
    history = await deps.store.read_stream(conn, relationship_id)
    return Relationship.from_events(relationship_id, [stored.event for stored in history])


async def load_existing(conn: asyncpg.Connection, deps: Deps, relationship_id: str) -> Relationship:
    relationship = await load(conn, deps, relationship_id)
    if not relationship.exists:
        raise RelationshipNotFound(f"no relationship {relationship_id}")
    return relationship


async def commit(
    conn: asyncpg.Connection,
    deps: Deps,
    relationship: Relationship,
    events: list[Event],
    *,
    correlation_id: UUID | None = None,
    causation_id: UUID | None = None,
) -> int:
    """Append at the version the decision was made on (a concurrent writer → ConcurrencyConflict)."""
    if not events:
        return relationship.version
    await deps.store.append(
        conn,
        relationship.relationship_id,
        relationship.version,
        events,
        correlation_id=correlation_id,
        causation_id=causation_id,
    )
    relationship.apply_all(events)
    await read_model.save(conn, relationship)
    await sync_timers(conn, relationship, deps.cadence_grace)
    return relationship.version
