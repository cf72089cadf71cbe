"""What the use cases need of storage and the outside world (Postgres implementations in ``adapters/postgres/``,
in-memory ones in ``tests/unit/notifications/fakes.py``).

Every method takes the caller's ``Conn``: a consumer step runs in the inbox's transaction, a timer
handler in the timer wheel's, the delivery worker in its own.  Each port answers facts; the rules
(who is told, back-off, the crash rule) stay in ``domain/`` and the use cases.  The one exception is
``Intents.record``, which applies the recipient's choices in the same statement that records the
intents, because it runs for every consumed event and one round trip is what lets the consumer keep up.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from services.notifications.domain.audience import Notice
from services.notifications.domain.outgoing import Rendered
from services.notifications.domain.people import Person
from services.notifications.domain.preferences import Preferences
from shared.events import Event
from shared.ports import Conn, EventStorePort

HELD = "held"
"""Status of an intent kept for the recipient's daily digest."""
PENDING = "pending"
"""Status of an intent due to be sent."""


class Contacts(Protocol):
    """Names and addresses from profiles events, and the ids of erased participants."""

    async def erased(self, conn: Conn, participant_id: str) -> bool: ...

    async def save(self, conn: Conn, participant_id: str, changes: Mapping[str, str | None]) -> None:
        """Set the given fields (``name``, ``email``, ``time_zone``) of the contact, creating it if new."""
        ...

    async def erase(self, conn: Conn, participant_id: str) -> None:
        """Delete the contact and remember only the id, so later events never send to it."""
        ...

    async def known(self, conn: Conn, participant_ids: Collection[str]) -> dict[str, Person]:
        """``{name, email}`` of each of ``participant_ids`` that has a contact (one query for all)."""
        ...


class PreferenceBook(Protocol):
    async def get(self, conn: Conn, participant_id: str) -> Preferences | None:
        """The saved preferences; ``None``: the participant never chose (the defaults apply)."""
        ...

    async def save(self, conn: Conn, participant_id: str, preferences: Preferences) -> None: ...

    async def forget(self, conn: Conn, participant_id: str) -> None: ...


class Requests(Protocol):
    """What later events about a request need of its ``RequestRanked``: the mentee and the biography."""

    async def remember(self, conn: Conn, request_id: str, mentee_id: str, biography: str) -> None: ...

    async def mentee_of(self, conn: Conn, request_id: str) -> str | None: ...

    async def biography_of(self, conn: Conn, request_id: str) -> str | None: ...

    async def forget_mentee(self, conn: Conn, mentee_id: str) -> None:
        """Drop every request of an erased mentee."""
        ...


@dataclass(frozen=True)
class Parties:
    mentor_id: str | None
    """None for a peer circle (its members are all in ``mentee_ids``)."""
    mentee_ids: list[str]
    co_mentor_ids: list[str] = field(default_factory=list)


class Relationships(Protocol):
    """What later events about a relationship need: its parties (``RelationshipStarted``) and cadence."""

    async def remember(
        self,
        conn: Conn,
        relationship_id: str,
        mentor_id: str | None,
        mentee_ids: Sequence[str],
        co_mentor_ids: Sequence[str] = (),
    ) -> None: ...

    async def parties_of(self, conn: Conn, relationship_id: str) -> Parties | None: ...

    async def set_cadence(self, conn: Conn, relationship_id: str, cadence_weeks_max: int) -> None: ...

    async def cadence_of(self, conn: Conn, relationship_id: str) -> int | None:
        """The agreed longest cadence in weeks; ``None`` before the agreement (or for an unknown one)."""
        ...


@dataclass(frozen=True)
class Candidate:
    """A notice on one channel: the intent to record, keyed by its cause-derived id."""

    notification_id: uuid.UUID
    notice: Notice
    channel: str


@dataclass(frozen=True)
class Recorded:
    recipient_id: str
    status: str


@dataclass(frozen=True)
class Claimed:
    """An intent taken for sending (or given up on): what composing and recording its outcome need."""

    notification_id: uuid.UUID
    cause_id: str
    recipient_id: str
    channel: str
    template: str
    attempts: int
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Held:
    notification_id: uuid.UUID
    channel: str
    due_at: datetime


class Intents(Protocol):
    """One row per cause = (cause id, recipient, channel), recorded before anything is sent.

    Status: held → bundled (digest); pending → sending → sent | retrying → pending | failed | unknown;
    cancelled (recipient erased).  Every status change named ``…_sending`` applies only to an intent
    still ``sending``, so a late outcome never overwrites the crash rule's.
    """

    async def record(
        self,
        conn: Conn,
        cause_id: str,
        candidates: Sequence[Candidate],
        now: datetime,
        default_channels: Sequence[str],
    ) -> list[Recorded]:
        """Record a cause's intents in ONE statement, and owns these rules because of that: a candidate is
        kept only if its recipient is not erased and chose its channel (``default_channels`` when they
        never chose); it is ``held`` for a digest reader, else ``pending`` due ``now``; an intent already
        recorded for the cause is left as it is (a redelivery adds nothing); the worker is woken on commit
        if anything was recorded.  Returns what was recorded."""
        ...

    async def add(self, conn: Conn, cause_id: str, candidate: Candidate, status: str, now: datetime) -> bool:
        """Record one intent as given (no preferences applied); ``False`` if the cause already has it."""
        ...

    async def wake_worker(self, conn: Conn) -> None:
        """Wake the delivery worker when the transaction commits."""
        ...

    async def claim(self, conn: Conn, now: datetime, limit: int) -> list[Claimed]:
        """Take up to ``limit`` pending intents due by ``now``, oldest first: ``sending``, attempts + 1, claimed
        ``now``.  Concurrent claims never share an intent (the database lock owns that), and the claim
        stands once this returns (run it outside a transaction: it must be committed before sending)."""
        ...

    async def contents(self, conn: Conn, notification_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Claimed]:
        """The template and context of recorded intents (a digest's items), one query for all."""
        ...

    async def bundle_held(self, conn: Conn, recipient_id: str, due_by: datetime) -> list[Held]:
        """Mark the recipient's held intents due by ``due_by`` as bundled into a digest; returns them."""
        ...

    async def mark_sent(self, conn: Conn, notification_ids: Sequence[uuid.UUID], now: datetime) -> dict[uuid.UUID, int]:
        """``sent`` for those still ``sending``; their attempts by id (one statement for all)."""
        ...

    async def mark_failed_sending(self, conn: Conn, notification_id: uuid.UUID, status: str, error: str) -> bool:
        """``retrying`` or ``failed`` with the error, if still ``sending``; ``False`` if not."""
        ...

    async def resend_lapsed_sending(self, conn: Conn, now: datetime, claimed_before: datetime, max_resends: int) -> int:
        """Claims older than the lease that were resent fewer than ``max_resends`` times: pending again
        (due ``now``, one more crash resend).  Returns how many."""
        ...

    async def give_up_lapsed_sending(self, conn: Conn, claimed_before: datetime) -> list[Claimed]:
        """The remaining lapsed claims: ``unknown``, never sent again.  Returns them (without context)."""
        ...

    async def retry(self, conn: Conn, notification_id: uuid.UUID, now: datetime) -> None:
        """A ``retrying`` intent is pending again, due ``now``."""
        ...

    async def cancel_for(self, conn: Conn, recipient_id: str) -> None:
        """Cancel every intent to an erased recipient not sent yet, and empty all of theirs (sent ones too)."""
        ...

    async def strip_mentee(self, conn: Conn, mentee_id: str) -> None:
        """Drop an erased mentee's biography, motivation and decline reason from every intent about them."""
        ...


class Renderer(Protocol):
    def render(self, name: str, context: dict[str, Any]) -> Rendered: ...


class EventLog(EventStorePort, Protocol):
    """The event store as the delivery worker uses it: each outcome starts its notification's stream."""

    async def start_streams(self, conn: Conn, firsts: Sequence[tuple[str, Event]]) -> None:
        """Append the first event of each of many new streams in one statement."""
        ...
