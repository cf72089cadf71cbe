"""Use case: keep the terms of each program as matching defines and changes it (``ProgramDefined``,
``ProgramChanged``: each carries the program's full settings, so the terms are replaced)."""

from __future__ import annotations

from services.relationships.application.container import Container
from services.relationships.domain.program import Terms
from shared.ports import Conn


async def keep_terms(c: Container, conn: Conn, terms: Terms) -> None:
    await c.programs.save(conn, terms)
