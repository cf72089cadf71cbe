"""The scim_groups table (the ``ScimGroups`` port): each group is a department; members are read off scim_users."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from services.profiles.adapters.scim_users import scim_row
from services.profiles.domain.scim import ENTERPRISE

COLUMNS = "group_id, display_name, external_id, resource, version, created_at, updated_at"
MEMBERS = (
    f"SELECT user_id FROM scim_users WHERE lower(resource -> '{ENTERPRISE}' ->> 'department') = lower($1)"
    " ORDER BY created_at, user_id"
)


class PostgresScimGroups:
    async def fetch(self, conn: asyncpg.Connection | asyncpg.Pool, group_id: str, *, lock: bool = False) -> dict | None:
        sql = f"SELECT {COLUMNS} FROM scim_groups WHERE group_id = $1" + (" FOR UPDATE" if lock else "")
        return scim_row(await conn.fetchrow(sql, group_id))

    async def owner_of_name(self, conn: asyncpg.Connection, display_name: str) -> str | None:
        return await conn.fetchval(
            "SELECT group_id FROM scim_groups WHERE lower(display_name) = lower($1)", display_name
        )

    async def members(self, conn: asyncpg.Connection | asyncpg.Pool, display_name: str) -> list[str]:
        return [r["user_id"] for r in await conn.fetch(MEMBERS, display_name)]

    async def save(
        self,
        conn: asyncpg.Connection,
        group_id: str,
        resource: dict,
        version: int,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        await conn.execute(
            "INSERT INTO scim_groups (group_id, display_name, external_id, resource, version, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, $7)"
            " ON CONFLICT (group_id) DO UPDATE SET display_name = EXCLUDED.display_name,"
            " external_id = EXCLUDED.external_id, resource = EXCLUDED.resource, version = EXCLUDED.version,"
            " updated_at = EXCLUDED.updated_at",
            group_id,
            resource["displayName"],
            resource.get("externalId"),
            json.dumps(resource),
            version,
            created_at,
            updated_at,
        )

    async def delete(self, conn: asyncpg.Connection, group_id: str) -> None:
        await conn.execute("DELETE FROM scim_groups WHERE group_id = $1", group_id)
