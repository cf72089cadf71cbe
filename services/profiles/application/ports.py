"""What profiles' use cases need beyond the domain, as ports; ``Ports`` is the set ``bootstrap.py`` builds once.

Use cases open a transaction (``transactions``), load and commit participants through the repository
(``participants``: the event store with the personal-data codec, and the read-model row as its commit hook),
and hand the transaction's ``Conn`` to the ports below.  The Postgres implementations live in
``adapters/`` (``read_model``, ``hr_records``, ``hr_imports``, ``scim_users``, ``transactions``; the keys
are ``shared.sealing.Sealing``); the in-memory ones for unit tests in ``tests/unit/profiles/fakes.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from services.profiles.domain.participant import Participant
from services.profiles.domain.worker import HrFact, WorkerView
from shared.clock import Clock
from shared.events import Event
from shared.events.hr import HrEventRescinded
from shared.ports import Conn, TimersPort, Transactions
from shared.repository import Repository


class Savepoints(Protocol):
    def __call__(self, conn: Conn) -> AbstractAsyncContextManager[Any]:
        """A transaction nested in ``conn``'s: when its block raises, only its own work is undone."""
        ...


class ParticipantIndex(Protocol):
    """Who holds an email or an employee id, as the participants read model says: the facts the
    uniqueness rules (``domain.participant.require_email_free`` / ``require_employee_free``) decide on.
    The table's unique keys settle a race both writers won (``EmailTaken`` / ``EmployeeTaken`` on commit)."""

    async def owner_of_email(self, conn: Conn, email: str) -> str | None:
        """Case-insensitive."""
        ...

    async def owner_of_employee(self, conn: Conn, employee_id: str) -> str | None: ...

    async def employee_of(self, conn: Conn, participant_id: str) -> str | None:
        """The participant's employee id; None when they have none (or there is no such participant)."""
        ...

    async def unclaimed(self, conn: Conn, people: list[tuple[str, str]]) -> set[str]:
        """Of ``(employee_id, email)``, the employee ids no participant holds as its employee id, its own id or
        (case-insensitively) its email, and that name no erased participant: a worker who becomes a new one."""
        ...


class HrRecords(Protocol):
    """Profiles' own HR tables: the facts kept, rescissions, and each worker's link and last applied view."""

    async def is_erased(self, conn: Conn, employee_id: str) -> bool: ...

    async def add_fact(self, conn: Conn, event_id: str, fact: Event) -> None:
        """Keep a fact (the same event id twice is kept once)."""
        ...

    async def known_facts(self, conn: Conn, event_ids: list[str]) -> set[str]: ...

    async def new_workers(self, conn: Conn, facts: list[tuple[str, str]]) -> set[str]:
        """Of ``(employee_id, fact event id)``, the employees nothing is kept about (no fact, link or erasure)
        whose fact no rescission names."""
        ...

    async def add_new_workers(self, conn: Conn, workers: list[tuple[str, Event, str, WorkerView]]) -> bool:
        """Keep the first fact of each new worker and link them: ``(fact event id, fact, participant id, view
        applied)``.  False when another writer holds one of them by now; the caller then undoes the savepoint."""
        ...

    async def fact_owner(self, conn: Conn, event_id: str) -> tuple[str, str] | None:
        """``(employee_id, event_type)`` of a kept fact."""
        ...

    async def rescission_of(self, conn: Conn, event_id: str) -> tuple[str, str] | None:
        """``(employee_id, rescinded_type)`` of a rescission that names the event (it may come first)."""
        ...

    async def add_rescission(self, conn: Conn, rescinded_by: str, rescission: HrEventRescinded) -> None: ...

    async def standing_facts(self, conn: Conn, employee_id: str) -> list[HrFact]:
        """Every kept fact about the employee that is not rescinded."""
        ...

    async def lock_worker(self, conn: Conn, employee_id: str) -> tuple[str | None, WorkerView | None]:
        """The worker's participant and last applied view, the worker created if new.  Holds the worker
        locked until the transaction ends, so two facts about one worker are derived one after the other."""
        ...

    async def save_worker(self, conn: Conn, employee_id: str, participant_id: str, applied: WorkerView) -> None:
        """Link and view applied.  One worker per participant is a unique key: a race is ``EmployeeTaken``."""
        ...

    async def erase_worker(self, conn: Conn, participant_id: str) -> None:
        """Forget every HR fact and SCIM user about the participant's worker; later facts are not kept."""
        ...


class HrImports(Protocol):
    """Bulk-import sessions (a dict: import_id, mode, dry_run, as_of, counts, leavers, created_at,
    completed_at) and the roster a snapshot declares."""

    async def create(
        self,
        conn: Conn,
        import_id: UUID,
        mode: str,
        dry_run: bool,
        as_of: date,
        created_at: datetime,
        leavers: list[str],
    ) -> None: ...

    async def add_roster(self, conn: Conn, import_id: UUID, employee_ids: list[str]) -> None: ...

    async def fetch(self, conn: Conn, import_id: UUID, *, lock: bool = False) -> dict | None: ...

    async def add_counts(self, conn: Conn, import_id: UUID, counts: Counter[str]) -> None: ...

    async def mark_completed(self, conn: Conn, import_id: UUID, at: datetime) -> None: ...

    async def in_roster(self, conn: Conn, import_id: UUID, employee_ids: list[str]) -> set[str]: ...

    async def seen_rows(self, conn: Conn, hashes: list[bytes]) -> dict[bytes, str]:
        """Of rows' content hashes, those of rows kept before whose fact is still kept, each with its employee."""
        ...

    async def keep_rows(self, conn: Conn, rows: list[tuple[bytes, str, str]], written: Collection[str] = ()) -> None:
        """Remember ``(content hash, employee id, fact event id)`` of rows whose fact is kept (the others not);
        ``written``: event ids of facts this transaction wrote, kept without a look-up."""
        ...

    async def current_workers(self, conn: Conn) -> list[str]:
        """Employees linked to a participant whose last applied status is not terminated, in order."""
        ...


class ScimUsers(Protocol):
    """The identity provider's users (a dict: user_id, user_name, external_id, employee_id, resource,
    version, created_at, updated_at)."""

    async def fetch(self, conn: Conn, user_id: str, *, lock: bool = False) -> dict | None: ...

    async def owner_of_user_name(self, conn: Conn, user_name: str) -> str | None:
        """Case-insensitive."""
        ...

    async def owner_of_employee(self, conn: Conn, employee_id: str) -> str | None: ...

    async def save(
        self,
        conn: Conn,
        user_id: str,
        employee_id: str,
        resource: dict,
        version: int,
        created_at: datetime,
        updated_at: datetime,
    ) -> None: ...

    async def delete(self, conn: Conn, user_id: str) -> None: ...


class ScimGroups(Protocol):
    """The identity provider's groups, each a department (a dict: group_id, display_name, external_id, resource,
    version, created_at, updated_at).  Members are not stored here: they are the SCIM users whose department
    is the group's name."""

    async def fetch(self, conn: Conn, group_id: str, *, lock: bool = False) -> dict | None: ...

    async def owner_of_name(self, conn: Conn, display_name: str) -> str | None:
        """Case-insensitive."""
        ...

    async def members(self, conn: Conn, display_name: str) -> list[str]:
        """Ids of the SCIM users whose department is ``display_name`` (case-insensitive), in creation order."""
        ...

    async def save(
        self, conn: Conn, group_id: str, resource: dict, version: int, created_at: datetime, updated_at: datetime
    ) -> None: ...

    async def delete(self, conn: Conn, group_id: str) -> None: ...


class PersonalKeys(Protocol):
    """The per-person data keys that seal personal fields at rest (crypto-shredding)."""

    async def shred(self, conn: Conn, participant_id: str) -> None:
        """Destroy the person's key for good: what was sealed under it reads as placeholders."""
        ...


class ErasureReceipts(Protocol):
    """Where the person's data is, looked at before and after an erasure; the difference is kept
    (``shared.privacy``)."""

    async def look(self, conn: Conn, participant_id: str) -> Any: ...

    async def record(self, conn: Conn, participant_id: str, before: Any) -> None: ...


@dataclass(frozen=True)
class Ports:
    """Everything a profiles use case reaches: built once by ``bootstrap.build_app``, faked in unit tests."""

    transactions: Transactions
    savepoint: Savepoints
    participants: Repository[Participant]
    people: ParticipantIndex
    hr: HrRecords
    timers: TimersPort
    imports: HrImports
    scim_users: ScimUsers
    scim_groups: ScimGroups
    keys: PersonalKeys
    receipts: ErasureReceipts
    clock: Clock
