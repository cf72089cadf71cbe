"""Use case: close a bulk HR import; a snapshot's leavers are terminated on its date (a dry run only lists them)."""

from __future__ import annotations

from collections import Counter

from services.profiles.application import record_hr_fact
from services.profiles.application.commands import CompleteHrImport, RecordHrFact
from services.profiles.application.ports import Ports
from services.profiles.domain.hr_import import ImportClosed, ImportNotFound, leaver_fact, leaver_fact_id


async def handle(ports: Ports, cmd: CompleteHrImport) -> dict:
    """The session with its final counts and the leavers."""
    async with ports.transactions() as conn:
        session = await ports.imports.fetch(conn, cmd.import_id, lock=True)
        if session is None:
            raise ImportNotFound(cmd.import_id)
        if session["completed_at"] is not None:
            raise ImportClosed(f"import {cmd.import_id} is already completed")
        if session["leavers"]:
            if not session["dry_run"]:
                for employee_id in session["leavers"]:
                    fact = leaver_fact(employee_id, session["as_of"], ports.clock.now())
                    fact_id = leaver_fact_id(employee_id, session["as_of"])
                    await record_hr_fact.handle(ports, conn, RecordHrFact(fact, fact_id, employee_id, cmd.import_id))
            await ports.imports.add_counts(conn, cmd.import_id, Counter({"leavers": len(session["leavers"])}))
        await ports.imports.mark_completed(conn, cmd.import_id, ports.clock.now())
        return await ports.imports.fetch(conn, cmd.import_id)
