"""Use case: open a bulk HR import; a snapshot names every current worker and its leavers are counted now.

A snapshot that would make more than ``max_leaver_share`` of the current
workforce leavers is refused before any row is applied, unless forced.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID, uuid4

import asyncpg

from services.profiles.adapters import hr_imports
from services.profiles.domain.hr_import import check_leaver_share
from shared.clock import Clock


async def start_hr_import(
    pool: asyncpg.Pool,
    clock: Clock,
    mode: Literal["delta", "snapshot"],
    *,
    dry_run: bool,
    as_of: date | None = None,
    roster: list[str] | None = None,
    max_leaver_share: float = 0.1,
    force: bool = False,
) -> tuple[UUID, list[str], int]:
    """Returns the import id, the leavers a snapshot implies, and the current workforce they were counted in."""
    import_id, as_of = uuid4(), as_of or clock.now().date()
    async with pool.acquire() as conn, conn.transaction():
        leavers, workforce = [], 0
        if mode == "snapshot":
            named = set(roster or [])
            current = await hr_imports.current_workers(conn)
            workforce, leavers = len(current), [e for e in current if e not in named]
            check_leaver_share(len(leavers), workforce, max_leaver_share, force)
        await hr_imports.create(conn, import_id, mode, dry_run, as_of, clock.now(), leavers)
        if mode == "snapshot":
            await hr_imports.add_roster(conn, import_id, list(roster or []))
    return import_id, leavers, workforce
