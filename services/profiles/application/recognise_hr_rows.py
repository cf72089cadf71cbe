"""Use case: tell which rows of an import profiles knows already, by their content hashes alone.

A row whose hash profiles keeps, with its fact still kept, is the same fact again: it is unchanged (in a
snapshot, an error when its employee is not in the roster) and is counted in the import as if it had been
sent in full; the caller sends only the other rows.  A nightly full snapshot in which little changed thus
sends hashes, not rows, and nothing is parsed (bench/hr_import.py).  Nothing but the counts is written, so a
dry run is the same.
"""

from __future__ import annotations

from collections import Counter

from services.profiles.application.commands import RecogniseHrRows
from services.profiles.application.import_hr_rows import RowResult, open_session
from services.profiles.application.ports import Ports
from services.profiles.domain.hr_import import not_in_roster


async def handle(ports: Ports, cmd: RecogniseHrRows) -> tuple[list[RowResult], Counter[str], list[int]]:
    """The known rows' results (an error only where the roster refuses one), the counts added to the import's,
    and the row numbers profiles does not know (in the order sent)."""
    async with ports.transactions() as conn:
        session = await open_session(ports, conn, cmd.import_id)
        seen = await ports.imports.seen_rows(conn, list({content_hash for _, content_hash in cmd.rows}))
        named = None
        if session["mode"] == "snapshot" and seen:
            named = await ports.imports.in_roster(conn, cmd.import_id, list(set(seen.values())))
        results: list[RowResult] = []
        unknown: list[int] = []
        unchanged = 0
        for number, content_hash in cmd.rows:
            employee_id = seen.get(content_hash)
            if employee_id is None:
                unknown.append(number)
            elif named is not None and employee_id not in named:
                results.append(RowResult(number, employee_id, "error", errors=[not_in_roster()]))
            else:
                unchanged += 1
        counts = Counter({"unchanged": unchanged, "error": len(results)})
        counts = +counts  # no zero counts, as a batch of rows reports them
        if counts:
            await ports.imports.add_counts(conn, cmd.import_id, counts)
    return results, counts, unknown
