"""Contacts, erased ids and preferences (``contacts``, ``erased_participants``, ``preferences``)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import asyncpg

from services.notifications.domain.people import Person
from services.notifications.domain.preferences import Preferences


class PostgresContacts:
    async def erased(self, conn: asyncpg.Connection, participant_id: str) -> bool:
        return bool(
            await conn.fetchval("SELECT true FROM erased_participants WHERE participant_id = $1", participant_id)
        )

    async def save(self, conn: asyncpg.Connection, participant_id: str, changes: Mapping[str, str | None]) -> None:
        await conn.execute(
            "INSERT INTO contacts (participant_id, name, email, time_zone) VALUES ($1, $2, $3, $6)"
            " ON CONFLICT (participant_id) DO UPDATE SET"
            " name = CASE WHEN $4 THEN EXCLUDED.name ELSE contacts.name END,"
            " email = CASE WHEN $5 THEN EXCLUDED.email ELSE contacts.email END,"
            " time_zone = CASE WHEN $7 THEN EXCLUDED.time_zone ELSE contacts.time_zone END",
            participant_id,
            changes.get("name"),
            changes.get("email"),
            "name" in changes,
            "email" in changes,
            changes.get("time_zone"),
            "time_zone" in changes,
        )

    async def erase(self, conn: asyncpg.Connection, participant_id: str) -> None:
        await conn.execute("INSERT INTO erased_participants VALUES ($1) ON CONFLICT DO NOTHING", participant_id)
        await conn.execute("DELETE FROM contacts WHERE participant_id = $1", participant_id)

    async def known(self, conn: asyncpg.Connection, participant_ids: Collection[str]) -> dict[str, Person]:
        rows = await conn.fetch(
            "SELECT participant_id, name, email, time_zone FROM contacts WHERE participant_id = ANY($1)",
            list(participant_ids),
        )
        return {
            r["participant_id"]: {"name": r["name"], "email": r["email"], "time_zone": r["time_zone"]} for r in rows
        }


class PostgresPreferences:
    async def get(self, conn: asyncpg.Connection, participant_id: str) -> Preferences | None:
        row = await conn.fetchrow("SELECT channels, digest FROM preferences WHERE participant_id = $1", participant_id)
        return None if row is None else Preferences(list(row["channels"]), row["digest"])

    async def save(self, conn: asyncpg.Connection, participant_id: str, preferences: Preferences) -> None:
        await conn.execute(
            "INSERT INTO preferences (participant_id, channels, digest) VALUES ($1, $2, $3)"
            " ON CONFLICT (participant_id) DO UPDATE SET channels = EXCLUDED.channels, digest = EXCLUDED.digest",
            participant_id,
            list(preferences.channels),
            preferences.digest,
        )

    async def forget(self, conn: asyncpg.Connection, participant_id: str) -> None:
        await conn.execute("DELETE FROM preferences WHERE participant_id = $1", participant_id)
