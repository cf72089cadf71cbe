"""Cadence and annual-review watch on durable timers (a commit hook of the relationship repository).

Each relationship has at most two timers, derived from its state after every
change: ``cadence:<id>`` on the day it counts as lagging (no meeting within the
cadence plus the grace period) and ``review:<id>`` on the day its agreement is
due for review.  A meeting moves the cadence timer; closing cancels both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from services.relationships.domain.relationship import Relationship
from shared.events import Event
from shared.ports import Conn, TimersPort

CADENCE, REVIEW = "relationship-cadence", "relationship-review"


def _at_start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class CadenceWatch:
    """After every commit: arm, move or cancel the relationship's cadence and review timers."""

    def __init__(self, timers: TimersPort, grace: timedelta) -> None:
        self.timers = timers
        self.grace = grace

    async def __call__(self, conn: Conn, relationship: Relationship, events: Sequence[Event], now: datetime) -> None:
        rid = relationship.relationship_id
        lagging_on = None if relationship.lagging else relationship.lagging_on(self.grace)
        if lagging_on is None:
            await self.timers.cancel(conn, f"cadence:{rid}")
        else:
            await self.timers.schedule(conn, f"cadence:{rid}", CADENCE, rid, _at_start_of(lagging_on))
        due = relationship.review_due_on
        if relationship.phase != "enabling" or due is None or relationship.review_flagged:
            await self.timers.cancel(conn, f"review:{rid}")
        else:
            await self.timers.schedule(conn, f"review:{rid}", REVIEW, rid, _at_start_of(due))
