"""The container every use case takes: the transactions, the request repository, the ports, the clock and the
program defaults.  ``bootstrap.py`` builds it once (Postgres adapters); unit tests build it on fakes."""

from __future__ import annotations

from dataclasses import dataclass

from services.matching.application.ports import (
    BulkRuns,
    Directory,
    Enrolments,
    Programs,
    ReadModel,
    ReportingLines,
    RequestIndex,
    Slots,
)
from services.matching.domain.enrolment import Enrolment
from services.matching.domain.program import Program
from services.matching.domain.request import Request
from shared.clock import Clock
from shared.ports import EventStorePort, Transactions
from shared.repository import Repository


@dataclass(frozen=True)
class Deps:
    transactions: Transactions
    store: EventStorePort
    requests: Repository[Request]
    """Built by ``request_repository.request_repository`` over ``slots``, ``index`` and the timers."""
    clock: Clock
    directory: Directory
    slots: Slots
    lines: ReportingLines
    index: RequestIndex
    programs: Programs
    bulk_runs: BulkRuns
    views: ReadModel
    program_repo: Repository[Program]
    """Built by ``program.program_repository`` (its hook rewrites the program's view row)."""
    enrolments: Enrolments
    enrolment_repo: Repository[Enrolment]
    """Built by ``program.enrolment_repository`` (its hook rewrites the enrolment row)."""
    default_response_days: int = 7
    bulk_candidates: int = 50
