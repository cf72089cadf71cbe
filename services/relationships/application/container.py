"""What every use case is handed: the transactions, the repository, the ports, the clock and the program's rules.

``bootstrap.py`` builds it once with the Postgres implementations; unit tests build it with in-memory
ones (``tests/unit/relationships/fakes.py``) through the same ``relationship_repository``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.relationships.application.cadence_watch import CadenceWatch
from services.relationships.application.ports import (
    AgreementDrafts,
    Cipher,
    ConfidentialTexts,
    PeopleStanding,
    ProgramTerms,
    ReadModel,
)
from services.relationships.domain.errors import RelationshipNotFound
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.topics import PROGRAM_TOPICS
from shared.clock import Clock
from shared.events import Event
from shared.ports import Conn, EventStorePort, TimersPort, Transactions
from shared.repository import Repository


@dataclass(frozen=True)
class Container:
    transactions: Transactions
    relationships: Repository[Relationship]
    drafts: AgreementDrafts
    texts: ConfidentialTexts
    read_model: ReadModel
    cipher: Cipher
    clock: Clock
    programs: ProgramTerms
    standing: PeopleStanding
    cadence_grace: timedelta = timedelta(days=14)
    topics: tuple[str, ...] = PROGRAM_TOPICS

    def today(self) -> date:
        return self.clock.now().date()


def relationship_repository(
    store: EventStorePort, read_model: ReadModel, timers: TimersPort, cadence_grace: timedelta
) -> Repository[Relationship]:
    """Every commit rewrites the relationship's view row, then its cadence and review timers, in its transaction."""

    async def save_view(conn: Conn, relationship: Relationship, events: Sequence[Event], now: datetime) -> None:
        await read_model.save(conn, relationship)

    return Repository(
        store,
        Relationship,
        not_found=lambda relationship_id: RelationshipNotFound(f"no relationship {relationship_id}"),
        on_commit=[save_view, CadenceWatch(timers, cadence_grace)],
    )
