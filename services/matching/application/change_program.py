"""Use cases: the director defines a program, replaces its settings (``If-Match``), or sets only its weights or
its response deadline (the routes that predate programs as data)."""

from __future__ import annotations

from services.matching.application.commands import ChangeProgram, DefineProgram, UpdateProgram
from services.matching.application.deps import Deps
from services.matching.application.program import program_of
from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import InvalidCommand
from services.matching.domain.program import Program
from shared.errors import ConcurrencyConflict


async def handle(deps: Deps, cmd: ChangeProgram) -> Program:
    changes: dict[str, object] = {}
    if cmd.weights is not None:
        try:
            changes["weights"] = Weights(**cmd.weights)
        except ValueError as exc:
            raise InvalidCommand("weights", str(exc)) from exc
    if cmd.response_days is not None:
        changes["response_days"] = cmd.response_days
    async with deps.transactions() as conn:
        program = await program_of(deps, conn, cmd.program_id)
        events = program.change_some(cmd.changed_by, **changes)
        await deps.program_repo.commit(conn, program, events, correlation_id=cmd.correlation_id)
    return program


async def define(deps: Deps, cmd: DefineProgram) -> Program:
    async with deps.transactions() as conn:
        program = await deps.program_repo.load(conn, cmd.program_id)
        events = program.define(cmd.settings, cmd.defined_by)
        await deps.program_repo.commit(conn, program, events, correlation_id=cmd.correlation_id)
    return program


async def update(deps: Deps, cmd: UpdateProgram) -> Program:
    async with deps.transactions() as conn:
        program = await program_of(deps, conn, cmd.program_id)
        if cmd.expected_version is not None and cmd.expected_version != program.version:
            raise ConcurrencyConflict(cmd.program_id, cmd.expected_version, program.version)
        events = program.change(cmd.settings, cmd.changed_by)
        await deps.program_repo.commit(conn, program, events, correlation_id=cmd.correlation_id)
    return program
