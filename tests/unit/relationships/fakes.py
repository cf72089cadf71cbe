"""In-memory versions of the relationships service's ports, and a container built on them.

Each fake keeps its Postgres twin's contract where a use case could tell the difference: the view's
``negotiating`` phase while a draft exists, one confidential text per (kind, record), oldest first.
``MemoryTransactions`` restores every fake when the block raises, as a rolled-back transaction would.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from services.relationships.application.container import Container, relationship_repository
from services.relationships.application.ports import Kind, Sealed, SealedText
from services.relationships.domain.agreement import AgreementDraft
from services.relationships.domain.program import DEFAULT_TERMS, Terms
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.topics import PROGRAM_TOPICS
from shared.ports import Conn
from shared.testing import FixedClock, InMemoryEventStore, InMemoryTimers, MemoryTransactions, Snapshotting


class MemoryDrafts(Snapshotting):
    def __init__(self) -> None:
        self.drafts: dict[str, AgreementDraft] = {}
        self.locked: list[str] = []

    async def load(self, conn: Conn, relationship_id: str, *, for_update: bool = False) -> AgreementDraft | None:
        if for_update:
            self.locked.append(relationship_id)
        draft = self.drafts.get(relationship_id)
        return copy.deepcopy(draft)

    async def save(self, conn: Conn, draft: AgreementDraft) -> None:
        self.drafts[draft.relationship_id] = copy.deepcopy(draft)

    async def forget_party(self, conn: Conn, participant_id: str, erased: str) -> int:
        """Drafts the person proposed or signed (the fake knows no parties beyond those)."""
        mine = [d for d in self.drafts.values() if participant_id == d.proposed_by or participant_id in d.signatures]
        for draft in mine:
            goals = [g.model_copy(update={"text": erased, "measure": erased}) for g in draft.terms.goals]
            plan = [m.model_copy(update={"title": erased}) for m in draft.terms.development_plan]
            draft.terms = draft.terms.model_copy(update={"goals": goals, "development_plan": plan})
        return len(mine)


class MemoryReadModel(Snapshotting):
    shared_attributes = ("clock", "drafts")

    def __init__(self, drafts: MemoryDrafts) -> None:
        self.drafts = drafts
        self.rows: dict[str, dict[str, Any]] = {}
        self.refuse = False

    async def save(self, conn: Conn, r: Relationship) -> None:
        if self.refuse:
            raise RuntimeError("view row refused")
        self.rows[r.relationship_id] = {
            "relationship_id": r.relationship_id,
            "version": r.version,
            "model": r.model,
            "program_id": r.program_id,
            "mentor_id": r.mentors[0] if r.mentors else None,
            "co_mentor_ids": r.mentors[1:] if r.model == "group" else [],
            "mentee_ids": list(r.members),
            "mentors": list(r.mentors),
            "members": list(r.members),
            "left_ids": sorted(r.left),
            "match_id": r.match_id,
            "phase": r.phase,
            "started_on": r.started_on,
            "agreement_signed_on": r.agreement.signed_on if r.agreement else None,
            "cadence_weeks_max": r.cadence_weeks_max,
            "last_meeting_on": r.last_meeting_on,
            "meetings": len(r.meetings),
            "lagging": r.lagging,
            "review_due_on": r.review_due_on,
            "closed_on": r.closure.closed_on if r.closure else None,
            "closure_reason": r.closure.reason if r.closure else None,
            "rematch_requested": r.closure.rematch_requested if r.closure else None,
        }

    async def status(self, conn: Conn, relationship_id: str) -> dict[str, Any] | None:
        row = self.rows.get(relationship_id)
        if row is None:
            return None
        negotiating = row["phase"] == "preparing" and relationship_id in self.drafts.drafts
        return {**copy.deepcopy(row), "phase": "negotiating" if negotiating else row["phase"]}

    async def open_ids_of(self, conn: Conn, participant_id: str) -> list[str]:
        return sorted(
            rid
            for rid, row in self.rows.items()
            if row["phase"] != "closed" and participant_id in (*row["mentors"], *row["members"])
        )


class MemoryPrograms(Snapshotting):
    def __init__(self) -> None:
        self.terms_of: dict[str, Terms] = {}

    async def terms(self, conn: Conn, program_id: str) -> Terms:
        return self.terms_of.get(program_id) or replace(DEFAULT_TERMS, program_id=program_id)

    async def save(self, conn: Conn, terms: Terms) -> None:
        self.terms_of[terms.program_id] = terms


class MemoryStanding(Snapshotting):
    def __init__(self) -> None:
        self.standing: dict[str, str] = {}

    async def not_active(self, conn: Conn, participant_ids: Sequence[str]) -> dict[str, str]:
        return {p: self.standing[p] for p in participant_ids if p in self.standing}


class MemoryTexts(Snapshotting):
    def __init__(self) -> None:
        self.texts: list[SealedText] = []

    async def write(self, conn: Conn, text: SealedText) -> None:
        if any((t.kind, t.record_id) == (text.kind, text.record_id) for t in self.texts):
            raise RuntimeError(f"duplicate key: {text.kind}/{text.record_id}")  # the table's primary key
        self.texts.append(text)

    async def read(self, conn: Conn, kind: Kind, relationship_id: str) -> list[SealedText]:
        mine = [t for t in self.texts if t.kind == kind and t.relationship_id == relationship_id]
        return sorted(mine, key=lambda t: (t.written_at, t.record_id))

    async def forget_author(self, conn: Conn, author_id: str) -> int:
        kept = [t for t in self.texts if t.author_id != author_id]
        forgotten, self.texts = len(self.texts) - len(kept), kept
        return forgotten


class ContextCipher:
    """Not encryption: it hides the text (reversed) and opens it only in the context it was sealed in."""

    def __init__(self) -> None:
        self.broken = False

    def seal(self, plaintext: str, context: str) -> Sealed:
        if self.broken:
            raise RuntimeError("no key to seal with")
        return Sealed("fake", context.encode(), plaintext[::-1].encode())

    def open(self, sealed: Sealed, context: str) -> str:
        if sealed.nonce != context.encode():
            raise ValueError("ciphertext does not belong here or was altered")
        return sealed.ciphertext.decode()[::-1]


@dataclass
class World:
    """A container on in-memory ports, and the fakes themselves for the tests to look into."""

    c: Container
    clock: FixedClock
    store: InMemoryEventStore
    timers: InMemoryTimers
    drafts: MemoryDrafts
    read_model: MemoryReadModel
    texts: MemoryTexts
    cipher: ContextCipher
    transactions: MemoryTransactions
    programs: MemoryPrograms
    standing: MemoryStanding


def world(grace: timedelta = timedelta(days=14), topics: tuple[str, ...] = PROGRAM_TOPICS) -> World:
    clock = FixedClock()
    store, timers, drafts, texts = (
        InMemoryEventStore("relationships", clock),
        InMemoryTimers(),
        MemoryDrafts(),
        MemoryTexts(),
    )
    read_model, cipher = MemoryReadModel(drafts), ContextCipher()
    programs, standing = MemoryPrograms(), MemoryStanding()
    transactions = MemoryTransactions(store, timers, drafts, read_model, texts, programs)
    c = Container(
        transactions=transactions,
        relationships=relationship_repository(store, read_model, timers, grace),
        drafts=drafts,
        texts=texts,
        read_model=read_model,
        cipher=cipher,
        clock=clock,
        programs=programs,
        standing=standing,
        cadence_grace=grace,
        topics=topics,
    )
    return World(c, clock, store, timers, drafts, read_model, texts, cipher, transactions, programs, standing)
