"""In-memory versions of matching's ports (``services/matching/application/ports.py``) and a container on them.

The ports share one ``Tables`` state (the "database"), which ``MemoryTransactions`` saves and puts back when a
use case raises, together with the event store and the timers.  They keep the Postgres adapters' contracts:
one open request per mentee, a full or inactive mentor refuses a slot, the latest HR record wins.  They model the
built-in "default" program only (programs, enrolments and per-program slots are tested on Postgres:
``tests/integration/matching/test_programs.py``); the program-aware arguments are accepted and ignored.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from services.matching.application.deps import Deps
from services.matching.application.ports import BulkProposal, MenteeRecord
from services.matching.application.program import enrolment_repository, program_repository
from services.matching.application.request_repository import request_repository
from services.matching.domain.bulk_run import ProposedPair
from services.matching.domain.compatibility import MenteeProfile, MentorProfile
from services.matching.domain.enrolment import PersonFacts
from services.matching.domain.errors import MatchingRuleViolation
from services.matching.domain.hard_filters import InReportingLine
from services.matching.domain.program import Program
from services.matching.domain.reporting_line import participant_supervisors
from services.matching.domain.request import OPEN, Request
from services.matching.domain.rules import MenteeStanding, MentorStanding
from shared.envelope import Envelope
from shared.events import Event
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.ports import Conn
from shared.testing import FixedClock, InMemoryEventStore, InMemoryTimers, MemoryTransactions, Snapshotting
from tests.helpers import envelope_of


@dataclass
class Person:
    """A mentor's or mentee's copy: the profile, and what matching keeps beside it."""

    name: str
    profile: Any
    active: bool = True
    capacity: int = 0
    accepting_requests: bool = True
    biography: str = ""


@dataclass
class Tables(Snapshotting):
    mentors: dict[str, Person] = field(default_factory=dict)
    mentees: dict[str, Person] = field(default_factory=dict)
    pairs: dict[tuple[str, str], str] = field(default_factory=dict)
    """(mentor, mentee) → match id."""
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    employees: dict[str, str] = field(default_factory=dict)
    supervisors: dict[str, tuple[str | None, date, datetime]] = field(default_factory=dict)
    programs: dict[str, Program] = field(default_factory=dict)
    """Program views as the repository's hook saved them."""
    legacy: dict[str, tuple[Any, int]] = field(default_factory=dict)
    enrolments: dict[tuple[str, str], Any] = field(default_factory=dict)
    groups: dict[str, Any] = field(default_factory=dict)
    relationships: dict[str, tuple[str, str]] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locks: list[str] = field(default_factory=list)
    """Locks the ports took (what the Postgres adapters would lock)."""

    def load(self, mentor_id: str) -> int:
        return sum(1 for mentor, _ in self.pairs if mentor == mentor_id)


class MemoryRequestIndex:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def save(self, conn: Conn, request: Request, now: datetime) -> None:
        if request.status in OPEN and any(
            row["mentee_id"] == request.mentee_id and row["status"] in OPEN and rid != request.request_id
            for rid, row in self.t.requests.items()
        ):
            raise MatchingRuleViolation(f"mentee {request.mentee_id} already has an open request")
        row = {k: v for k, v in dataclasses.asdict(request).items() if k != "ranked"}
        self.t.requests[request.request_id] = {**row, "ranked_mentor_ids": list(request.ranked), "updated_at": now}

    async def of_mentee(self, conn: Conn, mentee_id: str, statuses: Collection[str]) -> list[str]:
        return [i for i, r in self.t.requests.items() if r["mentee_id"] == mentee_id and r["status"] in statuses]

    async def waiting_for(self, conn: Conn, mentor_id: str) -> list[str]:
        return [i for i, r in self.t.requests.items() if r["mentor_id"] == mentor_id and r["status"] == "forwarded"]

    async def scrub(self, conn: Conn, mentee_id: str, erased: str) -> None:
        for row in self.t.requests.values():
            if row["mentee_id"] == mentee_id:
                row["biography"] = row["motivation"] = erased


def _profile(kind: type[MentorProfile] | type[MenteeProfile], event: MentorRegistered | MenteeRegistered, **more: Any):
    """The matching profile a registration gives, as the directory's Postgres twin stores it."""
    p = event.profile
    return kind(
        event.participant_id,
        p.specialty,
        p.career_stage,
        tuple(p.languages),
        frozenset(p.interests),
        department=p.department,
        **more,
    )


class MemoryDirectory:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def mentee_standing(self, conn: Conn, mentee_id: str, program_id: str = "default") -> MenteeStanding:
        self.t.locks.append(f"mentee-request:{mentee_id}")
        mentee = self.t.mentees.get(mentee_id)
        open_ids = [i for i, r in self.t.requests.items() if r["mentee_id"] == mentee_id and r["status"] in OPEN]
        mentors = [mentor for mentor, mentee in self.t.pairs if mentee == mentee_id]
        unmatched = [
            i
            for i, r in self.t.requests.items()
            if r["mentee_id"] == mentee_id and r["program_id"] == program_id and r["status"] == "unmatched"
        ]
        return MenteeStanding(
            mentee_id,
            active=None if mentee is None else mentee.active,
            open_request_id=open_ids[0] if open_ids else None,
            mentor_id=mentors[0] if mentors else None,
            unmatched_request_ids=tuple(sorted(unmatched)),
        )

    async def mentor_standings(
        self, conn: Conn, mentee_id: str, mentor_ids: Sequence[str], program_id: str = "default"
    ) -> dict[str, MentorStanding]:
        return {
            i: MentorStanding(
                i, m.active, m.accepting_requests, m.capacity, self.t.load(i), (i, mentee_id) in self.t.pairs
            )
            for i, m in self.t.mentors.items()
            if i in mentor_ids
        }

    async def mentee_active(self, conn: Conn, mentee_id: str) -> bool | None:
        mentee = self.t.mentees.get(mentee_id)
        return None if mentee is None else mentee.active

    async def mentee_profile(self, conn: Conn, mentee_id: str) -> MenteeProfile | None:
        mentee = self.t.mentees.get(mentee_id)
        return mentee.profile if mentee is not None and mentee.active else None

    async def mentor_profiles(self, conn: Conn, program_id: str = "default") -> list[MentorProfile]:
        return [
            dataclasses.replace(
                m.profile, capacity=m.capacity if m.accepting_requests else 0, active_mentees=self.t.load(i)
            )
            for i, m in sorted(self.t.mentors.items())
            if m.active
        ]

    async def mentees(self, conn: Conn, mentee_ids: Sequence[str]) -> dict[str, MenteeRecord]:
        return {i: MenteeRecord(m.profile, m.active) for i, m in self.t.mentees.items() if i in mentee_ids}

    async def free_mentees(
        self, conn: Conn, among: Sequence[str] | None = None, program_id: str = "default"
    ) -> list[MenteeProfile]:
        busy = {r["mentee_id"] for r in self.t.requests.values() if r["status"] in OPEN}
        busy |= {mentee for _, mentee in self.t.pairs}
        return [
            m.profile
            for i, m in sorted(self.t.mentees.items())
            if m.active and i not in busy and (among is None or i in among)
        ]

    async def register_mentor(self, conn: Conn, event: MentorRegistered, at: datetime, source_event: uuid.UUID) -> None:
        profile = _profile(MentorProfile, event, formats=frozenset(event.availability.formats))
        self.t.mentors[event.participant_id] = Person(
            event.name, profile, True, event.capacity, event.availability.accepting_requests, event.profile.biography
        )

    async def register_mentee(self, conn: Conn, event: MenteeRegistered, at: datetime) -> None:
        self.t.mentees[event.participant_id] = Person(event.name, _profile(MenteeProfile, event))

    async def update_profile(self, conn: Conn, participant_id: str, changes: Mapping[str, Any]) -> None:
        for person in (self.t.mentors.get(participant_id), self.t.mentees.get(participant_id)):
            if person is None:
                continue
            if "name" in changes:
                person.name = changes["name"]
            if "profile.specialty" in changes:
                person.profile = dataclasses.replace(person.profile, specialty=changes["profile.specialty"] or "")
            if "availability.accepting_requests" in changes:
                person.accepting_requests = changes["availability.accepting_requests"] is not False

    async def set_capacity(self, conn: Conn, mentor_id: str, capacity: int) -> None:
        if mentor_id in self.t.mentors:
            self.t.mentors[mentor_id].capacity = capacity

    async def set_active(self, conn: Conn, participant_id: str, active: bool) -> None:
        for people in (self.t.mentors, self.t.mentees):
            if participant_id in people:
                people[participant_id].active = active

    async def scrub(self, conn: Conn, participant_id: str, erased: str) -> None:
        if participant_id in self.t.mentors:
            self.t.mentors[participant_id].name = self.t.mentors[participant_id].biography = erased
        if participant_id in self.t.mentees:
            self.t.mentees[participant_id].name = erased


class MemoryReportingLines:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def supervisors(self, conn: Conn, participant_ids: Collection[str]) -> dict[str, str]:
        """The whole tables' answer cut down to the lines above ``participant_ids``, as Postgres reads them: a use
        case that asks for the wrong participants' lines misses the rule here as it would there."""
        whole = participant_supervisors(self.t.employees, {e: s for e, (s, _, _) in self.t.supervisors.items()})
        line = InReportingLine(whole)
        wanted = {q for p in participant_ids for q in (p, *line.line_above(p))}
        return {p: boss for p, boss in whole.items() if p in wanted}

    async def record(
        self, conn: Conn, employee_id: str, supervisor_id: str | None, effective_date: date, recorded_at: datetime
    ) -> None:
        current = self.t.supervisors.get(employee_id)
        if current is None or current[1:] <= (effective_date, recorded_at):
            self.t.supervisors[employee_id] = (supervisor_id, effective_date, recorded_at)

    async def link(self, conn: Conn, participant_id: str, employee_id: str) -> None:
        self.t.employees[participant_id] = employee_id

    async def unlink(self, conn: Conn, participant_id: str) -> None:
        self.t.employees.pop(participant_id, None)


class MemorySlots:
    def __init__(self, tables: Tables, lines: MemoryReportingLines) -> None:
        self.t, self.lines = tables, lines

    async def reserve(
        self, conn: Conn, mentor_id: str, mentee_id: str, match_id: str, now: datetime, program_id: str = "default"
    ) -> None:
        self.t.locks.append(f"mentor:{mentor_id}")
        mentor = self.t.mentors.get(mentor_id)
        if mentor is None or not mentor.active:
            raise MatchingRuleViolation(f"mentor {mentor_id} is not an active mentor")
        load = self.t.load(mentor_id)
        if load >= mentor.capacity:
            raise MatchingRuleViolation(
                f"mentor {mentor_id} has no capacity left ({load} of {mentor.capacity} mentees)"
            )
        if mentor_id in InReportingLine(await self.lines.supervisors(conn, [mentee_id])).line_above(mentee_id):
            raise MatchingRuleViolation(f"mentor {mentor_id} is in mentee {mentee_id}'s reporting line")
        if (mentor_id, mentee_id) in self.t.pairs:
            raise MatchingRuleViolation(f"mentor {mentor_id} already mentors {mentee_id}")
        self.t.pairs[(mentor_id, mentee_id)] = match_id

    async def reserve_group(
        self, conn: Conn, mentor_id: str, mentee_ids: Sequence[str], match_id: str, now: datetime, program_id: str
    ) -> None:
        raise NotImplementedError("groups are tested on Postgres")

    async def hold(
        self,
        conn: Conn,
        mentor_id: str,
        mentee_ids: Sequence[str],
        match_id: str,
        since: datetime,
        program_id: str = "default",
        grouped: bool = False,
    ) -> None:
        for mentee_id in mentee_ids:
            self.t.pairs.setdefault((mentor_id, mentee_id), match_id)

    async def record_group(self, conn: Conn, formed: Any) -> None:
        self.t.groups[formed.match_id] = formed

    async def close_group(self, conn: Conn, match_id: str) -> None:
        self.t.groups.pop(match_id, None)

    async def link_relationship(self, conn: Conn, relationship_id: str, match_id: str, program_id: str) -> None:
        self.t.relationships.setdefault(relationship_id, (match_id, program_id))

    async def relationship_match(self, conn: Conn, relationship_id: str) -> tuple[str, str] | None:
        return self.t.relationships.get(relationship_id)

    async def release(self, conn: Conn, mentor_id: str, mentee_ids: Sequence[str]) -> None:
        for mentee_id in mentee_ids:
            self.t.pairs.pop((mentor_id, mentee_id), None)

    async def mentors_of(self, conn: Conn, mentee_id: str) -> set[str]:
        return {mentor for mentor, mentee in self.t.pairs if mentee == mentee_id}


class MemoryPrograms:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def legacy(self, conn: Conn, program_id: str) -> tuple[Any, int] | None:
        return self.t.legacy.get(program_id)

    async def save_view(self, conn: Conn, program: Program, now: datetime) -> None:
        self.t.programs[program.program_id] = program


class MemoryEnrolments:
    """No one is enrolled anywhere: the unit tests run in the built-in program."""

    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def person(self, conn: Conn, participant_id: str) -> PersonFacts:
        return PersonFacts(participant_id)

    async def save(self, conn: Conn, enrolment: Any, now: datetime) -> None:
        self.t.enrolments[(enrolment.program_id, enrolment.participant_id)] = enrolment

    async def record_hr(self, conn: Conn, employee_id: str, attributes: Any, effective: date, at: datetime) -> None:
        return None

    async def in_groups(self, conn: Conn, participant_ids: Sequence[str], groups: Collection[str]) -> set[str]:
        return set()

    async def role(self, conn: Conn, program_id: str, participant_id: str) -> str | None:
        return None

    async def enrolled(self, conn: Conn, program_id: str, role: str) -> list[str]:
        return []


class MemoryBulkRuns:
    def __init__(self, tables: Tables) -> None:
        self.t = tables

    async def record_proposal(self, conn: Conn, proposal: BulkProposal) -> None:
        self.t.runs[proposal.run_id] = {
            **dataclasses.asdict(proposal),
            "pairs": list(proposal.pairs),
            "status": "proposed",
        }

    async def lock_status(self, conn: Conn, run_id: str) -> str | None:
        self.t.locks.append(f"bulk-run:{run_id}")
        run = self.t.runs.get(run_id)
        return None if run is None else run["status"]

    async def pairs(self, conn: Conn, run_id: str) -> list[ProposedPair]:
        return sorted(self.t.runs[run_id]["pairs"], key=lambda p: (p.mentor_id, p.mentee_id))

    async def decide(self, conn: Conn, run_id: str, status: str, decided_by: str, now: datetime) -> None:
        self.t.runs[run_id].update(status=status, decided_by=decided_by, decided_at=now)

    async def program(self, conn: Conn, run_id: str) -> str:
        return self.t.runs[run_id].get("program_id", "default")

    async def circles(self, conn: Conn, run_id: str) -> list[list[str]]:
        return [list(c) for c in self.t.runs[run_id].get("circles", ())]


@dataclass
class World:
    """A matching service on fakes: its container and what a test inspects."""

    deps: Deps
    store: InMemoryEventStore
    timers: InMemoryTimers
    tables: Tables
    transactions: MemoryTransactions
    clock: FixedClock

    def types(self, stream_id: str) -> list[str]:
        return [e.type_name() for e in self.store.events(stream_id)]

    def envelope(self, event: Event) -> Envelope:
        """As the consumer hands a consumed event to its step."""
        return envelope_of(event, "s", time=self.clock.now())


def world(clock: FixedClock | None = None, *, response_days: int = 7, bulk_candidates: int = 50) -> World:
    clock = clock or FixedClock()
    store, timers, tables = InMemoryEventStore("matching", clock), InMemoryTimers(), Tables()
    transactions = MemoryTransactions(store, timers, tables)
    lines = MemoryReportingLines(tables)
    slots, index = MemorySlots(tables, lines), MemoryRequestIndex(tables)
    programs, enrolments = MemoryPrograms(tables), MemoryEnrolments(tables)
    deps = Deps(
        transactions=transactions,
        store=store,
        requests=request_repository(store, slots, index, timers),
        clock=clock,
        directory=MemoryDirectory(tables),
        slots=slots,
        lines=lines,
        index=index,
        programs=programs,
        bulk_runs=MemoryBulkRuns(tables),
        views=None,  # type: ignore[arg-type]  # routes read views; no use case does
        default_response_days=response_days,
        bulk_candidates=bulk_candidates,
        program_repo=program_repository(store, programs),
        enrolments=enrolments,
        enrolment_repo=enrolment_repository(store, enrolments),
    )
    return World(deps, store, timers, tables, transactions, clock)
