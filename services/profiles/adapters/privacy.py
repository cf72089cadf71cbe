"""Where profiles keeps a person's data (``shared.privacy``): their participant row, the HR facts and SCIM
user of their worker (their events are sealed under their data key: the event store place says so)."""

from __future__ import annotations

import asyncpg

from shared.privacy import Place

_QUERY = """
WITH worker AS (SELECT employee_id, applied FROM hr_workers WHERE participant_id = $1)
SELECT
    (SELECT count(*) FROM participants WHERE participant_id = $1) AS participants,
    (SELECT count(*) FROM worker) AS workers,
    (SELECT count(*) FROM worker WHERE applied IS NOT NULL) AS workers_readable,
    (SELECT count(*) FROM hr_facts WHERE employee_id IN (SELECT employee_id FROM worker)) AS hr_facts,
    (SELECT count(*) FROM scim_users WHERE employee_id IN (SELECT employee_id FROM worker)) AS scim_users,
    (SELECT count(*) FROM hr_import_rows WHERE employee_id IN (SELECT employee_id FROM worker)) AS import_rows
"""


async def inventory(conn: asyncpg.Connection, person_id: str) -> list[Place]:
    n = await conn.fetchrow(_QUERY, person_id)
    return [
        Place("table participants", "name, e-mail, profile, demographics", n["participants"], n["participants"]),
        Place("table hr_workers", "the HR record applied to them", n["workers"], n["workers_readable"]),
        Place("table hr_facts", "HR events about their worker", n["hr_facts"], n["hr_facts"]),
        Place("table scim_users", "their SCIM user", n["scim_users"], n["scim_users"]),
        # a hash of each HR row received about them (to skip unchanged rows): no field can be read back, but a
        # guess of the whole row could be checked against it, so it goes with their facts on erasure
        Place("table hr_import_rows", "hashes of HR rows received about them", n["import_rows"], n["import_rows"]),
    ]
