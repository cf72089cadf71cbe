"""Use cases of scheduled meetings: propose, accept, reschedule, cancel, "did it happen?", availability.

Each loads the relationship for the facts a decision needs (parties, goals, open or closed), the
people's calendars and the pair's accepted meetings, lets the ``MeetingSchedule`` decide, and commits
it through its repository (whose hook rewrites the meeting's row), in one transaction.  A meeting
confirmed as held is logged on the relationship in the same transaction through ``log_meeting``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.relationships.application import log_meeting
from services.relationships.application.commands import LogMeeting, OnRelationship
from services.relationships.application.container import Container
from services.relationships.application.scheduling_ports import Calendars, ScheduledMeetings
from services.relationships.domain.errors import InvalidCommand, NotAParty, RelationshipNotFound
from services.relationships.domain.meeting_schedule import Agenda, MeetingSchedule, PairFacts
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.scheduling_availability import Window, check_windows, valid_zone
from shared.events import Event
from shared.events.profiles import MeetingFormat
from shared.ports import Conn, EventStorePort
from shared.repository import Repository


@dataclass(frozen=True)
class Scheduling:
    """The relationships container plus what scheduling adds: the meeting repository and its ports."""

    base: Container
    meetings: Repository[MeetingSchedule]
    calendars: Calendars
    scheduled: ScheduledMeetings


@dataclass(frozen=True)
class ProposeMeeting(OnRelationship):
    candidates: Sequence[datetime]
    duration_minutes: int
    agenda_goals: Sequence[str] | None = None
    agenda_topics: Sequence[str] = ()
    format: MeetingFormat = "video"


@dataclass(frozen=True)
class OnMeeting(OnRelationship):
    meeting_id: str


@dataclass(frozen=True)
class AcceptMeeting(OnMeeting):
    starts_at: datetime


@dataclass(frozen=True)
class RescheduleMeeting(OnMeeting):
    candidates: Sequence[datetime]
    duration_minutes: int | None = None
    agenda_goals: Sequence[str] | None = None
    agenda_topics: Sequence[str] | None = None


@dataclass(frozen=True)
class ConfirmHeld(OnMeeting):
    notes: str | None = None
    duration_minutes: int | None = None
    topics: Sequence[str] | None = None


def pair_facts(relationship: Relationship, topics: Sequence[str]) -> PairFacts:
    return PairFacts(
        relationship_id=relationship.relationship_id,
        parties=tuple(relationship.parties),
        open=relationship.phase != "closed",
        goal_ids=frozenset(g for g, goal in relationship.goals.items() if goal.status == "in_progress"),
        topics=tuple(topics),
    )


async def _pair(s: Scheduling, conn: Conn, relationship_id: str, by: str) -> tuple[Relationship, PairFacts]:
    relationship = await s.base.relationships.get(conn, relationship_id)
    relationship.require_party(by)
    return relationship, pair_facts(relationship, s.base.topics)


async def _meeting(s: Scheduling, conn: Conn, cmd: OnMeeting) -> MeetingSchedule:
    meeting = await s.meetings.load(conn, cmd.meeting_id)
    if not meeting.exists or meeting.relationship_id != cmd.relationship_id:
        raise RelationshipNotFound(f"no meeting {cmd.meeting_id}")
    return meeting


async def propose(s: Scheduling, cmd: ProposeMeeting) -> str:
    """The new meeting's id.  Without goals named, the agenda holds the pair's goals still in progress."""
    meeting_id = str(uuid.uuid4())
    async with s.base.transactions() as conn:
        _, pair = await _pair(s, conn, cmd.relationship_id, cmd.by)
        goal_ids = sorted(pair.goal_ids) if cmd.agenda_goals is None else list(cmd.agenda_goals)
        agenda = Agenda(tuple(dict.fromkeys(goal_ids)), tuple(dict.fromkeys(cmd.agenda_topics)))
        calendars = await s.calendars.of(conn, pair.parties)
        busy = await s.scheduled.busy(conn, cmd.relationship_id)
        meeting = s.meetings.new(meeting_id)
        events = meeting.propose(
            pair,
            cmd.by,
            list(cmd.candidates),
            cmd.duration_minutes,
            agenda,
            cmd.format,
            s.base.clock.now(),
            calendars,
            busy,
        )
        await s.meetings.commit(conn, meeting, events, correlation_id=cmd.correlation_id)
    return meeting_id


async def accept(s: Scheduling, cmd: AcceptMeeting) -> int:
    async with s.base.transactions() as conn:
        _, pair = await _pair(s, conn, cmd.relationship_id, cmd.by)
        busy = await s.scheduled.busy(conn, cmd.relationship_id, lock=True)
        meeting = await _meeting(s, conn, cmd)
        events = meeting.accept(pair, cmd.by, cmd.starts_at, s.base.clock.now(), busy)
        return await s.meetings.commit(conn, meeting, events, correlation_id=cmd.correlation_id)


async def reschedule(s: Scheduling, cmd: RescheduleMeeting) -> int:
    async with s.base.transactions() as conn:
        _, pair = await _pair(s, conn, cmd.relationship_id, cmd.by)
        meeting = await _meeting(s, conn, cmd)
        agenda = None
        if cmd.agenda_goals is not None or cmd.agenda_topics is not None:
            agenda = Agenda(
                tuple(cmd.agenda_goals if cmd.agenda_goals is not None else meeting.agenda.goal_ids),
                tuple(cmd.agenda_topics if cmd.agenda_topics is not None else meeting.agenda.topics),
            )
        calendars = await s.calendars.of(conn, pair.parties)
        busy = [b for b in await s.scheduled.busy(conn, cmd.relationship_id) if b.meeting_id != cmd.meeting_id]
        events = meeting.reschedule(
            pair, cmd.by, list(cmd.candidates), cmd.duration_minutes, agenda, s.base.clock.now(), calendars, busy
        )
        return await s.meetings.commit(conn, meeting, events, correlation_id=cmd.correlation_id)


async def cancel(s: Scheduling, cmd: OnMeeting) -> int:
    async with s.base.transactions() as conn:
        _, pair = await _pair(s, conn, cmd.relationship_id, cmd.by)
        meeting = await _meeting(s, conn, cmd)
        return await s.meetings.commit(conn, meeting, meeting.cancel(pair, cmd.by), correlation_id=cmd.correlation_id)


async def confirm_held(s: Scheduling, cmd: ConfirmHeld) -> int:
    """Yes, it happened: ``MeetingHeld`` on the meeting and ``MeetingLogged`` on the relationship (its notes, if
    any, sealed for the pair; how long it lasted and its topics as given, else as scheduled), both or neither."""
    async with s.base.transactions() as conn:
        _, pair = await _pair(s, conn, cmd.relationship_id, cmd.by)
        meeting = await _meeting(s, conn, cmd)
        topics = None if cmd.topics is None else list(cmd.topics)
        events = meeting.confirm_held(pair, cmd.by, s.base.clock.now(), cmd.duration_minutes, topics)
        version = await s.meetings.commit(conn, meeting, events, correlation_id=cmd.correlation_id)
        [held] = events
        logged = LogMeeting(
            cmd.relationship_id,
            cmd.by,
            held_on=held.held_on,  # type: ignore[attr-defined]
            duration_minutes=held.duration_minutes,  # type: ignore[attr-defined]
            format=meeting.format,
            topic_tags=meeting.held_topics(topics),
            notes=cmd.notes,
            correlation_id=cmd.correlation_id,
        )
        await log_meeting.log_in(s.base, conn, logged, cmd.meeting_id)
        return version


async def meetings_of(s: Scheduling, relationship_id: str, reader: str) -> list[dict[str, Any]]:
    """The pair's scheduled meetings, for its parties only."""
    async with s.base.transactions() as conn:
        await _pair(s, conn, relationship_id, reader)
        return await s.scheduled.of_relationship(conn, relationship_id)


async def set_availability(s: Scheduling, relationship_id: str, by: str, windows: Sequence[Window]) -> None:
    """A party states their weekly windows (in their own time zone); they hold for all their relationships."""
    if reason := check_windows(windows):
        n, _, why = reason.partition(": ")
        raise InvalidCommand(f"windows.{n}", why)
    async with s.base.transactions() as conn:
        await _pair(s, conn, relationship_id, by)
        await s.calendars.set_windows(conn, by, windows)


async def availability_of(s: Scheduling, relationship_id: str, reader: str) -> dict[str, Any]:
    """Each party's time zone and windows, for the parties only."""
    async with s.base.transactions() as conn:
        relationship, pair = await _pair(s, conn, relationship_id, reader)
        calendars = await s.calendars.of(conn, pair.parties)
    if reader not in relationship.parties:
        raise NotAParty(relationship_id)
    return {
        person: {
            "time_zone": calendars[person].time_zone if person in calendars else "UTC",
            "windows": [
                {"weekday": w.weekday, "start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M")}
                for w in (calendars[person].windows if person in calendars else ())
            ],
        }
        for person in pair.parties
    }


async def keep_time_zone(s: Scheduling, conn: Conn, person_id: str, time_zone: str) -> None:
    """A person's time zone as profiles published it; a name that is no IANA zone (or a sealed value this
    service cannot open) is ignored."""
    if valid_zone(time_zone):
        await s.calendars.set_time_zone(conn, person_id, time_zone)


async def forget_calendar(s: Scheduling, conn: Conn, person_id: str) -> None:
    await s.calendars.forget(conn, person_id)


def meeting_repository(store: EventStorePort, scheduled: ScheduledMeetings) -> Repository[MeetingSchedule]:
    """Every commit rewrites the meeting's row in its transaction."""

    async def save_row(conn: Conn, meeting: MeetingSchedule, events: Sequence[Event], now: datetime) -> None:
        await scheduled.save(conn, meeting)

    return Repository(
        store,
        MeetingSchedule,
        not_found=lambda meeting_id: RelationshipNotFound(f"no meeting {meeting_id}"),
        on_commit=[save_row],
    )
