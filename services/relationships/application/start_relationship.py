"""Use cases: the director starts a relationship; an approved match starts a one-to-one relationship; a formed
group starts a group or a peer circle."""

from __future__ import annotations

import uuid

from services.relationships.application.commands import StartGroup, StartRelationship
from services.relationships.application.container import Container
from services.relationships.domain.errors import InvalidCommand, MatchCannotStart
from shared.envelope import Envelope
from shared.errors import ConcurrencyConflict
from shared.events.matching import MatchApproved
from shared.ports import Conn

_NAMESPACE = uuid.UUID("6f1c3a52-4a8e-4c1e-9d37-0b3f2f6c1a10")


def relationship_id_for(match_id: str) -> str:
    """Deterministic, so a replayed or duplicated match never starts a second relationship."""
    return str(uuid.uuid5(_NAMESPACE, match_id))


async def handle(c: Container, cmd: StartRelationship) -> str:
    """The new relationship's id (a direct start gets a match id of its own, ``direct-…``)."""
    match_id = cmd.match_id or f"direct-{uuid.uuid4()}"
    relationship_id = relationship_id_for(match_id)
    async with c.transactions() as conn:
        relationship = await c.relationships.load(conn, relationship_id)
        events = relationship.start(
            cmd.model,
            cmd.mentor_id,
            list(cmd.mentee_ids),
            match_id,
            c.today(),
            co_mentor_ids=list(cmd.co_mentor_ids),
            program_id=cmd.program_id,
        )
        await c.relationships.commit(conn, relationship, events, correlation_id=cmd.correlation_id)
    return relationship_id


async def start_from_match(c: Container, conn: Conn, match: MatchApproved, envelope: Envelope) -> None:
    """In the consumer's transaction; a match already started is left alone (at-least-once delivery).

    Its stream is not read first: the relationship is started as a new one and appended at version 0, which
    appends nothing when the stream exists (a ``ConcurrencyConflict`` that knows the version it found, the
    transaction intact), and that is the match already started. Every match is new but for a replay, so this is
    one statement fewer per match (bench/load.py, statements per command)."""
    relationship_id = relationship_id_for(match.match_id)
    relationship = c.relationships.new(relationship_id)
    try:
        events = relationship.start(
            "one_to_one", match.mentor_id, [match.mentee_id], match.match_id, c.today(), program_id=match.program_id
        )
    except InvalidCommand as exc:
        if (await c.relationships.load(conn, relationship_id)).exists:
            return  # started already: left alone, as before it was refused
        raise MatchCannotStart(f"match {match.match_id} cannot start a relationship: {exc}") from exc
    try:
        await c.relationships.commit(
            conn, relationship, events, correlation_id=envelope.correlationid, causation_id=envelope.id
        )
    except ConcurrencyConflict as exc:
        if exc.stream_id != relationship_id or exc.actual is None:
            raise  # another stream's, or a writer's race that aborted the transaction: not "already started"


async def start_from_group(c: Container, conn: Conn, group: StartGroup, envelope: Envelope) -> None:
    """A ``GroupFormed``: a group (first mentor leads, the others co-mentor) or a peer circle, once per match.
    A group that can never start (a bad composition, someone erased or deactivated) is ``MatchCannotStart``:
    the consumer dead-letters it with the reason."""
    relationship = await c.relationships.load(conn, relationship_id_for(group.match_id))
    if relationship.exists:
        return
    people = [*group.mentor_ids, *group.mentee_ids]
    gone = await c.standing.not_active(conn, people)
    if gone:
        who = ", ".join(f"{p} ({gone[p]})" for p in people if p in gone)
        raise MatchCannotStart(f"group {group.match_id} cannot start: {who}")
    mentor_id = group.mentor_ids[0] if group.mentor_ids else None
    try:
        events = relationship.start(
            group.model,
            mentor_id,
            list(group.mentee_ids),
            group.match_id,
            c.today(),
            co_mentor_ids=list(group.mentor_ids[1:]),
            program_id=group.program_id,
        )
    except InvalidCommand as exc:
        raise MatchCannotStart(f"group {group.match_id} cannot start a relationship: {exc}") from exc
    await c.relationships.commit(
        conn, relationship, events, correlation_id=envelope.correlationid, causation_id=envelope.id
    )
