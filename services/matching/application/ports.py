"""What matching's use cases need of storage beyond the request repository: Protocols, implemented in
``adapters/`` (Postgres) and in ``tests/unit/matching/fakes.py`` (memory).  Every method takes the use
case's transaction (``Conn``); the use cases never see SQL.

A port answers facts; the rules that decide on them live in ``domain/`` (``rules.py``, ``bulk_proposal.py``).
Where a rule has to hold under concurrent writers, the port method owns it with a lock or a constraint and
says so (``Directory.mentee_standing``, ``RequestIndex.save``, ``Slots.reserve``, ``BulkRuns.lock_status``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.matching.domain.bulk_run import ProposedPair
from services.matching.domain.compatibility import MenteeProfile, MentorProfile, Weights
from services.matching.domain.enrolment import Enrolment, PersonFacts
from services.matching.domain.program import Program
from services.matching.domain.request import Request
from services.matching.domain.rules import MenteeStanding, MentorStanding
from shared.events.matching import DEFAULT_PROGRAM, BulkMatchSummary, GroupFormed
from shared.events.profiles import MenteeRegistered, MentorRegistered
from shared.ports import Conn


@dataclass(frozen=True)
class MenteeRecord:
    profile: MenteeProfile
    active: bool


@dataclass(frozen=True)
class BulkProposal:
    """A proposed bulk run as it is kept for the director's review."""

    run_id: str
    mode: str
    cohort: str
    requested_by: str
    summary: BulkMatchSummary
    report: Mapping[str, Any]
    pairs: Sequence[ProposedPair]
    created_at: datetime
    program_id: str = DEFAULT_PROGRAM
    circles: Sequence[Sequence[str]] = ()
    """A peer program's run: the proposed circles (member ids), instead of pairs."""


class RequestIndex(Protocol):
    """The request view rows (one per request), rewritten after each commit and searched by mentee or mentor."""

    async def save(self, conn: Conn, request: Request, now: datetime) -> None:
        """Rewrite the request's row.  Owns "one open request per mentee" under races: a unique partial
        index refuses a second open row (``MatchingRuleViolation``), which rolls the commit back."""
        ...

    async def of_mentee(self, conn: Conn, mentee_id: str, statuses: Collection[str]) -> list[str]:
        """The mentee's requests in one of ``statuses``."""
        ...

    async def waiting_for(self, conn: Conn, mentor_id: str) -> list[str]:
        """The requests forwarded to the mentor and not answered yet."""
        ...

    async def scrub(self, conn: Conn, mentee_id: str, erased: str) -> None:
        """Replace the texts the mentee wrote (biography, motivation) by ``erased``."""
        ...


class Directory(Protocol):
    """Matching's copies of mentors and mentees (kept from profiles' events)."""

    async def mentee_standing(self, conn: Conn, mentee_id: str, program_id: str = DEFAULT_PROGRAM) -> MenteeStanding:
        """Where the mentee stands for a new request in the program (open request, mentor, unmatched requests: in
        that program).
        Takes the per-mentee advisory lock first (held until the transaction ends), so two submissions of one
        mentee are decided one after the other."""
        ...

    async def mentor_standings(
        self, conn: Conn, mentee_id: str, mentor_ids: Sequence[str], program_id: str = DEFAULT_PROGRAM
    ) -> dict[str, MentorStanding]:
        """The mentors among ``mentor_ids`` in the directory (unknown ones are absent), with their capacity and
        load in the program and whether they are enrolled there (everyone is, in "default")."""
        ...

    async def mentee_active(self, conn: Conn, mentee_id: str) -> bool | None:
        """None: no such mentee."""
        ...

    async def mentee_profile(self, conn: Conn, mentee_id: str) -> MenteeProfile | None:
        """The mentee's profile if they are registered and active."""
        ...

    async def mentor_profiles(self, conn: Conn, program_id: str = DEFAULT_PROGRAM) -> list[MentorProfile]:
        """Every active mentor of the program (enrolled, or everyone in "default"), by id, with their capacity and
        load there; capacity 0 for those not accepting requests."""
        ...

    async def mentees(self, conn: Conn, mentee_ids: Sequence[str]) -> dict[str, MenteeRecord]:
        """The registered mentees among ``mentee_ids``."""
        ...

    async def free_mentees(
        self, conn: Conn, among: Sequence[str] | None = None, program_id: str = DEFAULT_PROGRAM
    ) -> list[MenteeProfile]:
        """Active mentees of the program (enrolled as mentee or peer, or everyone in "default") with no open request,
        no mentor and no group or circle there (all of them, or those among ``among``), by id."""
        ...

    async def register_mentor(self, conn: Conn, event: MentorRegistered, at: datetime, source_event: UUID) -> None: ...

    async def register_mentee(self, conn: Conn, event: MenteeRegistered, at: datetime) -> None: ...

    async def update_profile(self, conn: Conn, participant_id: str, changes: Mapping[str, Any]) -> None:
        """Field path (``profile.specialty``, ``availability.formats``, ...) → new value; others are ignored."""
        ...

    async def set_capacity(self, conn: Conn, mentor_id: str, capacity: int) -> None: ...

    async def set_active(self, conn: Conn, participant_id: str, active: bool) -> None: ...

    async def scrub(self, conn: Conn, participant_id: str, erased: str) -> None:
        """Replace the participant's name and biography by ``erased``."""
        ...


class Slots(Protocol):
    """Mentors' load: who mentors whom now."""

    async def reserve(
        self,
        conn: Conn,
        mentor_id: str,
        mentee_id: str,
        match_id: str,
        now: datetime,
        program_id: str = DEFAULT_PROGRAM,
    ) -> None:
        """Take one of the mentor's slots in ``program_id`` or refuse (``MatchingRuleViolation``: not active, full,
        above the mentee in the reporting line, already paired).  The capacity is the mentor's capacity in the
        program if they set one there, else their shared capacity (counted over every program without one of its
        own).  Owns the capacity rule under races: the mentor's directory row is locked until the transaction
        ends, so two matches for one mentor, in one program or in two, are counted one after the other."""
        ...

    async def reserve_group(
        self, conn: Conn, mentor_id: str, mentee_ids: Sequence[str], match_id: str, now: datetime, program_id: str
    ) -> None:
        """One slot of the mentor for the whole group (its mentees each get a row marked ``grouped``); refuses as
        ``reserve`` does, under the same lock."""
        ...

    async def hold(
        self,
        conn: Conn,
        mentor_id: str,
        mentee_ids: Sequence[str],
        match_id: str,
        since: datetime,
        program_id: str = DEFAULT_PROGRAM,
        grouped: bool = False,
    ) -> None:
        """Slots held by a relationship (a pair already held stays as it is)."""
        ...

    async def release(self, conn: Conn, mentor_id: str, mentee_ids: Sequence[str]) -> None: ...

    async def record_group(self, conn: Conn, formed: GroupFormed) -> None:
        """Keep a group's or peer circle's members (one group or circle per member and program)."""
        ...

    async def close_group(self, conn: Conn, match_id: str) -> None:
        """The group or circle ended: its members and its mentors' slots are free again."""
        ...

    async def link_relationship(self, conn: Conn, relationship_id: str, match_id: str, program_id: str) -> None: ...

    async def relationship_match(self, conn: Conn, relationship_id: str) -> tuple[str, str] | None:
        """(match id, program id) the relationship started from; None if its start was never seen."""
        ...

    async def mentors_of(self, conn: Conn, mentee_id: str) -> set[str]: ...


class ReportingLines(Protocol):
    """HR's employee → supervisor records and which participant is which employee."""

    async def supervisors(self, conn: Conn, participant_ids: Collection[str]) -> dict[str, str]:
        """participant id → nearest participant above them in HR's reporting line, for every participant on the
        lines above ``participant_ids`` (what ``InReportingLine.line_above`` walks for each of them); others may be
        left out: a request reads its mentee's line, not the institution's."""
        ...

    async def record(
        self, conn: Conn, employee_id: str, supervisor_id: str | None, effective_date: date, recorded_at: datetime
    ) -> None:
        """Keep the latest record by (effective date, recorded time); an older one arriving late changes nothing."""
        ...

    async def link(self, conn: Conn, participant_id: str, employee_id: str) -> None: ...

    async def unlink(self, conn: Conn, participant_id: str) -> None: ...


class Programs(Protocol):
    """The programs' view rows and the built-in program's settings saved before programs were data."""

    async def legacy(self, conn: Conn, program_id: str) -> tuple[Weights, int] | None:
        """(weights, response days) the director saved for ``program_id`` before programs had events; None if never."""
        ...

    async def save_view(self, conn: Conn, program: Program, now: datetime) -> None:
        """Rewrite the program's view row after a commit."""
        ...


class Enrolments(Protocol):
    """Who is enrolled where, and what eligibility reads of a person."""

    async def person(self, conn: Conn, participant_id: str) -> PersonFacts:
        """What matching knows of the person (registered as a mentor or a mentee, profile, priority group, HR)."""
        ...

    async def save(self, conn: Conn, enrolment: Enrolment, now: datetime) -> None:
        """Rewrite the enrolment row after a commit (deleted once unenrolled)."""
        ...

    async def record_hr(
        self,
        conn: Conn,
        employee_id: str,
        attributes: dict[str, str | None],
        effective_date: date,
        recorded_at: datetime,
    ) -> None:
        """Keep HR's attributes of the employee (job_function, department, location, ...) that eligibility reads;
        a record older than the one kept changes nothing."""
        ...

    async def role(self, conn: Conn, program_id: str, participant_id: str) -> str | None:
        """The participant's role in the program, None when not enrolled."""
        ...

    async def in_groups(self, conn: Conn, participant_ids: Sequence[str], groups: Collection[str]) -> set[str]:
        """Those among ``participant_ids`` whose priority group is one of ``groups``."""
        ...

    async def enrolled(self, conn: Conn, program_id: str, role: str) -> list[str]:
        """The participants enrolled in the program with ``role``, by id."""
        ...


class BulkRuns(Protocol):
    """Bulk runs' proposals: status, pairs and report."""

    async def record_proposal(self, conn: Conn, proposal: BulkProposal) -> None: ...

    async def lock_status(self, conn: Conn, run_id: str) -> str | None:
        """The run's status, locked until the transaction ends (None: no such run), so one decision wins."""
        ...

    async def pairs(self, conn: Conn, run_id: str) -> list[ProposedPair]:
        """The proposed pairs, by mentor then mentee (the order their mentors are locked in)."""
        ...

    async def decide(self, conn: Conn, run_id: str, status: str, decided_by: str, now: datetime) -> None: ...

    async def program(self, conn: Conn, run_id: str) -> str:
        """The program the run matches in."""
        ...

    async def circles(self, conn: Conn, run_id: str) -> list[list[str]]:
        """A peer run's proposed circles (member ids each), in circle order."""
        ...


class ReadModel(Protocol):
    """What the HTTP routes read directly (no use case): views as JSON-ready rows."""

    async def request(self, request_id: str) -> dict[str, Any] | None: ...

    async def requests(
        self,
        *,
        mentee_id: str | None,
        mentor_id: str | None,
        status: str | None,
        limit: int,
        offset: int,
        waiting_for: str | None = None,
        program_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Ordered by the mentee's priority group's place in the request's program, then by submission."""
        ...

    async def mentors(self, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        """(how many active mentors, one page of them with their open slots)."""
        ...

    async def mentor(self, mentor_id: str) -> dict[str, Any] | None: ...

    async def mentee(self, mentee_id: str) -> dict[str, Any] | None:
        """The mentee's card with ``mentor_ids`` (paired now) and ``asked_mentor_ids`` (a request waits for)."""
        ...

    async def bulk_run(self, run_id: str) -> dict[str, Any] | None: ...

    async def bulk_runs(self, *, status: str | None, limit: int, offset: int) -> list[dict[str, Any]]: ...

    async def program_ids(self) -> list[str]:
        """The programs with events (the built-in "default" only once changed), oldest first."""
        ...

    async def enrolled_counts(self) -> dict[str, dict[str, int]]: ...

    async def enrolments(self, program_id: str) -> list[dict[str, Any]]: ...

    async def enrolments_of(self, participant_id: str) -> list[dict[str, Any]]: ...
