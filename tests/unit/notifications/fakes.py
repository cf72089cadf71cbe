"""In-memory versions of notifications' ports (``application/ports.py``), a recording channel, and a
``World`` that wires them like ``bootstrap.py`` wires the Postgres ones.

The fakes keep the Postgres contracts the use cases rely on: an intent per cause is recorded once,
``record`` applies preferences and erasure as its statement does, status changes named ``…_sending``
touch only intents still ``sending``, contexts round-trip through JSON, and a transaction that raises
leaves every fake as it was (``MemoryTransactions``).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from services.notifications.adapters.templates import Templates
from services.notifications.application.deliver import Delivery
from services.notifications.application.deps import Deps
from services.notifications.application.ports import HELD, PENDING, Candidate, Claimed, Held, Parties, Recorded
from services.notifications.application.record_notices import record
from services.notifications.domain.audience import Notice
from services.notifications.domain.outgoing import Outgoing
from services.notifications.domain.people import Person
from services.notifications.domain.preferences import Preferences
from services.notifications.settings import NotificationsSettings
from shared.events.relationships import RelationshipClosed
from shared.ports import Conn
from shared.testing import FixedClock, InMemoryEventStore, InMemoryTimers, MemoryTransactions, Snapshotting

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DIRECTOR = "director-1"
OFFICE = "office@uni.example"


class MemoryContacts(Snapshotting):
    def __init__(self) -> None:
        self.contacts: dict[str, Person] = {}
        self.erased_ids: set[str] = set()

    async def erased(self, conn: Conn, participant_id: str) -> bool:
        return participant_id in self.erased_ids

    async def save(self, conn: Conn, participant_id: str, changes: Mapping[str, str | None]) -> None:
        contact = self.contacts.setdefault(participant_id, {"name": None, "email": None})
        contact.update({k: v for k, v in changes.items() if k in ("name", "email", "time_zone")})

    async def erase(self, conn: Conn, participant_id: str) -> None:
        self.erased_ids.add(participant_id)
        self.contacts.pop(participant_id, None)

    async def known(self, conn: Conn, participant_ids: Collection[str]) -> dict[str, Person]:
        return {pid: dict(self.contacts[pid]) for pid in participant_ids if pid in self.contacts}


class MemoryPreferences(Snapshotting):
    def __init__(self) -> None:
        self.saved: dict[str, Preferences] = {}

    async def get(self, conn: Conn, participant_id: str) -> Preferences | None:
        return self.saved.get(participant_id)

    async def save(self, conn: Conn, participant_id: str, preferences: Preferences) -> None:
        self.saved[participant_id] = Preferences(list(preferences.channels), preferences.digest)

    async def forget(self, conn: Conn, participant_id: str) -> None:
        self.saved.pop(participant_id, None)


class MemoryRequests(Snapshotting):
    def __init__(self) -> None:
        self.requests: dict[str, tuple[str, str]] = {}

    async def remember(self, conn: Conn, request_id: str, mentee_id: str, biography: str) -> None:
        self.requests[request_id] = (mentee_id, biography)

    async def mentee_of(self, conn: Conn, request_id: str) -> str | None:
        return self.requests[request_id][0] if request_id in self.requests else None

    async def biography_of(self, conn: Conn, request_id: str) -> str | None:
        return self.requests[request_id][1] if request_id in self.requests else None

    async def forget_mentee(self, conn: Conn, mentee_id: str) -> None:
        self.requests = {r: v for r, v in self.requests.items() if v[0] != mentee_id}


class MemoryRelationships(Snapshotting):
    def __init__(self) -> None:
        self.parties: dict[str, Parties] = {}
        self.cadence: dict[str, int] = {}

    async def remember(
        self,
        conn: Conn,
        relationship_id: str,
        mentor_id: str | None,
        mentee_ids: Sequence[str],
        co_mentor_ids: Sequence[str] = (),
    ) -> None:
        self.parties[relationship_id] = Parties(mentor_id, list(mentee_ids), list(co_mentor_ids))

    async def parties_of(self, conn: Conn, relationship_id: str) -> Parties | None:
        return self.parties.get(relationship_id)

    async def set_cadence(self, conn: Conn, relationship_id: str, cadence_weeks_max: int) -> None:
        if relationship_id in self.parties:  # an UPDATE: nothing for a relationship never started
            self.cadence[relationship_id] = cadence_weeks_max

    async def cadence_of(self, conn: Conn, relationship_id: str) -> int | None:
        return self.cadence.get(relationship_id)


@dataclass
class Row:
    """One row of the ``intents`` table."""

    notification_id: uuid.UUID
    cause_id: str
    recipient_id: str
    channel: str
    template: str
    context: dict[str, Any]
    status: str
    due_at: datetime
    attempts: int = 0
    crash_resends: int = 0
    claimed_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None

    def claimed(self, *, with_context: bool = True) -> Claimed:
        return Claimed(
            self.notification_id,
            self.cause_id,
            self.recipient_id,
            self.channel,
            self.template,
            self.attempts,
            copy.deepcopy(self.context) if with_context else {},
        )


class MemoryIntents(Snapshotting):
    shared_attributes = ("contacts", "preferences")  # fakes of their own: each snapshots itself

    def __init__(self, contacts: MemoryContacts, preferences: MemoryPreferences) -> None:
        self.contacts, self.preferences = contacts, preferences
        self.rows: dict[uuid.UUID, Row] = {}
        self.wakes = 0

    def _insert(self, cause_id: str, candidate: Candidate, status: str, now: datetime) -> bool:
        notice = candidate.notice
        key = (cause_id, notice.recipient_id, candidate.channel)
        if candidate.notification_id in self.rows or any(
            (r.cause_id, r.recipient_id, r.channel) == key for r in self.rows.values()
        ):
            return False
        context = json.loads(json.dumps(notice.context, default=str))
        self.rows[candidate.notification_id] = Row(
            candidate.notification_id,
            cause_id,
            notice.recipient_id,
            candidate.channel,
            notice.template,
            context,
            status,
            now,
        )
        return True

    async def record(
        self, conn: Conn, cause_id: str, candidates: Sequence[Candidate], now: datetime, default_channels: Sequence[str]
    ) -> list[Recorded]:
        recorded = []
        for candidate in candidates:
            recipient = candidate.notice.recipient_id
            chosen = self.preferences.saved.get(recipient)
            channels = chosen.channels if chosen else default_channels
            if candidate.channel not in channels or recipient in self.contacts.erased_ids:
                continue
            status = HELD if chosen and chosen.digest else PENDING
            if self._insert(cause_id, candidate, status, now):
                recorded.append(Recorded(recipient, status))
        if recorded:
            self.wakes += 1
        return recorded

    async def add(self, conn: Conn, cause_id: str, candidate: Candidate, status: str, now: datetime) -> bool:
        return self._insert(cause_id, candidate, status, now)

    async def wake_worker(self, conn: Conn) -> None:
        self.wakes += 1

    async def claim(self, conn: Conn, now: datetime, limit: int) -> list[Claimed]:
        due = sorted((r for r in self.rows.values() if r.status == PENDING and r.due_at <= now), key=lambda r: r.due_at)
        for row in due[:limit]:
            row.status, row.attempts, row.claimed_at = "sending", row.attempts + 1, now
        return [row.claimed() for row in due[:limit]]

    async def contents(self, conn: Conn, notification_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Claimed]:
        return {nid: self.rows[nid].claimed() for nid in notification_ids if nid in self.rows}

    async def bundle_held(self, conn: Conn, recipient_id: str, due_by: datetime) -> list[Held]:
        held = [
            r for r in self.rows.values() if r.recipient_id == recipient_id and r.status == HELD and r.due_at <= due_by
        ]
        for row in held:
            row.status = "bundled"
        return [Held(r.notification_id, r.channel, r.due_at) for r in held]

    def _sending(self, notification_id: uuid.UUID) -> Row | None:
        row = self.rows.get(notification_id)
        return row if row is not None and row.status == "sending" else None

    async def mark_sent(self, conn: Conn, notification_ids: Sequence[uuid.UUID], now: datetime) -> dict[uuid.UUID, int]:
        sent = {}
        for nid in notification_ids:
            if row := self._sending(nid):
                row.status, row.sent_at, row.claimed_at = "sent", now, None
                sent[nid] = row.attempts
        return sent

    async def mark_failed_sending(self, conn: Conn, notification_id: uuid.UUID, status: str, error: str) -> bool:
        row = self._sending(notification_id)
        if row is None:
            return False
        row.status, row.last_error, row.claimed_at = status, error, None
        return True

    def _lapsed(self, claimed_before: datetime) -> list[Row]:
        return [r for r in self.rows.values() if r.status == "sending" and r.claimed_at < claimed_before]

    async def resend_lapsed_sending(self, conn: Conn, now: datetime, claimed_before: datetime, max_resends: int) -> int:
        resent = [r for r in self._lapsed(claimed_before) if r.crash_resends < max_resends]
        for row in resent:
            row.status, row.crash_resends, row.due_at, row.claimed_at = PENDING, row.crash_resends + 1, now, None
        return len(resent)

    async def give_up_lapsed_sending(self, conn: Conn, claimed_before: datetime) -> list[Claimed]:
        lapsed = self._lapsed(claimed_before)
        for row in lapsed:
            row.status, row.claimed_at, row.last_error = "unknown", None, "outcome unknown after a crash"
        return [row.claimed(with_context=False) for row in lapsed]

    async def retry(self, conn: Conn, notification_id: uuid.UUID, now: datetime) -> None:
        row = self.rows.get(notification_id)
        if row is not None and row.status == "retrying":
            row.status, row.due_at = PENDING, now

    async def cancel_for(self, conn: Conn, recipient_id: str) -> None:
        for row in self.rows.values():
            if row.recipient_id == recipient_id and row.status in (HELD, PENDING, "retrying"):
                row.status = "cancelled"
            if row.recipient_id == recipient_id:
                row.context = {}

    async def strip_mentee(self, conn: Conn, mentee_id: str) -> None:
        for row in self.rows.values():
            if row.context.get("mentee_id") == mentee_id:
                for key in ("biography", "motivation", "reason"):
                    row.context.pop(key, None)

    def statuses(self) -> dict[tuple[str, str, str], str]:
        """``(recipient, channel, template) → status``, as the integration tests read the table."""
        return {(r.recipient_id, r.channel, r.template): r.status for r in self.rows.values()}


class Refused(Exception):
    """What a receiver's orderly refusal looks like to the worker (an SMTP 451, a webhook 503)."""


class Killed(BaseException):
    """Stands in for the process dying right after the receiver accepted a message."""


class RecordingChannel:
    """A channel that keeps what it accepted; ``refuse`` messages are refused first; ``dies``: the
    process dies after each acceptance (before the worker can record it)."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []
        self.refuse = 0
        self.dies = False

    async def send(self, message: Outgoing) -> None:
        if self.refuse:
            self.refuse -= 1
            raise Refused("451 try again later")
        self.sent.append(message)
        if self.dies:
            raise Killed

    def to(self, recipient_id: str) -> list[Outgoing]:
        return [m for m in self.sent if m.recipient_id == recipient_id]


def options(**overrides: Any) -> NotificationsSettings:
    return NotificationsSettings(
        **{
            "director_ids": [DIRECTOR],
            "director_emails": [OFFICE],
            "max_attempts": 3,
            "retry_first_seconds": 30,
            "webhook_url": "https://hooks.uni.example/notify",
            **overrides,
        }
    )


@dataclass
class World:
    """The use cases' world in memory: ``deps`` as bootstrap builds it, every fake at hand."""

    opts: NotificationsSettings = field(default_factory=options)
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))

    def __post_init__(self) -> None:
        self.store = InMemoryEventStore("notifications", self.clock)
        self.timers = InMemoryTimers()
        self.contacts = MemoryContacts()
        self.preferences = MemoryPreferences()
        self.requests = MemoryRequests()
        self.relationships = MemoryRelationships()
        self.intents = MemoryIntents(self.contacts, self.preferences)
        self.transactions = MemoryTransactions(
            self.store, self.timers, self.contacts, self.preferences, self.requests, self.relationships, self.intents
        )
        self.deps = Deps(
            store=self.store,
            clock=self.clock,
            options=self.opts,
            transactions=self.transactions,
            contacts=self.contacts,
            preferences=self.preferences,
            requests=self.requests,
            relationships=self.relationships,
            intents=self.intents,
            timers=self.timers,
        )
        self.email = RecordingChannel()
        self.webhook = RecordingChannel()
        self.delivery = Delivery(
            self.deps,
            {"email": self.email, "webhook": self.webhook},
            Templates(),
            transactions=self.transactions,
            connections=self.transactions,
        )

    def events(self, type_name: str) -> list[Any]:
        return [e for e in self.store.events() if e.type_name() == type_name]

    async def notify(self, cause_id: str, *notices: Notice) -> int:
        """Record notices as a consumer step would, in a transaction of their own."""
        async with self.transactions() as conn:
            return await record(self.deps, conn, cause_id, notices)

    async def person(self, participant_id: str, name: str) -> None:
        async with self.transactions() as conn:
            await self.contacts.save(conn, participant_id, {"name": name, "email": f"{participant_id}@uni.example"})


def closed(*, rematch: bool = False, on: date = date(2026, 4, 1)) -> RelationshipClosed:
    """rel-1 (mentor-1 with mentee-1) closed."""
    return RelationshipClosed(
        relationship_id="rel-1",
        reason="no_fault_mentee" if rematch else "objectives_achieved",
        mentor_id="mentor-1",
        mentee_ids=["mentee-1"],
        rematch_requested=rematch,
        closed_on=on,
    )
