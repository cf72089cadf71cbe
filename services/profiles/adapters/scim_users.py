"""The scim_users table (the ``ScimUsers`` port): the identity provider's view of each user."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg

from services.profiles.adapters.postgres import json_value

COLUMNS = "user_id, user_name, external_id, employee_id, resource, version, created_at, updated_at"


def scim_row(record: asyncpg.Record | None) -> dict[str, Any] | None:
    """A scim_users or scim_groups row as a dict, its ``resource`` decoded."""
    return None if record is None else {**dict(record), "resource": json_value(record["resource"])}


class PostgresScimUsers:
    async def fetch(self, conn: asyncpg.Connection | asyncpg.Pool, user_id: str, *, lock: bool = False) -> dict | None:
        sql = f"SELECT {COLUMNS} FROM scim_users WHERE user_id = $1" + (" FOR UPDATE" if lock else "")
        return scim_row(await conn.fetchrow(sql, user_id))

    async def owner_of_user_name(self, conn: asyncpg.Connection, user_name: str) -> str | None:
        return await conn.fetchval("SELECT user_id FROM scim_users WHERE lower(user_name) = lower($1)", user_name)

    async def owner_of_employee(self, conn: asyncpg.Connection, employee_id: str) -> str | None:
        return await conn.fetchval("SELECT user_id FROM scim_users WHERE employee_id = $1", employee_id)

    async def save(
        self,
        conn: asyncpg.Connection,
        user_id: str,
        employee_id: str,
        resource: dict,
        version: int,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        await conn.execute(
            "INSERT INTO scim_users (user_id, user_name, external_id, employee_id, resource, version, created_at,"
            " updated_at) VALUES ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8)"
            " ON CONFLICT (user_id) DO UPDATE SET user_name = EXCLUDED.user_name, external_id = EXCLUDED.external_id,"
            " resource = EXCLUDED.resource, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
            user_id,
            resource["userName"],
            resource.get("externalId"),
            employee_id,
            json.dumps(resource),
            version,
            created_at,
            updated_at,
        )

    async def delete(self, conn: asyncpg.Connection, user_id: str) -> None:
        await conn.execute("DELETE FROM scim_users WHERE user_id = $1", user_id)
