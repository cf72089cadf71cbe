"""Where notifications keeps a person's data (``shared.privacy``): contact, preferences, the biography of
their requests, messages to them and messages that quote them."""

from __future__ import annotations

import asyncpg

from shared.privacy import Place

_QUERY = """
SELECT
    (SELECT count(*) FROM contacts WHERE participant_id = $1) AS contacts,
    (SELECT count(*) FROM contacts WHERE participant_id = $1 AND (name IS NOT NULL OR email IS NOT NULL))
        AS contacts_readable,
    (SELECT count(*) FROM preferences WHERE participant_id = $1) AS preferences,
    (SELECT count(*) FROM requests WHERE mentee_id = $1) AS requests,
    (SELECT count(*) FROM intents WHERE recipient_id = $1) AS to_them,
    (SELECT count(*) FROM intents WHERE recipient_id = $1 AND (context <> '{}'::jsonb OR last_error IS NOT NULL))
        AS to_them_readable,
    (SELECT count(*) FROM intents WHERE recipient_id <> $1 AND context->>'mentee_id' = $1) AS about_them,
    (SELECT count(*) FROM intents WHERE recipient_id <> $1 AND context->>'mentee_id' = $1
        AND context ?| ARRAY['biography', 'motivation', 'reason']) AS about_them_readable
"""


async def inventory(conn: asyncpg.Connection, person_id: str) -> list[Place]:
    n = await conn.fetchrow(_QUERY, person_id)
    return [
        Place("table contacts", "name, e-mail", n["contacts"], n["contacts_readable"]),
        Place("table preferences", "channels, digest", n["preferences"], n["preferences"]),
        Place("table requests", "request biography", n["requests"], n["requests"]),
        Place("table intents (to them)", "message contexts, delivery errors", n["to_them"], n["to_them_readable"]),
        Place(
            "table intents (about them)",
            "their biography, motivation, decline reason in messages to others",
            n["about_them"],
            n["about_them_readable"],
        ),
    ]
