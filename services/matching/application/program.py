"""The program's settings as use cases read them, and the query showing them."""

from __future__ import annotations

from services.matching.application.deps import Deps
from services.matching.domain.compatibility import Weights
from services.matching.domain.program import DEFAULT_PROGRAM, Program, check_known
from shared.ports import Conn


async def program_of(deps: Deps, conn: Conn, program_id: str = DEFAULT_PROGRAM, *, for_update: bool = False) -> Program:
    """The saved settings, or the defaults (equal weights, the configured response days)."""
    check_known(program_id)
    saved = await deps.programs.load(conn, program_id, for_update=for_update)
    return saved or Program(program_id, Weights(), deps.default_response_days)


async def show_program(deps: Deps, program_id: str) -> Program:
    async with deps.transactions() as conn:
        return await program_of(deps, conn, program_id)
