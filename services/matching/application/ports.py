"""What matching's use cases need of storage beyond the request repository: Protocols, implemented in
``adapters/`` (Postgres) and in ``tests/unit/matching/fakes.py`` (memory).  Every method takes the use
case's transaction (``Conn``)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.matching.domain.request import Request
from shared.ports import Conn


class RequestIndex(Protocol):
    """The request view rows (one per request), written after each commit and searched by mentee or mentor."""

    async def save(self, conn: Conn, request: Request, now: datetime) -> None:
        """Rewrite the request's row.  Owns the rule "one open request per mentee" under races: a unique
        partial index refuses a second open row (``MatchingRuleViolation``), rolling the commit back."""
        ...


class Slots(Protocol):
    """Mentors' load: who mentors whom now (``active_pairs``)."""

    async def reserve(self, conn: Conn, mentor_id: str, mentee_id: str, match_id: str, now: datetime) -> None:
        """Take one of the mentor's slots or refuse (``MatchingRuleViolation``).  Owns the capacity rule
        under races: the mentor's directory row is locked until the transaction ends, so two matches for
        one mentor are counted one after the other."""
        ...
