"""Use case: an identity provider provisions a user over SCIM (create, replace, patch, delete).

Each write stores the provider's representation and records the worker it
describes as an HR fact (``WorkerUpdated``, effective today), so the participant
follows it exactly as it follows ``hr.events``.  ``active: false`` deactivates
the participant; DELETE deactivates and forgets the SCIM user.  Every refusal is
a ``ScimProblem`` (the SCIM edge answers it as a SCIM error message).
"""

from __future__ import annotations

import copy
from uuid import uuid4

from services.profiles.application import record_hr_fact
from services.profiles.application.commands import (
    CreateScimUser,
    DeleteScimUser,
    PatchScimUser,
    RecordHrFact,
    ReplaceScimUser,
)
from services.profiles.application.ports import Ports
from services.profiles.domain import scim
from services.profiles.domain.participant import EmailTaken, EmployeeTaken
from services.profiles.domain.scim import ScimProblem
from services.profiles.domain.worker import ImpossibleHrFact
from shared.events.hr import WorkerUpdated
from shared.ports import Conn


async def create(ports: Ports, cmd: CreateScimUser) -> dict:
    user = scim.clean(cmd.body)
    user_id = str(uuid4())
    async with ports.transactions() as conn:
        return await _save(ports, conn, user_id, user, None)


async def replace(ports: Ports, cmd: ReplaceScimUser) -> dict:
    async with ports.transactions() as conn:
        existing = await _existing(ports, conn, cmd.user_id, cmd.expected_version)
        user = scim.clean(scim.keep_employee_number(cmd.body, existing["resource"]))
        return await _save(ports, conn, cmd.user_id, user, existing)


async def patch(ports: Ports, cmd: PatchScimUser) -> dict:
    async with ports.transactions() as conn:
        existing = await _existing(ports, conn, cmd.user_id, cmd.expected_version)
        patched = scim.patch(existing["resource"], cmd.body)
        user = scim.clean(scim.keep_employee_number(patched, existing["resource"]))
        return await _save(ports, conn, cmd.user_id, user, existing)


async def move_to_department(ports: Ports, conn: Conn, user_id: str, department: str | None) -> None:
    """A group membership change (``provision_scim_group``): the user's department becomes ``department``
    (None: none), recorded like any other write, in the caller's transaction.  Nothing when it already is."""
    existing = await ports.scim_users.fetch(conn, user_id, lock=True)
    if existing is None:
        raise scim.invalid(f"members: no user {user_id}")
    if scim.department(existing["resource"]) == department:
        return
    await _save(ports, conn, user_id, scim.clean(scim.with_department(existing["resource"], department)), existing)


async def delete(ports: Ports, cmd: DeleteScimUser) -> None:
    async with ports.transactions() as conn:
        existing = await _existing(ports, conn, cmd.user_id, None)
        if existing["resource"].get("active", True):
            await _save(ports, conn, cmd.user_id, {**existing["resource"], "active": False}, existing)
        await ports.scim_users.delete(conn, cmd.user_id)


async def _existing(ports: Ports, conn: Conn, user_id: str, expected_version: int | None) -> dict:
    stored = await ports.scim_users.fetch(conn, user_id, lock=True)
    return scim.stored_for_write("user", user_id, stored, expected_version)


async def _save(ports: Ports, conn: Conn, user_id: str, user: dict, existing: dict | None) -> dict:
    employee_id = scim.employee_id(user)
    if existing is not None and existing["employee_id"] != employee_id:
        raise ScimProblem(
            400, "mutability", f"employeeNumber/externalId cannot change (it is {existing['employee_id']})"
        )
    if await ports.scim_users.owner_of_user_name(conn, user["userName"]) not in (None, user_id):
        raise ScimProblem(409, "uniqueness", f"userName {user['userName']!r} is taken")
    if await ports.scim_users.owner_of_employee(conn, employee_id) not in (None, user_id):
        raise ScimProblem(409, "uniqueness", f"employee {employee_id} is already provisioned as another user")
    now = ports.clock.now()
    created_at = existing["created_at"] if existing else now
    worker = scim.worker(user, created_at.date(), now.date())
    fact = WorkerUpdated(
        employee_id=employee_id, effective_date=now.date(), recorded_at=now, worker=worker, changed_fields=["scim"]
    )
    try:
        await record_hr_fact.handle(ports, conn, RecordHrFact(fact, uuid4(), employee_id, correlation_id=uuid4()))
    except (ImpossibleHrFact, EmailTaken, EmployeeTaken) as exc:
        raise ScimProblem(409, "uniqueness", str(exc)) from exc
    version = existing["version"] + 1 if existing else 1
    await ports.scim_users.save(conn, user_id, employee_id, copy.deepcopy(user), version, created_at, now)
    return await ports.scim_users.fetch(conn, user_id)
