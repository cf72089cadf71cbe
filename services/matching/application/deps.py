"""What every use case needs besides a connection: the store, the clock and the program defaults."""

from __future__ import annotations

from dataclasses import dataclass

from shared.clock import Clock
from shared.eventstore import EventStore


@dataclass(frozen=True)
class Deps:
    store: EventStore
    clock: Clock
    default_response_days: int = 7
    bulk_candidates: int = 50
