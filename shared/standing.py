"""Erased and deactivated people may no longer act, whatever their token says.

A token outlives the facts it was issued on: a person erased or deactivated a minute ago still holds an
access token for hours.  So every service keeps the standing of the people it heard of in its own table
(``participant_standing``), learnt from profiles' events (``steps()``, included in the service's handler
table; profiles writes it from its own commits), and ``shared.auth.current_principal`` checks it once, for
every route, before the route runs (``refusal``):

- **erased** → **410 Gone** on every route (the person no longer exists for the platform);
- **deactivated** → **403 Forbidden** on commands (POST, PUT, PATCH, DELETE); reading stays allowed, so a
  person on leave can still see their own records.  ``ParticipantReactivated`` lifts it.

Erasure is final: a later deactivation or reactivation does not change it.  Nothing of a refused command
runs, so nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import ParticipantDeactivated, ParticipantErased, ParticipantReactivated
from shared.handlers import EventHandlers

ERASED, DEACTIVATED = "erased", "deactivated"
COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def note(conn: Any, event: Event) -> None:
    """Follow one profiles event in the caller's transaction (a no-op for any other event)."""
    if isinstance(event, ParticipantErased):
        await conn.execute(
            "INSERT INTO participant_standing (participant_id, standing) VALUES ($1, 'erased')"
            " ON CONFLICT (participant_id) DO UPDATE SET standing = 'erased', since = now()"
            " WHERE participant_standing.standing <> 'erased'",
            event.participant_id,
        )
    elif isinstance(event, ParticipantDeactivated):
        await conn.execute(
            "INSERT INTO participant_standing (participant_id, standing) VALUES ($1, 'deactivated')"
            " ON CONFLICT (participant_id) DO NOTHING",
            event.participant_id,
        )
    elif isinstance(event, ParticipantReactivated):
        await conn.execute(
            "DELETE FROM participant_standing WHERE participant_id = $1 AND standing = 'deactivated'",
            event.participant_id,
        )


async def note_all(conn: Any, events: Iterable[Event]) -> None:
    for event in events:
        await note(conn, event)


def steps() -> EventHandlers:
    """The consumed-event steps a service includes in its table (``handlers.include(standing.steps())``)."""
    handlers = EventHandlers()

    @handlers.on(ParticipantDeactivated, ParticipantReactivated, ParticipantErased)
    async def follow(conn: Any, event: Event, envelope: Envelope) -> None:
        await note(conn, event)

    return handlers


async def standing_of(pool: Any, participant_id: str) -> str | None:
    return await pool.fetchval("SELECT standing FROM participant_standing WHERE participant_id = $1", participant_id)


def refusal(participant_id: str, standing: str | None, method: str) -> tuple[int, str] | None:
    """The status and reason a caller of this standing gets for a request of ``method``; None: go on."""
    if standing == ERASED:
        return 410, f"participant {participant_id} was erased; their token no longer acts"
    if standing == DEACTIVATED and method.upper() in COMMAND_METHODS:
        return 403, f"participant {participant_id} is deactivated and may not act"
    return None


async def commit_hook(conn: Any, aggregate: Any, events: Iterable[Event], now: Any) -> None:
    """A repository commit hook for the service that decides these events itself (profiles)."""
    await note_all(conn, events)


async def commit_many_hook(conn: Any, decided: Iterable[tuple[Any, Iterable[Event]]], now: Any) -> None:
    """``commit_hook`` for a repository's bulk commit of new aggregates (``Repository.commit_new``)."""
    for _aggregate, events in decided:
        await note_all(conn, events)
