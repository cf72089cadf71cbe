"""Use case: the director discards a proposed bulk run (no event: the catalog has none for it)."""

from __future__ import annotations

from services.matching.application.commands import DiscardBulkRun
from services.matching.application.deps import Deps
from services.matching.domain.bulk_proposal import check_proposed


async def handle(deps: Deps, cmd: DiscardBulkRun) -> None:
    async with deps.transactions() as conn:
        check_proposed(cmd.run_id, await deps.bulk_runs.lock_status(conn, cmd.run_id))
        await deps.bulk_runs.decide(conn, cmd.run_id, "discarded", cmd.admin_id, deps.clock.now())
