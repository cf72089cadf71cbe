"""What every use case needs besides a connection: the store, the request repository, the clock and the
program defaults."""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.domain.request import Request
from shared.clock import Clock
from shared.eventstore import EventStore
from shared.repository import Repository


@dataclass(frozen=True)
class Deps:
    store: EventStore
    requests: Repository[Request]
    clock: Clock
    default_response_days: int = 7
    bulk_candidates: int = 50
