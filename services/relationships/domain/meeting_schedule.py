"""A scheduled meeting: its own event-sourced stream (stream id = the meeting id).  No I/O.

proposed → accepted → (rescheduled → accepted …) → held | cancelled.  Either party proposes (or
reschedules); only another party of the relationship accepts, choosing one of the proposed times.  Each
change the parties' calendars must follow raises the invitation's ``sequence`` (RFC 5545 SEQUENCE):
the first acceptance is 0, every later reschedule, acceptance or cancellation one more.

The facts a decision needs from elsewhere come in as values: the relationship's parties and goals
(``PairFacts``), everyone's availability and time zone (``scheduling_availability.py``) and the pair's other
accepted meetings (``Busy``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from services.relationships.domain.errors import (
    InvalidCommand,
    NotAParty,
    RelationshipNotFound,
    RelationshipRuleViolation,
)
from services.relationships.domain.scheduling_availability import Calendar, outside_windows
from shared.aggregate import Aggregate
from shared.events import Event
from shared.events.profiles import MeetingFormat
from shared.events.relationships import (
    MeetingAccepted,
    MeetingCancelled,
    MeetingHeld,
    MeetingProposed,
    MeetingRescheduled,
)

Status = Literal["proposed", "accepted", "cancelled", "held"]
MAX_CANDIDATES = 5
HELD_MINUTES = (5, 600)
"""How long a meeting confirmed as held may say it lasted."""


@dataclass(frozen=True)
class PairFacts:
    """What a meeting's decisions need to know of its relationship."""

    relationship_id: str
    parties: tuple[str, ...]
    open: bool
    goal_ids: frozenset[str] = frozenset()
    topics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Busy:
    """Another accepted meeting of the pair."""

    meeting_id: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Agenda:
    goal_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


@dataclass
class MeetingSchedule(Aggregate):
    id_field = "meeting_id"
    meeting_id: str
    version: int = 0
    relationship_id: str = ""
    status: Status = "proposed"
    proposed_by: str = ""
    organizer_id: str = ""
    candidates: list[datetime] = field(default_factory=list)
    duration: timedelta = timedelta(minutes=60)
    agenda: Agenda = field(default_factory=Agenda)
    format: MeetingFormat = "video"
    starts_at: datetime | None = None
    sequence: int = -1
    """The sequence of the last invitation sent (-1: none yet)."""

    @property
    def ends_at(self) -> datetime | None:
        return self.starts_at + self.duration if self.starts_at else None

    # --- commands -----------------------------------------------------------------

    def propose(
        self,
        pair: PairFacts,
        by: str,
        candidates: Sequence[datetime],
        duration_minutes: int,
        agenda: Agenda,
        format: MeetingFormat,
        now: datetime,
        calendars: dict[str, Calendar],
        busy: Sequence[Busy],
    ) -> list[Event]:
        if self.exists:
            raise RelationshipRuleViolation(f"meeting {self.meeting_id} is already proposed")
        _require_party(pair, by)
        self._check(pair, by, candidates, duration_minutes, agenda, now, calendars, busy)
        return [
            MeetingProposed(
                relationship_id=pair.relationship_id,
                meeting_id=self.meeting_id,
                proposed_by=by,
                candidates=list(candidates),
                duration_minutes=duration_minutes,
                agenda_goals=list(agenda.goal_ids),
                agenda_topics=list(agenda.topics),
                format=format,
            )
        ]

    def accept(self, pair: PairFacts, by: str, starts_at: datetime, now: datetime, busy: Sequence[Busy]) -> list[Event]:
        self._require(pair, by)
        if self.status != "proposed":
            raise RelationshipRuleViolation(f"meeting {self.meeting_id} is {self.status}: there is nothing to accept")
        if by == self.proposed_by:
            raise RelationshipRuleViolation("the times were proposed by you: another party accepts them")
        if starts_at not in self.candidates:
            raise InvalidCommand("starts_at", "is not one of the proposed times")
        if starts_at <= now:
            raise InvalidCommand("starts_at", "lies in the past")
        if clash := _overlap(starts_at, starts_at + self.duration, busy, self.meeting_id):
            raise InvalidCommand("starts_at", f"overlaps the pair's meeting {clash.meeting_id}")
        return [
            MeetingAccepted(
                relationship_id=self.relationship_id,
                meeting_id=self.meeting_id,
                accepted_by=by,
                organizer_id=self.organizer_id or self.proposed_by,
                starts_at=starts_at,
                ends_at=starts_at + self.duration,
                sequence=self.sequence + 1,
                agenda_goals=list(self.agenda.goal_ids),
                agenda_topics=list(self.agenda.topics),
                format=self.format,
            )
        ]

    def reschedule(
        self,
        pair: PairFacts,
        by: str,
        candidates: Sequence[datetime],
        duration_minutes: int | None,
        agenda: Agenda | None,
        now: datetime,
        calendars: dict[str, Calendar],
        busy: Sequence[Busy],
    ) -> list[Event]:
        self._require(pair, by)
        if self.status not in ("proposed", "accepted"):
            raise RelationshipRuleViolation(f"meeting {self.meeting_id} is {self.status}: it cannot be rescheduled")
        minutes = duration_minutes or int(self.duration.total_seconds() // 60)
        agenda = agenda or self.agenda
        self._check(pair, by, candidates, minutes, agenda, now, calendars, busy)
        return [
            MeetingRescheduled(
                relationship_id=self.relationship_id,
                meeting_id=self.meeting_id,
                proposed_by=by,
                organizer_id=self.organizer_id or self.proposed_by,
                candidates=list(candidates),
                duration_minutes=minutes,
                sequence=self.sequence + 1,
                agenda_goals=list(agenda.goal_ids),
                agenda_topics=list(agenda.topics),
                format=self.format,
            )
        ]

    def cancel(self, pair: PairFacts, by: str) -> list[Event]:
        self._require(pair, by, open_needed=False)
        if self.status not in ("proposed", "accepted"):
            raise RelationshipRuleViolation(f"meeting {self.meeting_id} is {self.status}: it cannot be cancelled")
        return [
            MeetingCancelled(
                relationship_id=self.relationship_id,
                meeting_id=self.meeting_id,
                cancelled_by=by,
                organizer_id=self.organizer_id or self.proposed_by,
                sequence=self.sequence + 1,
                starts_at=self.starts_at if self.status == "accepted" else None,
                ends_at=self.ends_at if self.status == "accepted" else None,
            )
        ]

    def confirm_held(
        self,
        pair: PairFacts,
        by: str,
        now: datetime,
        duration_minutes: int | None = None,
        topics: Sequence[str] | None = None,
    ) -> list[Event]:
        """ "Did it happen?" — yes, once the meeting's time is over; how long it lasted (default: as scheduled)
        and the topics it covered (default: the agenda's; only the program's topics, ``topics.N`` otherwise)."""
        self._require(pair, by)
        if self.status != "accepted" or self.starts_at is None or self.ends_at is None:
            raise RelationshipRuleViolation(f"meeting {self.meeting_id} is {self.status}: only an accepted one is held")
        if now < self.ends_at:
            raise RelationshipRuleViolation(f"meeting {self.meeting_id} ends at {self.ends_at.isoformat()}: not yet")
        if duration_minutes is not None and not HELD_MINUTES[0] <= duration_minutes <= HELD_MINUTES[1]:
            raise InvalidCommand("duration_minutes", f"from {HELD_MINUTES[0]} to {HELD_MINUTES[1]} minutes")
        for n, topic in enumerate(topics or ()):
            if topic not in pair.topics:
                raise InvalidCommand(f"topics.{n}", "not on the program's topic list")
        scheduled = min(600, int(self.duration.total_seconds() // 60))
        return [
            MeetingHeld(
                relationship_id=self.relationship_id,
                meeting_id=self.meeting_id,
                confirmed_by=by,
                held_on=self.starts_at.date(),
                duration_minutes=scheduled if duration_minutes is None else duration_minutes,
            )
        ]

    def held_topics(self, topics: Sequence[str] | None) -> list[str]:
        """The topics a meeting confirmed as held is logged with: those given, else the agenda's."""
        return list(dict.fromkeys(topics)) if topics is not None else list(self.agenda.topics)

    # --- evolution ----------------------------------------------------------------

    def evolve(self, event: Event, at: datetime) -> None:
        if isinstance(event, MeetingProposed):
            self.relationship_id, self.proposed_by, self.organizer_id = (
                event.relationship_id,
                event.proposed_by,
                event.proposed_by,
            )
            self.candidates = list(event.candidates)
            self.duration = timedelta(minutes=event.duration_minutes)
            self.agenda = Agenda(tuple(event.agenda_goals), tuple(event.agenda_topics))
            self.format = event.format
        elif isinstance(event, MeetingAccepted):
            self.status, self.starts_at, self.sequence = "accepted", event.starts_at, event.sequence
            self.organizer_id = event.organizer_id
        elif isinstance(event, MeetingRescheduled):
            self.status, self.proposed_by, self.sequence = "proposed", event.proposed_by, event.sequence
            self.candidates = list(event.candidates)
            self.duration = timedelta(minutes=event.duration_minutes)
            self.agenda = Agenda(tuple(event.agenda_goals), tuple(event.agenda_topics))
            self.starts_at = None
        elif isinstance(event, MeetingCancelled):
            self.status, self.sequence = "cancelled", event.sequence
        elif isinstance(event, MeetingHeld):
            self.status = "held"

    # --- rules --------------------------------------------------------------------

    def _require(self, pair: PairFacts, by: str, *, open_needed: bool = True) -> None:
        if not self.exists or self.relationship_id != pair.relationship_id:
            raise RelationshipNotFound(f"no meeting {self.meeting_id}")
        _require_party(pair, by)
        if open_needed and not pair.open:
            raise RelationshipRuleViolation(f"relationship {pair.relationship_id} is closed")

    @staticmethod
    def _check(
        pair: PairFacts,
        by: str,
        candidates: Sequence[datetime],
        duration_minutes: int,
        agenda: Agenda,
        now: datetime,
        calendars: dict[str, Calendar],
        busy: Sequence[Busy],
    ) -> None:
        if not pair.open:
            raise RelationshipRuleViolation(f"relationship {pair.relationship_id} is closed: cannot schedule")
        if not 1 <= len(candidates) <= MAX_CANDIDATES:
            raise InvalidCommand("candidates", f"propose 1 to {MAX_CANDIDATES} times")
        if len(set(candidates)) != len(candidates):
            raise InvalidCommand("candidates", "the proposed times are distinct")
        duration = timedelta(minutes=duration_minutes)
        others = [p for p in pair.parties if p != by]
        for n, start in enumerate(candidates):
            where = f"candidates.{n}"
            if start.tzinfo is None or start.utcoffset() is None:
                raise InvalidCommand(where, "a time carries its UTC offset")
            if start <= now:
                raise InvalidCommand(where, "lies in the past")
            for other in others:
                calendar = calendars.get(other)
                if calendar is not None and (reason := outside_windows(calendar, start, start + duration)):
                    raise InvalidCommand(where, f"is outside {other}'s availability: {reason}")
            if clash := _overlap(start, start + duration, busy, None):
                raise InvalidCommand(where, f"overlaps the pair's meeting {clash.meeting_id}")
        unknown_goals = sorted(set(agenda.goal_ids) - pair.goal_ids)
        if unknown_goals:
            raise InvalidCommand("agenda_goals", f"not goals of this relationship: {', '.join(unknown_goals)}")
        unknown_topics = sorted(set(agenda.topics) - set(pair.topics))
        if unknown_topics:
            raise InvalidCommand("agenda_topics", f"not on the program's topic list: {', '.join(unknown_topics)}")


def _require_party(pair: PairFacts, by: str) -> None:
    if by not in pair.parties:
        raise NotAParty(pair.relationship_id)


def _overlap(start: datetime, end: datetime, busy: Sequence[Busy], itself: str | None) -> Busy | None:
    for other in busy:
        if other.meeting_id != itself and start < other.ends_at and other.starts_at < end:
            return other
    return None
