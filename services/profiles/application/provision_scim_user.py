"""Use case: an identity provider provisions a user over SCIM (create, replace, patch, delete).

Each write stores the provider's representation and records the worker it
describes as an HR fact (``WorkerUpdated``, effective today), so the participant
follows it exactly as it follows ``hr.events``.  ``active: false`` deactivates
the participant; DELETE deactivates and forgets the SCIM user.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import uuid4

import asyncpg

from services.profiles.adapters import scim_users
from services.profiles.application.record_hr_fact import record_local_hr_fact
from services.profiles.domain import scim
from services.profiles.domain.scim import ScimProblem
from shared.clock import Clock
from shared.events.hr import WorkerUpdated
from shared.eventstore import EventStore
from shared.inbox import PermanentError


class ScimUserNotFound(LookupError):
    pass


async def create_scim_user(pool: asyncpg.Pool, store: EventStore, clock: Clock, body: Any) -> dict:
    user = scim.clean(body)
    user_id = str(uuid4())
    async with pool.acquire() as conn, conn.transaction():
        return await _save(conn, store, clock, user_id, user, None)


async def replace_scim_user(
    pool: asyncpg.Pool, store: EventStore, clock: Clock, user_id: str, body: Any, expected_version: int | None = None
) -> dict:
    user = scim.clean(body)
    async with pool.acquire() as conn, conn.transaction():
        return await _save(conn, store, clock, user_id, user, await _existing(conn, user_id, expected_version))


async def patch_scim_user(
    pool: asyncpg.Pool, store: EventStore, clock: Clock, user_id: str, body: Any, expected_version: int | None = None
) -> dict:
    async with pool.acquire() as conn, conn.transaction():
        existing = await _existing(conn, user_id, expected_version)
        user = scim.clean(scim.patch(existing["resource"], body))
        return await _save(conn, store, clock, user_id, user, existing)


async def delete_scim_user(pool: asyncpg.Pool, store: EventStore, clock: Clock, user_id: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        existing = await _existing(conn, user_id, None)
        if existing["resource"].get("active", True):
            await _save(conn, store, clock, user_id, {**existing["resource"], "active": False}, existing)
        await scim_users.delete(conn, user_id)


async def _existing(conn: asyncpg.Connection, user_id: str, expected_version: int | None) -> dict:
    existing = await scim_users.fetch(conn, user_id, lock=True)
    if existing is None:
        raise ScimUserNotFound(f"no user {user_id}")
    if expected_version is not None and expected_version != existing["version"]:
        raise ScimProblem(412, None, f"user {user_id} is at version {existing['version']}, not {expected_version}")
    return existing


async def _save(
    conn: asyncpg.Connection, store: EventStore, clock: Clock, user_id: str, user: dict, existing: dict | None
) -> dict:
    employee_id = scim.employee_id(user)
    if existing is not None and existing["employee_id"] != employee_id:
        raise ScimProblem(
            400, "mutability", f"employeeNumber/externalId cannot change (it is {existing['employee_id']})"
        )
    if await scim_users.owner_of_user_name(conn, user["userName"]) not in (None, user_id):
        raise ScimProblem(409, "uniqueness", f"userName {user['userName']!r} is taken")
    if await scim_users.owner_of_employee(conn, employee_id) not in (None, user_id):
        raise ScimProblem(409, "uniqueness", f"employee {employee_id} is already provisioned as another user")
    now = clock.now()
    created_at = existing["created_at"] if existing else now
    worker = scim.worker(user, created_at.date(), now.date())
    fact = WorkerUpdated(
        employee_id=employee_id, effective_date=now.date(), recorded_at=now, worker=worker, changed_fields=["scim"]
    )
    try:
        await record_local_hr_fact(conn, store, fact, uuid4(), uuid4(), now.date(), "/services/profiles/scim")
    except PermanentError as exc:
        raise ScimProblem(409, "uniqueness", str(exc)) from exc
    version = existing["version"] + 1 if existing else 1
    await scim_users.save(conn, user_id, employee_id, copy.deepcopy(user), version, created_at, now)
    return await scim_users.fetch(conn, user_id)
