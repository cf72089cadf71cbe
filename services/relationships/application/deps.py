"""What every use case needs besides a connection: the store, the clock, the cipher and the program's rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.relationships.adapters.cipher import Cipher
from services.relationships.domain.relationship import Relationship
from services.relationships.domain.topics import PROGRAM_TOPICS
from shared.clock import Clock
from shared.repository import Repository


@dataclass(frozen=True)
class Deps:
    relationships: Repository[Relationship]
    clock: Clock
    cipher: Cipher
    cadence_grace: timedelta = timedelta(days=14)
    topics: tuple[str, ...] = PROGRAM_TOPICS

    def today(self) -> date:
        return self.clock.now().date()
