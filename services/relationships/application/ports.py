"""What the use cases need beyond the relationship repository (``shared.repository``), as Protocols.

Every method that touches storage takes the transaction's ``Conn`` (opaque here); the Postgres
implementations live in ``adapters/`` and the in-memory ones in the unit tests.  The cipher is pure
but a port all the same: which algorithm and which keys is the composition root's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from services.relationships.domain.agreement import AgreementDraft
from services.relationships.domain.program import Terms
from services.relationships.domain.relationship import Relationship
from shared.ports import Conn

Kind = Literal["meeting_note", "feedback_comment"]
"""The two kinds of confidential text: a meeting's notes and a survey answer's comment."""


@dataclass(frozen=True)
class Sealed:
    """A text encrypted under the key ``key_id`` of the ring; only the cipher opens it."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


@dataclass(frozen=True)
class SealedText:
    """A confidential text as it is stored: sealed, bound to its row by the cipher's context."""

    kind: Kind
    record_id: str
    relationship_id: str
    author_id: str
    sealed: Sealed
    written_at: datetime


@dataclass(frozen=True)
class ConfidentialText:
    """A confidential text opened for a party of its relationship."""

    record_id: str
    author_id: str
    text: str
    written_at: datetime


class Cipher(Protocol):
    """Authenticated encryption bound to a context: what is sealed in one context opens only in it."""

    def seal(self, plaintext: str, context: str) -> Sealed: ...

    def open(self, sealed: Sealed, context: str) -> str: ...


class ConfidentialTexts(Protocol):
    """Meeting notes and survey comments, stored sealed (never in events or the view)."""

    async def write(self, conn: Conn, text: SealedText) -> None: ...

    async def read(self, conn: Conn, kind: Kind, relationship_id: str) -> list[SealedText]:
        """Oldest first (then by record id)."""
        ...

    async def forget_author(self, conn: Conn, author_id: str) -> int:
        """Delete every text ``author_id`` wrote; how many."""
        ...


class AgreementDrafts(Protocol):
    """The agreement being negotiated, one per relationship (a working document, not an event)."""

    async def load(self, conn: Conn, relationship_id: str, *, for_update: bool = False) -> AgreementDraft | None:
        """``for_update``: the draft is locked until the transaction ends, so two proposals or
        signatures never race (the port owns this rule: the database lock enforces it)."""
        ...

    async def save(self, conn: Conn, draft: AgreementDraft) -> None: ...

    async def forget_party(self, conn: Conn, participant_id: str, erased: str) -> int:
        """The texts of the drafts of the person's relationships (goals, measures, milestones) become ``erased``."""
        ...


class ReadModel(Protocol):
    """One status row per relationship: dates and phase, never notes or comments."""

    async def save(self, conn: Conn, relationship: Relationship) -> None:
        """Rewrite the row from the aggregate (a commit hook: same transaction as the append)."""
        ...

    async def status(self, conn: Conn, relationship_id: str) -> dict[str, Any] | None:
        """The row as the API shows it (phase ``negotiating``: still preparing, with a draft agreement)."""
        ...

    async def open_ids_of(self, conn: Conn, participant_id: str) -> list[str]:
        """The relationships not closed in which ``participant_id`` is mentor or mentee, by id."""
        ...


class ProgramTerms(Protocol):
    """The terms of each program (``domain/program.py``), kept from matching's program events."""

    async def terms(self, conn: Conn, program_id: str) -> Terms:
        """The program's terms; the built-in ``default`` program, and one not heard of yet, have today's
        defaults (``DEFAULT_TERMS``, under the asked program id)."""
        ...

    async def save(self, conn: Conn, terms: Terms) -> None:
        """Replace the program's terms (a ``ProgramDefined`` or ``ProgramChanged`` carries all of them)."""
        ...


class PeopleStanding(Protocol):
    """Who this service heard was erased or deactivated (``shared.standing``)."""

    async def not_active(self, conn: Conn, participant_ids: Sequence[str]) -> dict[str, str]:
        """Of ``participant_ids``, those erased or deactivated: ``{participant_id: "erased" | "deactivated"}``."""
        ...
