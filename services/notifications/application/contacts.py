"""Contact details from profiles events; erasure removes them and everything not yet sent."""

from __future__ import annotations

import asyncpg

from shared.events.profiles import ParticipantErased, ProfileUpdated, _Registered

_CONTACT_FIELDS = {"name": "name", "email": "email"}


async def on_registered(conn: asyncpg.Connection, event: _Registered) -> None:
    if await _erased(conn, event.participant_id):
        return
    await conn.execute(
        "INSERT INTO contacts (participant_id, name, email) VALUES ($1, $2, $3)"
        " ON CONFLICT (participant_id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email",
        event.participant_id,
        event.name,
        event.email,
    )


async def on_profile_updated(conn: asyncpg.Connection, event: ProfileUpdated) -> None:
    changes = {_CONTACT_FIELDS[c.field]: c.new for c in event.changes if c.field in _CONTACT_FIELDS}
    if not changes or await _erased(conn, event.participant_id):
        return
    await conn.execute("INSERT INTO contacts (participant_id) VALUES ($1) ON CONFLICT DO NOTHING", event.participant_id)
    for column, value in changes.items():
        await conn.execute(f"UPDATE contacts SET {column} = $2 WHERE participant_id = $1", event.participant_id, value)


async def on_erased(conn: asyncpg.Connection, event: ParticipantErased) -> None:
    who = event.participant_id
    await conn.execute("INSERT INTO erased_participants VALUES ($1) ON CONFLICT DO NOTHING", who)
    await conn.execute("DELETE FROM contacts WHERE participant_id = $1", who)
    await conn.execute("DELETE FROM preferences WHERE participant_id = $1", who)
    await conn.execute("DELETE FROM requests WHERE mentee_id = $1", who)
    await conn.execute(
        "UPDATE intents SET status = 'cancelled', context = '{}'::jsonb"
        " WHERE recipient_id = $1 AND status IN ('held', 'pending', 'retrying')",
        who,
    )
    await conn.execute(
        "UPDATE intents SET context = context - 'biography' - 'motivation'"
        " WHERE context->>'mentee_id' = $1 AND status IN ('held', 'pending', 'retrying')",
        who,
    )


async def _erased(conn: asyncpg.Connection, participant_id: str) -> bool:
    return bool(await conn.fetchval("SELECT true FROM erased_participants WHERE participant_id = $1", participant_id))
