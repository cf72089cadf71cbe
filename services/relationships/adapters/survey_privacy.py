"""Where surveys keep a person's data (``shared.privacy``), added to the relationships' inventory by ``bootstrap``:
their sealed text answers (deleted when they are erased) and the surveys they were asked (ids and dates only)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from shared.privacy import Place

Inventory = Callable[[asyncpg.Connection, str], Awaitable[list[Place]]]


async def survey_places(conn: asyncpg.Connection, person_id: str) -> list[Place]:
    texts = await conn.fetchval("SELECT count(*) FROM survey_texts WHERE respondent_id = $1", person_id)
    asked = await conn.fetchval("SELECT count(*) FROM survey_view WHERE $1 = ANY(respondent_ids)", person_id)
    return [
        Place("table survey_texts", "text answers to surveys (encrypted, only they can read them)", texts, texts),
        Place("table survey_view", "the surveys they were asked and answered: ids and dates only", asked, 0),
    ]


def with_surveys(inventory: Inventory) -> Inventory:
    async def both(conn: asyncpg.Connection, person_id: str) -> list[Place]:
        return [*await inventory(conn, person_id), *await survey_places(conn, person_id)]

    return both
