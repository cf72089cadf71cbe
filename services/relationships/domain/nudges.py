"""Nudges of a relationship: to schedule its next meeting, to re-engage when inactive, and the director's notice.

Their own small stream per relationship (stream id ``nudges:<relationship id>``), so the relationship's stream
keeps its history of what the parties did, and each nudge is decided once per period:

- **Schedule a meeting.** The next meeting is due by the last meeting (or the start) plus ``cadence_weeks_max``
  weeks; the pair counts as lagging a grace period later.  Some days before that, a pair with no accepted meeting
  scheduled before the day it would lag gets ``MeetingNudgeDue`` — once per period (per lagging day).
- **Re-engage.** Lagging for the program's ``inactivity_days``: ``ReengagementNudged`` to both (once per lapse).
- **Tell the director.** Still no meeting ``notice_days`` after that: ``RelationshipInactive`` (once per lapse);
  the director may close the relationship.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from services.relationships.domain.relationship import Relationship
from shared.aggregate import Aggregate
from shared.events import Event
from shared.events.relationships import MeetingNudgeDue, ReengagementNudged, RelationshipInactive


def nudges_stream(relationship_id: str) -> str:
    return f"nudges:{relationship_id}"


def due_by(relationship: Relationship) -> date | None:
    """The day the next meeting is due by (the cadence), None once closed."""
    if relationship.phase == "closed" or relationship.started_on is None:
        return None
    since = relationship.last_meeting_on or relationship.started_on
    return since + timedelta(weeks=relationship.cadence_weeks_max)


@dataclass
class RelationshipNudges(Aggregate):
    id_field = "stream"
    stream: str
    version: int = 0
    nudged_for: set[date] = field(default_factory=set)
    reengaged: dict[date, date] = field(default_factory=dict)
    """Lagging since → the day the parties were asked to re-engage."""
    noticed_for: set[date] = field(default_factory=set)

    def nudge_to_schedule(
        self, relationship: Relationship, grace: timedelta, today: date, next_accepted: datetime | None
    ) -> list[Event]:
        lagging_on = relationship.lagging_on(grace)
        due = due_by(relationship)
        if lagging_on is None or due is None or relationship.lagging or today >= lagging_on:
            return []
        if lagging_on in self.nudged_for:
            return []
        if next_accepted is not None and next_accepted.date() < lagging_on:
            return []  # something is scheduled in time
        return [
            MeetingNudgeDue(
                relationship_id=relationship.relationship_id,
                next_meeting_due_on=due,
                lagging_on=lagging_on,
                cadence_weeks_max=relationship.cadence_weeks_max,
            )
        ]

    def reengage(self, relationship: Relationship, grace: timedelta, today: date, inactivity_days: int) -> list[Event]:
        lagging_since = relationship.lagging_on(grace)
        if not relationship.lagging or lagging_since is None or lagging_since in self.reengaged:
            return []
        if today < lagging_since + timedelta(days=inactivity_days):
            return []
        return [
            ReengagementNudged(
                relationship_id=relationship.relationship_id,
                lagging_since=lagging_since,
                inactivity_days=inactivity_days,
            )
        ]

    def notice_director(
        self, relationship: Relationship, grace: timedelta, today: date, notice_days: int
    ) -> list[Event]:
        lagging_since = relationship.lagging_on(grace)
        if not relationship.lagging or lagging_since is None or lagging_since in self.noticed_for:
            return []
        asked = self.reengaged.get(lagging_since)
        if asked is None or today < asked + timedelta(days=notice_days):
            return []
        return [
            RelationshipInactive(
                relationship_id=relationship.relationship_id,
                lagging_since=lagging_since,
                last_meeting_on=relationship.last_meeting_on,
                mentor_id=relationship.mentor_id,
                co_mentor_ids=relationship.co_mentor_ids,
                mentee_ids=relationship.mentee_ids,
            )
        ]

    def evolve(self, event: Event, at: datetime) -> None:
        if isinstance(event, MeetingNudgeDue):
            self.nudged_for.add(event.lagging_on)
        elif isinstance(event, ReengagementNudged):
            self.reengaged[event.lagging_since] = at.date()
        elif isinstance(event, RelationshipInactive):
            self.noticed_for.add(event.lagging_since)
