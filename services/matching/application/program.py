"""Programs and enrolments as use cases read them: the repositories (with their view hooks), the program a use
case works in, and the query showing one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.matching.application.deps import Deps
from services.matching.application.ports import Enrolments, Programs
from services.matching.domain.enrolment import Enrolment
from services.matching.domain.errors import NotFound
from services.matching.domain.program import DEFAULT_PROGRAM, Program, built_in
from shared.events import Event
from shared.ports import Conn, EventStorePort
from shared.repository import Repository


def program_repository(store: EventStorePort, programs: Programs) -> Repository[Program]:
    async def save_view(conn: Conn, program: Program, events: Sequence[Event], now: datetime) -> None:
        await programs.save_view(conn, program, now)

    return Repository(store, Program, not_found=lambda i: NotFound(f"no program {i}"), on_commit=[save_view])


def enrolment_repository(store: EventStorePort, enrolments: Enrolments) -> Repository[Enrolment]:
    async def save_row(conn: Conn, enrolment: Enrolment, events: Sequence[Event], now: datetime) -> None:
        await enrolments.save(conn, enrolment, now)

    return Repository(store, Enrolment, not_found=lambda i: NotFound(f"no enrolment {i}"), on_commit=[save_row])


async def program_of(deps: Deps, conn: Conn, program_id: str = DEFAULT_PROGRAM) -> Program:
    """The program as its events left it; "default" before any change is the built-in one (equal weights and
    the configured response days, or what the director saved before programs had events).  404 for any other
    program without events."""
    program = await deps.program_repo.load(conn, program_id)
    if program.settings is None:
        if program_id != DEFAULT_PROGRAM:
            raise NotFound(f"no program {program_id}")
        legacy = await deps.programs.legacy(conn, program_id)
        program.settings = built_in(deps.default_response_days) if legacy is None else built_in(legacy[1], legacy[0])
    return program


async def show_program(deps: Deps, program_id: str) -> Program:
    async with deps.transactions() as conn:
        return await program_of(deps, conn, program_id)
