"""Use case: open a bulk HR import; a snapshot names every current worker and its leavers are counted now.

A snapshot that would make more than ``max_leaver_share`` of the current
workforce leavers is refused before any row is applied, unless forced.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from services.profiles.application.commands import StartHrImport
from services.profiles.application.ports import Ports
from services.profiles.domain.hr_import import check_leaver_share, snapshot_leavers


async def handle(ports: Ports, cmd: StartHrImport) -> tuple[UUID, list[str], int]:
    """The import id, the leavers a snapshot implies, and the current workforce they were counted in."""
    import_id, as_of = uuid4(), cmd.as_of or ports.clock.now().date()
    async with ports.transactions() as conn:
        leavers, workforce = [], 0
        if cmd.mode == "snapshot":
            current = await ports.imports.current_workers(conn)
            workforce, leavers = len(current), snapshot_leavers(current, cmd.roster or [])
            check_leaver_share(len(leavers), workforce, cmd.max_leaver_share, cmd.force)
        await ports.imports.create(conn, import_id, cmd.mode, cmd.dry_run, as_of, ports.clock.now(), leavers)
        if cmd.mode == "snapshot":
            await ports.imports.add_roster(conn, import_id, list(cmd.roster or []))
    return import_id, leavers, workforce
