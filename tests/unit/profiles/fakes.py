"""In-memory versions of profiles' ports (``services.profiles.application.ports``) and a world wired like
``bootstrap.py`` wires the Postgres ones, for unit tests of the use cases.

They keep the contracts the use cases rely on: the read model's unique email and employee id, one worker per
participant, an erased worker keeps nothing, and every fake is rolled back with the transaction (or savepoint)
that raised.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from services.profiles.application.ports import Ports
from services.profiles.domain.participant import EmailTaken, EmployeeTaken, Participant, ParticipantNotFound
from services.profiles.domain.worker import HrFact, WorkerView
from shared.events import Event
from shared.events.hr import HrEventRescinded
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.ports import Conn
from shared.repository import Repository
from shared.testing import FixedClock, InMemoryEventStore, InMemoryTimers, MemoryTransactions, Snapshotting
from tests.helpers import HrFacts

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TODAY = NOW.date()


class InMemoryReadModel(Snapshotting):
    """The participants table: the repository's commit hook writes it, ``ParticipantIndex`` reads it."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.erased: set[str] = set()

    async def rewrite_row(self, conn: Conn, participant: Participant, events: Any, now: datetime) -> None:
        pid = participant.participant_id
        if participant.erased:
            self.rows.pop(pid, None)
            self.erased.add(pid)
            return
        email, employee_id = participant.fields["email"], participant.fields.get("employee_id")
        for other, row in self.rows.items():
            if other != pid and row["email"] == email:
                raise EmailTaken(f"email {email} is already registered")
            if other != pid and employee_id is not None and row["employee_id"] == employee_id:
                raise EmployeeTaken(f"employee {employee_id} is already registered")
        self.rows[pid] = {
            "email": email,
            "employee_id": employee_id,
            "name": participant.fields.get("name"),
            "roles": sorted(participant.roles),
            "active": participant.active,
            "version": participant.version,
        }

    async def owner_of_email(self, conn: Conn, email: str) -> str | None:
        return next((pid for pid, row in self.rows.items() if row["email"].lower() == email.lower()), None)

    async def owner_of_employee(self, conn: Conn, employee_id: str) -> str | None:
        return next((pid for pid, row in self.rows.items() if row["employee_id"] == employee_id), None)

    async def employee_of(self, conn: Conn, participant_id: str) -> str | None:
        row = self.rows.get(participant_id)
        return row["employee_id"] if row else None

    async def unclaimed(self, conn: Conn, people: list[tuple[str, str]]) -> set[str]:
        return {
            employee_id
            for employee_id, email in people
            if employee_id not in self.rows
            and employee_id not in self.erased
            and await self.owner_of_employee(conn, employee_id) is None
            and await self.owner_of_email(conn, email) is None
        }


class InMemoryScimUsers(Snapshotting):
    def __init__(self) -> None:
        self.users: dict[str, dict[str, Any]] = {}

    async def fetch(self, conn: Conn, user_id: str, *, lock: bool = False) -> dict | None:
        user = self.users.get(user_id)
        return dict(user) if user else None

    async def owner_of_user_name(self, conn: Conn, user_name: str) -> str | None:
        return next((u for u, row in self.users.items() if row["user_name"].lower() == user_name.lower()), None)

    async def owner_of_employee(self, conn: Conn, employee_id: str) -> str | None:
        return next((u for u, row in self.users.items() if row["employee_id"] == employee_id), None)

    async def save(
        self,
        conn: Conn,
        user_id: str,
        employee_id: str,
        resource: dict,
        version: int,
        created_at: datetime,
        updated_at: datetime,
    ) -> None:
        self.users[user_id] = {
            "user_id": user_id,
            "user_name": resource["userName"],
            "external_id": resource.get("externalId"),
            "employee_id": employee_id,
            "resource": resource,
            "version": version,
            "created_at": created_at,
            "updated_at": updated_at,
        }

    async def delete(self, conn: Conn, user_id: str) -> None:
        self.users.pop(user_id, None)


class InMemoryScimGroups(Snapshotting):
    """Groups (departments); members are read off the users' fake, as the Postgres port reads scim_users."""

    shared_attributes = ("scim",)

    def __init__(self, scim: InMemoryScimUsers) -> None:
        self.scim = scim
        self.groups: dict[str, dict[str, Any]] = {}

    async def fetch(self, conn: Conn, group_id: str, *, lock: bool = False) -> dict | None:
        group = self.groups.get(group_id)
        return dict(group) if group else None

    async def owner_of_name(self, conn: Conn, display_name: str) -> str | None:
        return next((g for g, row in self.groups.items() if row["display_name"].lower() == display_name.lower()), None)

    async def members(self, conn: Conn, display_name: str) -> list[str]:
        department = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        in_it = [
            row
            for row in self.scim.users.values()
            if str(row["resource"].get(department, {}).get("department", "")).lower() == display_name.lower()
        ]
        return [row["user_id"] for row in sorted(in_it, key=lambda r: (r["created_at"], r["user_id"]))]

    async def save(
        self, conn: Conn, group_id: str, resource: dict, version: int, created_at: datetime, updated_at: datetime
    ) -> None:
        self.groups[group_id] = {
            "group_id": group_id,
            "display_name": resource["displayName"],
            "external_id": resource.get("externalId"),
            "resource": resource,
            "version": version,
            "created_at": created_at,
            "updated_at": updated_at,
        }

    async def delete(self, conn: Conn, group_id: str) -> None:
        self.groups.pop(group_id, None)


class InMemoryHrRecords(Snapshotting):
    shared_attributes = ("scim",)

    def __init__(self, scim: InMemoryScimUsers) -> None:
        self.scim = scim
        self.facts: dict[str, tuple[Event, int]] = {}
        self.rescissions: dict[str, tuple[str, str]] = {}
        self.workers: dict[str, dict[str, Any]] = {}
        self.arrivals = 0

    async def is_erased(self, conn: Conn, employee_id: str) -> bool:
        return self.workers.get(employee_id, {}).get("erased", False)

    async def add_fact(self, conn: Conn, event_id: str, fact: Event) -> None:
        if event_id not in self.facts:
            self.arrivals += 1
            self.facts[event_id] = (fact, self.arrivals)

    async def known_facts(self, conn: Conn, event_ids: list[str]) -> set[str]:
        return {event_id for event_id in event_ids if event_id in self.facts}

    async def new_workers(self, conn: Conn, facts: list[tuple[str, str]]) -> set[str]:
        return {e for e, event_id in facts if e not in self.workers and event_id not in self.rescissions}

    async def add_new_workers(self, conn: Conn, workers: list[tuple[str, Event, str, WorkerView]]) -> bool:
        if any(fact.employee_id in self.workers for _, fact, _, _ in workers):
            return False
        for event_id, fact, participant_id, view in workers:
            await self.add_fact(conn, event_id, fact)
            self.workers[fact.employee_id] = {"participant_id": participant_id, "applied": view, "erased": False}
        return True

    async def fact_owner(self, conn: Conn, event_id: str) -> tuple[str, str] | None:
        kept = self.facts.get(event_id)
        return (kept[0].employee_id, kept[0].type_name()) if kept else None

    async def rescission_of(self, conn: Conn, event_id: str) -> tuple[str, str] | None:
        return self.rescissions.get(event_id)

    async def add_rescission(self, conn: Conn, rescinded_by: str, rescission: HrEventRescinded) -> None:
        self.rescissions.setdefault(rescission.rescinded_event_id, (rescission.employee_id, rescission.rescinded_type))

    async def standing_facts(self, conn: Conn, employee_id: str) -> list[HrFact]:
        return [
            HrFact(event_id, fact, arrival)
            for event_id, (fact, arrival) in self.facts.items()
            if fact.employee_id == employee_id and event_id not in self.rescissions
        ]

    async def lock_worker(self, conn: Conn, employee_id: str) -> tuple[str | None, WorkerView | None]:
        worker = self.workers.setdefault(employee_id, {"participant_id": None, "applied": None, "erased": False})
        return worker["participant_id"], worker["applied"]

    async def save_worker(self, conn: Conn, employee_id: str, participant_id: str, applied: WorkerView) -> None:
        if any(e != employee_id and w["participant_id"] == participant_id for e, w in self.workers.items()):
            raise EmployeeTaken(f"participant {participant_id} is already linked to another employee")
        self.workers[employee_id].update(participant_id=participant_id, applied=applied)

    async def erase_worker(self, conn: Conn, participant_id: str) -> None:
        employee_id = next((e for e, w in self.workers.items() if w["participant_id"] == participant_id), None)
        if employee_id is None:
            return
        self.facts = {i: kept for i, kept in self.facts.items() if kept[0].employee_id != employee_id}
        self.rescissions = {i: r for i, r in self.rescissions.items() if r[0] != employee_id}
        self.scim.users = {u: row for u, row in self.scim.users.items() if row["employee_id"] != employee_id}
        self.workers[employee_id].update(applied=None, erased=True)


class InMemoryHrImports(Snapshotting):
    shared_attributes = ("hr",)

    def __init__(self, hr: InMemoryHrRecords) -> None:
        self.hr = hr
        self.sessions: dict[uuid.UUID, dict[str, Any]] = {}
        self.rosters: dict[uuid.UUID, set[str]] = {}
        self.rows: dict[bytes, tuple[str, str]] = {}

    async def create(
        self,
        conn: Conn,
        import_id: uuid.UUID,
        mode: str,
        dry_run: bool,
        as_of: date,
        created_at: datetime,
        leavers: list[str],
    ) -> None:
        self.sessions[import_id] = {
            "import_id": import_id,
            "mode": mode,
            "dry_run": dry_run,
            "as_of": as_of,
            "counts": {},
            "leavers": list(leavers),
            "created_at": created_at,
            "completed_at": None,
        }

    async def add_roster(self, conn: Conn, import_id: uuid.UUID, employee_ids: list[str]) -> None:
        self.rosters.setdefault(import_id, set()).update(employee_ids)

    async def fetch(self, conn: Conn, import_id: uuid.UUID, *, lock: bool = False) -> dict | None:
        session = self.sessions.get(import_id)
        return {**session, "counts": dict(session["counts"])} if session else None

    async def add_counts(self, conn: Conn, import_id: uuid.UUID, counts: Counter[str]) -> None:
        total = Counter(self.sessions[import_id]["counts"]) + counts
        self.sessions[import_id]["counts"] = dict(sorted(total.items()))

    async def mark_completed(self, conn: Conn, import_id: uuid.UUID, at: datetime) -> None:
        self.sessions[import_id]["completed_at"] = at

    async def in_roster(self, conn: Conn, import_id: uuid.UUID, employee_ids: list[str]) -> set[str]:
        return set(employee_ids) & self.rosters.get(import_id, set())

    async def seen_rows(self, conn: Conn, hashes: list[bytes]) -> dict[bytes, str]:
        kept = {h: self.rows[h] for h in hashes if h in self.rows}
        return {h: employee_id for h, (employee_id, event_id) in kept.items() if event_id in self.hr.facts}

    async def keep_rows(self, conn: Conn, rows: list[tuple[bytes, str, str]], written: Collection[str] = ()) -> None:
        for content_hash, employee_id, event_id in rows:
            assert event_id not in written or event_id in self.hr.facts, "a written fact is kept"
            if event_id in self.hr.facts:
                self.rows.setdefault(content_hash, (employee_id, event_id))

    async def current_workers(self, conn: Conn) -> list[str]:
        return sorted(
            e
            for e, w in self.hr.workers.items()
            if w["participant_id"] is not None and w["applied"] is not None and w["applied"].status != "terminated"
        )


class InMemoryKeys(Snapshotting):
    def __init__(self) -> None:
        self.shredded: set[str] = set()

    async def shred(self, conn: Conn, participant_id: str) -> None:
        self.shredded.add(participant_id)


class MemorySavepoints:
    """A savepoint in memory: a nested memory transaction (a block that raises puts every fake back)."""

    def __init__(self, transactions: MemoryTransactions) -> None:
        self.transactions = transactions

    def __call__(self, conn: Conn) -> Any:
        return self.transactions()


@dataclass
class World:
    """The ports as ``bootstrap.py`` wires them, in memory, and the fakes behind them to look at."""

    ports: Ports
    clock: FixedClock
    store: InMemoryEventStore
    read_model: InMemoryReadModel
    hr: InMemoryHrRecords
    timers: InMemoryTimers
    imports: InMemoryHrImports
    scim: InMemoryScimUsers
    keys: InMemoryKeys
    groups: InMemoryScimGroups

    def events(self, stream_id: str | None = None) -> list[str]:
        return [event.type_name() for event in self.store.events(stream_id)]


class NoReceipts:
    """Erasure receipts are Postgres plumbing (``shared.privacy``), tested on the real stack."""

    async def look(self, conn: Conn, participant_id: str) -> None:
        return None

    async def record(self, conn: Conn, participant_id: str, before: object) -> None:
        return None


def world(now: datetime = NOW) -> World:
    clock = FixedClock(now)
    store = InMemoryEventStore("profiles", clock)
    read_model, scim, timers, keys = InMemoryReadModel(), InMemoryScimUsers(), InMemoryTimers(), InMemoryKeys()
    hr = InMemoryHrRecords(scim)
    imports = InMemoryHrImports(hr)
    groups = InMemoryScimGroups(scim)
    transactions = MemoryTransactions(store, read_model, hr, timers, imports, scim, keys, groups)
    ports = Ports(
        transactions=transactions,
        savepoint=MemorySavepoints(transactions),
        participants=Repository(store, Participant, not_found=ParticipantNotFound, on_commit=[read_model.rewrite_row]),
        people=read_model,
        hr=hr,
        timers=timers,
        imports=imports,
        scim_users=scim,
        scim_groups=groups,
        keys=keys,
        receipts=NoReceipts(),
        clock=clock,
    )
    return World(ports, clock, store, read_model, hr, timers, imports, scim, keys, groups)


# --- builders ---

AT = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


def rebuilt(participant_id: str, events: list) -> Participant:
    """The participant as the repository rebuilds it from these events, all recorded at ``AT``."""
    return Participant.rebuild(participant_id, [(event, AT) for event in events])


PROFILE = ProfileFields(biography="Grew up in Lagos", specialty="oncology", career_stage="senior")


def mentor(participant_id: str = "p1", email: str = "ada@example.edu", **extra: Any) -> MentorRegistered:
    return MentorRegistered(
        participant_id=participant_id, name="Ada", email=email, profile=PROFILE, capacity=2, **extra
    )


def mentee(participant_id: str = "p2", email: str = "bo@example.edu", **extra: Any) -> MenteeRegistered:
    return MenteeRegistered(participant_id=participant_id, name="Bo", email=email, profile=PROFILE, **extra)


# HR facts as recorded now
_hr = HrFacts(NOW)
hired, updated, hr_envelope = _hr.hired, _hr.updated, _hr.envelope
