"""Cadence and annual-review watch on durable timers.

Each relationship has at most two timers, derived from its state after every
change: ``cadence:<id>`` on the day it counts as lagging (no meeting within the
cadence plus the grace period) and ``review:<id>`` on the day its agreement is
due for review.  A meeting moves the cadence timer; closing cancels both.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from services.relationships.domain.relationship import Relationship
from shared.timers import cancel, schedule

CADENCE, REVIEW = "relationship-cadence", "relationship-review"


def _at_start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def sync_timers(conn: asyncpg.Connection, relationship: Relationship, grace: timedelta) -> None:
    rid = relationship.relationship_id
    lagging_on = None if relationship.lagging else relationship.lagging_on(grace)
    if lagging_on is None:
        await cancel(conn, f"cadence:{rid}")
    else:
        await schedule(conn, f"cadence:{rid}", CADENCE, rid, _at_start_of(lagging_on))
    due = relationship.review_due_on
    if relationship.phase != "enabling" or due is None or relationship.review_flagged:
        await cancel(conn, f"review:{rid}")
    else:
        await schedule(conn, f"review:{rid}", REVIEW, rid, _at_start_of(due))
