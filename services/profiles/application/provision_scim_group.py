"""Use case: an identity provider provisions a group over SCIM; a group is a department.

The platform has departments (an HR fact of every worker and a field of the participant's profile, which
matching and analytics read) and no other grouping an identity provider could own, so a SCIM
group stands for one department: ``displayName`` is its name, and its members are the SCIM users
whose enterprise ``department`` is that name.  Membership is not kept beside the users: adding a
member moves that user into the department and removing one moves them out, each a user write
(``provision_scim_user.move_to_department``) that becomes a ``WorkerUpdated`` HR fact and so the
participant's ``ProfileUpdated``.  A person is in one department at a time: adding them to a group
takes them out of the group they were in.  Renaming a group moves every member; deleting it moves
them out.  Each write is one transaction: a member that cannot move refuses the whole request.
"""

from __future__ import annotations

from uuid import uuid4

from services.profiles.application import provision_scim_user
from services.profiles.application.commands import CreateScimGroup, DeleteScimGroup, PatchScimGroup, ReplaceScimGroup
from services.profiles.application.ports import Ports
from services.profiles.domain import scim
from services.profiles.domain.scim import ScimProblem
from shared.ports import Conn


async def create(ports: Ports, cmd: CreateScimGroup) -> dict:
    group = scim.clean_group(cmd.body)
    async with ports.transactions() as conn:
        return await _save(ports, conn, str(uuid4()), group, None)


async def replace(ports: Ports, cmd: ReplaceScimGroup) -> dict:
    group = scim.clean_group(cmd.body)
    async with ports.transactions() as conn:
        existing = await _existing(ports, conn, cmd.group_id, cmd.expected_version)
        return await _save(ports, conn, cmd.group_id, group, existing)


async def patch(ports: Ports, cmd: PatchScimGroup) -> dict:
    async with ports.transactions() as conn:
        existing = await _existing(ports, conn, cmd.group_id, cmd.expected_version)
        current = {**existing["resource"], "members": [{"value": m} for m in existing["members"]]}
        group = scim.clean_group(scim.patch(current, cmd.body, core=scim.GROUP))
        return await _save(ports, conn, cmd.group_id, group, existing)


async def delete(ports: Ports, cmd: DeleteScimGroup) -> None:
    async with ports.transactions() as conn:
        existing = await _existing(ports, conn, cmd.group_id, None)
        for user_id in existing["members"]:
            await provision_scim_user.move_to_department(ports, conn, user_id, None)
        await ports.scim_groups.delete(conn, cmd.group_id)


async def _existing(ports: Ports, conn: Conn, group_id: str, expected_version: int | None) -> dict:
    stored = await ports.scim_groups.fetch(conn, group_id, lock=True)
    existing = scim.stored_for_write("group", group_id, stored, expected_version)
    return {**existing, "members": await ports.scim_groups.members(conn, existing["resource"]["displayName"])}


async def _save(ports: Ports, conn: Conn, group_id: str, group: dict, existing: dict | None) -> dict:
    name = group["displayName"]
    if await ports.scim_groups.owner_of_name(conn, name) not in (None, group_id):
        raise ScimProblem(409, "uniqueness", f"a group (department) named {name!r} exists")
    wanted = scim.member_ids(group)
    for user_id in existing["members"] if existing else []:
        if user_id not in wanted:
            await provision_scim_user.move_to_department(ports, conn, user_id, None)
    for user_id in wanted:
        await provision_scim_user.move_to_department(ports, conn, user_id, name)
    now = ports.clock.now()
    resource = {k: v for k, v in group.items() if k != "members"}
    version = existing["version"] + 1 if existing else 1
    await ports.scim_groups.save(conn, group_id, resource, version, existing["created_at"] if existing else now, now)
    saved = await ports.scim_groups.fetch(conn, group_id)
    return {**saved, "members": await ports.scim_groups.members(conn, name)}
