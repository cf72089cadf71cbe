"""Use case: the director sets the program's compatibility weights or its response deadline."""

from __future__ import annotations

from services.matching.application.commands import ChangeProgram
from services.matching.application.deps import Deps
from services.matching.application.program import program_of
from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import InvalidCommand
from services.matching.domain.program import Program


async def handle(deps: Deps, cmd: ChangeProgram) -> Program:
    weights = None
    if cmd.weights is not None:
        try:
            weights = Weights(**cmd.weights)
        except ValueError as exc:
            raise InvalidCommand("weights", str(exc)) from exc
    async with deps.transactions() as conn:
        current = await program_of(deps, conn, cmd.program_id, for_update=True)
        program = Program(cmd.program_id, weights or current.weights, cmd.response_days or current.response_days)
        await deps.programs.save(conn, program)
    return program
