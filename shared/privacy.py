"""Subject access and erasure receipts (GDPR Art. 15 and 17), the same in every service.

Each service names the places where it keeps a person's data (``Inventory``: a function returning
``Place`` rows for one person: a table or the event store, how many rows concern them, how many of those
hold personal data anyone can still read).  This module adds what is the same everywhere:

- the **event store** place: events naming the person, whether their personal fields are sealed under a
  per-person key (``person_keys``, where the service keeps one) and whether that key still exists;
- ``GET /privacy/{person_id}`` (admins only, ``router``): the places, the person's standing
  (``shared.standing``) and the service's **erasure receipt**, once it handled the erasure;
- ``receipted(handlers, inventory)`` (applied by ``shared.runtime`` when the service names its inventory):
  the consumer's whole ``ParticipantErased`` handler (the service's steps, then the shredding of the person's
  keys) runs between two looks at the inventory in the same transaction, and the difference is kept as the
  receipt (``erasure_receipts``): per place, how many readable rows there were, how many are left, and
  whether the rest was removed or made unreadable.  Only counts are kept, never the data.

``mentorship privacy report|erase`` composes these answers over HTTP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import APIRouter, Request

from shared import standing
from shared.auth import Director
from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import ParticipantErased
from shared.fields import IdPath
from shared.handlers import EventHandlers
from shared.inbox import Handler


@dataclass(frozen=True)
class Place:
    place: str
    """A table (``table contacts``) or the event store (``event store``)."""
    holds: str
    """What of the person is kept there, in words (``name, e-mail``)."""
    rows: int
    """Rows (events) that concern the person."""
    readable: int
    """Of those, how many still hold personal data anyone with access to the database can read."""
    sealed: bool = False
    """Personal fields are sealed under the person's key."""
    key_exists: bool | None = None
    """For sealed places: whether the person's key still exists (None: not sealed)."""


Inventory = Callable[[Any, str], Awaitable[Sequence[Place]]]
"""``(conn, person_id)`` → the service's own places (the event store is added by ``places``)."""


async def _has_key_table(conn: Any) -> bool:
    return await conn.fetchval("SELECT to_regclass('person_keys') IS NOT NULL")


async def key_exists(conn: Any, person_id: str) -> bool | None:
    """Whether the person's data key still exists (False: shredded); None where this service keeps no
    per-person keys, or never made one for them (nothing of theirs was sealed here)."""
    if not await _has_key_table(conn):
        return None
    present = await conn.fetchval("SELECT data_key IS NOT NULL FROM person_keys WHERE participant_id = $1", person_id)
    return None if present is None else bool(present)


async def event_store_place(conn: Any, person_id: str) -> Place:
    """Events of the person's own stream or naming them anywhere in their payload."""
    rows = await conn.fetchval(
        "SELECT count(*) FROM events WHERE stream_id = $1 OR strpos(data::text, $2) > 0",
        person_id,
        f'"{person_id}"',
    )
    if not await _has_key_table(conn):  # nothing sealed here: whatever personal fields the events carry are plain
        return Place("event store", "events naming them (personal fields in plain text)", rows, rows)
    key = await key_exists(conn, person_id)
    if key is None:
        return Place("event store", "events naming them (no personal field of theirs sealed here)", rows, 0, True)
    holds = "events naming them (personal fields sealed under their key)"
    return Place("event store", holds, rows, rows if key else 0, sealed=True, key_exists=key)


async def places(conn: Any, person_id: str, inventory: Inventory) -> list[Place]:
    return [*await inventory(conn, person_id), await event_store_place(conn, person_id)]


async def receipt_of(conn: Any, person_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT erased_at, removed FROM erasure_receipts WHERE participant_id = $1", person_id)
    if row is None:
        return None
    return {"erased_at": row["erased_at"].isoformat(), "places": row["removed"]}


def _outcome(before: Place | None, after: Place | None) -> dict[str, Any]:
    was = before.readable if before else 0
    left_rows, left = (after.rows, after.readable) if after else (0, 0)
    if was == 0:
        outcome = "nothing readable was held"
    elif left == 0 and left_rows == 0:
        outcome = "removed"
    elif left == 0:
        outcome = "made unreadable"
    else:
        outcome = "still readable"
    place = after or before
    return {
        "place": place.place,
        "holds": place.holds,
        "readable_before": was,
        "rows_left": left_rows,
        "readable_left": left,
        "outcome": outcome,
    }


async def record_receipt(conn: Any, person_id: str, before: Sequence[Place], after: Sequence[Place]) -> None:
    """Keep what the erasure did here (once: a redelivered erasure keeps the first receipt)."""
    was = {p.place: p for p in before}
    now = {p.place: p for p in after}
    removed = [_outcome(was.get(name), now.get(name)) for name in dict.fromkeys([*was, *now])]
    await conn.execute(
        "INSERT INTO erasure_receipts (participant_id, removed) VALUES ($1, $2::jsonb)"
        " ON CONFLICT (participant_id) DO NOTHING",
        person_id,
        removed,
    )


class Receipts:
    """A service's inventory with the receipt around an erasure it decides itself (profiles)."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    async def look(self, conn: Any, person_id: str) -> list[Place]:
        return await places(conn, person_id, self.inventory)

    async def record(self, conn: Any, person_id: str, before: Sequence[Place]) -> None:
        await record_receipt(conn, person_id, before, await self.look(conn, person_id))


def receipted(handlers: dict[str, Handler], inventory: Inventory) -> dict[str, Handler]:
    """The consumer's table with its ``ParticipantErased`` handler (the service's steps and whatever the runtime
    adds, such as shredding the person's keys) run between two looks at the inventory, then the receipt."""
    erase = handlers.get(ParticipantErased.type_name())
    if erase is None:
        return handlers
    receipts = Receipts(inventory)

    async def erase_with_receipt(conn: Any, event: Event, envelope: Envelope) -> None:
        person = event.participant_id  # type: ignore[attr-defined]
        before = await receipts.look(conn, person)
        await erase(conn, event, envelope)
        await receipts.record(conn, person, before)

    return {**handlers, ParticipantErased.type_name(): erase_with_receipt}


def guarded(handlers: EventHandlers) -> EventHandlers:
    """A consuming service's table with the standing of people (``shared.standing``) followed as well.  The
    runtime adds the erasure receipt around the whole ``ParticipantErased`` handler (``receipted``)."""
    return handlers.include(standing.steps())


def router(service: str, inventory: Inventory) -> APIRouter:
    """``GET /privacy/{person_id}`` for the service's admins (subject access, erasure receipt)."""
    api = APIRouter(tags=["privacy"])

    @api.get("/privacy/{person_id}")
    async def privacy(person_id: IdPath, request: Request, principal: Director) -> dict[str, Any]:
        """Where this service keeps the person's data (places, rows, what is still readable, sealed, key),
        their standing, and the erasure receipt once this service handled their erasure (admins only)."""
        async with request.app.state.runtime.pool.acquire() as conn:
            found = await places(conn, person_id, inventory)
            standing = await conn.fetchval(
                "SELECT standing FROM participant_standing WHERE participant_id = $1", person_id
            )
            receipt = await receipt_of(conn, person_id)
        return {
            "service": service,
            "person_id": person_id,
            "standing": standing or "active",
            "places": [asdict(p) for p in found if p.rows],
            "readable": sum(p.readable for p in found),
            "erasure_receipt": receipt,
        }

    return api
