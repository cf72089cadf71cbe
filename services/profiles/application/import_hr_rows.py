"""Use case: apply a batch of import rows as HR facts, exactly as if they came off the HR feed.

Each row runs in its own savepoint: a row with errors is reported (row number,
field, reason) and not applied; the others are.  A dry run does the same work
and rolls it back, so it reports what would change.  Within one dry-run batch
later rows see earlier ones; across batches they do not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from uuid import UUID

from pydantic import JsonValue

from services.profiles.application import follow_worker, record_hr_fact
from services.profiles.application.commands import ImportHrRows, RecordHrFact
from services.profiles.application.ports import Ports
from services.profiles.domain.hr_import import (
    ImportClosed,
    ImportNotFound,
    ImportRow,
    Outcome,
    RowError,
    changes,
    content_hash,
    fact_id,
    not_in_roster,
    outcome,
    parse_row,
    row_fact,
)
from services.profiles.domain.participant import EmailTaken, EmployeeTaken
from services.profiles.domain.worker import HrFact, ImpossibleHrFact, WorkerView, derive
from shared.errors import ConcurrencyConflict
from shared.ports import Conn


@dataclass
class RowResult:
    """A row's outcome; its changes are worked out from the views before and after only when a report lists
    them (the CLI asks for errors only, bench/hr_import.py)."""

    row: int
    employee_id: str | None
    outcome: Outcome
    errors: list[RowError] = field(default_factory=list)
    before: WorkerView | None = None
    after: WorkerView | None = None

    @property
    def changes(self) -> dict[str, dict[str, JsonValue]]:
        return changes(self.before, self.after)


class _DryRun(Exception):
    """Leaves the batch's transaction by rolling it back, carrying what it would have done."""

    def __init__(self, results: list[RowResult], counts: Counter[str]) -> None:
        super().__init__("dry run")
        self.results, self.counts = results, counts


async def handle(ports: Ports, cmd: ImportHrRows) -> tuple[list[RowResult], Counter[str]]:
    """Every row's result and the batch's counts by outcome (added to the import's counts, dry run or not)."""
    try:
        async with ports.transactions() as conn:
            session = await open_session(ports, conn, cmd.import_id)
            results = await _apply(ports, conn, session, cmd.rows)
            counts = Counter(r.outcome for r in results)
            if session["dry_run"]:
                raise _DryRun(results, counts)
            await ports.imports.add_counts(conn, cmd.import_id, counts)
    except _DryRun as dry_run:
        results, counts = dry_run.results, dry_run.counts
        async with ports.transactions() as conn:
            await ports.imports.add_counts(conn, cmd.import_id, counts)
    return results, counts


async def open_session(ports: Ports, conn: Conn, import_id: UUID) -> dict:
    """The import session rows are sent to: it exists (404) and is not completed (409)."""
    session = await ports.imports.fetch(conn, import_id)
    if session is None:
        raise ImportNotFound(import_id)
    if session["completed_at"] is not None:
        raise ImportClosed(f"import {import_id} is completed; start a new one")
    return session


async def _apply(ports: Ports, conn: Conn, session: dict, rows: list[tuple[int, dict]]) -> list[RowResult]:
    """A row whose fact is already kept is the same fact again: unchanged, without deriving anything.  A row
    sent before whose fact is still kept is known by its content hash, set-based, without being parsed."""
    hashes = {number: content_hash(fields) for number, fields in rows}
    seen = await ports.imports.seen_rows(conn, list(set(hashes.values())))
    parsed = [(number, fields, parse_row(fields)) for number, fields in rows if hashes[number] not in seen]
    ids = {number: fact_id(row) for number, _, row in parsed if isinstance(row, ImportRow)}
    texts = {number: str(fid) for number, fid in ids.items()}  # each id written out once, not at every use
    known = await ports.hr.known_facts(conn, list(texts.values()))
    named = None
    if session["mode"] == "snapshot":
        employees = [row.employee_id for _, _, row in parsed if isinstance(row, ImportRow)]
        named = await ports.imports.in_roster(conn, session["import_id"], employees + list(set(seen.values())))
    eligible = [
        (number, row)
        for number, _, row in parsed
        if isinstance(row, ImportRow) and (named is None or row.employee_id in named) and texts[number] not in known
    ]
    first_seen = await _new_workers(ports, conn, session["import_id"], parsed, eligible, ids, texts)
    results = []
    by_number = {number: (fields, row) for number, fields, row in parsed}
    for number, _ in rows:
        if number not in by_number:  # sent before, its fact still kept
            employee_id = seen[hashes[number]]
            if named is not None and employee_id not in named:
                results.append(RowResult(number, employee_id, "error", errors=[not_in_roster()]))
            else:
                results.append(RowResult(number, employee_id, "unchanged"))
            continue
        fields, row = by_number[number]
        if number in first_seen:
            results.append(first_seen[number])
            continue
        if not isinstance(row, ImportRow):
            employee_id = fields.get("employee_id")
            employee_id = employee_id if isinstance(employee_id, str) else None
            results.append(RowResult(number, employee_id, "error", errors=row))
        elif named is not None and row.employee_id not in named:
            results.append(RowResult(number, row.employee_id, "error", errors=[not_in_roster()]))
        elif texts[number] in known:
            results.append(RowResult(number, row.employee_id, "unchanged"))
        else:
            results.append(await _apply_row(ports, conn, session["import_id"], number, row, ids[number]))
    if not session["dry_run"]:
        await ports.imports.keep_rows(
            conn,
            [(hashes[number], row.employee_id, texts[number]) for number, _, row in parsed if number in ids],
            written={texts[number] for number in first_seen},  # the new workers' facts, written just now
        )
    return results


async def _new_workers(
    ports: Ports,
    conn: Conn,
    import_id: UUID,
    parsed: list[tuple[int, dict, ImportRow | list[RowError]]],
    eligible: list[tuple[int, ImportRow]],
    ids: dict[int, UUID],
    texts: dict[int, str],
) -> dict[int, RowResult]:
    """The rows that make a worker profiles knows nothing about into a new participant, all at once.

    What each row does is what ``record_hr_fact`` does for it (the same fact, view, events, read-model row and
    report): a row qualifies when it takes effect by today, its worker and e-mail are nobody's yet, and no
    other row of the batch names the same employee or e-mail (so the batch's order cannot matter to it).
    The rest, and all of them when a concurrent writer took one in the meantime, go row by row."""
    now = ports.clock.now()
    today = now.date()
    employees = Counter(row.employee_id for _, _, row in parsed if isinstance(row, ImportRow))
    emails = Counter(row.work_email.lower() for _, _, row in parsed if isinstance(row, ImportRow))
    candidates = [
        (number, row, ids[number], texts[number])
        for number, row in eligible
        if row.effective_date <= today and employees[row.employee_id] == 1 and emails[row.work_email.lower()] == 1
    ]
    if not candidates:
        return {}
    fresh = await ports.hr.new_workers(conn, [(row.employee_id, text) for _, row, _, text in candidates])
    fresh &= await ports.people.unclaimed(
        conn, [(row.employee_id, row.work_email) for _, row, _, _ in candidates if row.employee_id in fresh]
    )
    workers, decided, results = [], [], {}
    for number, row, fid, text in candidates:
        if row.employee_id not in fresh:
            continue
        fact = row_fact(row, now)  # a worker's record about that worker: check_fact cannot refuse it
        view = derive([HrFact(text, fact, 0)], today)
        if view is None:
            continue
        participant = ports.participants.new(view.employee_id)
        workers.append((text, fact, participant.participant_id, view))
        decided.append((participant, follow_worker.decide(participant, None, view), fid))
        results[number] = RowResult(number, row.employee_id, outcome(False, None, view, False), after=view)
    if not workers:
        return {}
    try:
        async with ports.savepoint(conn):
            if not await ports.hr.add_new_workers(conn, workers):
                raise _Taken()
            await ports.participants.commit_new(conn, decided, correlation_id=import_id)
    except (_Taken, EmailTaken, EmployeeTaken, ConcurrencyConflict):
        return {}  # a concurrent writer got to one of them first: every row goes the long way
    return results


class _Taken(Exception):
    """A worker of the batch was linked by a concurrent writer."""


async def _apply_row(ports: Ports, conn: Conn, import_id: UUID, number: int, row: ImportRow, fid: UUID) -> RowResult:
    now = ports.clock.now()
    fact = RecordHrFact(row_fact(row, now), fid, row.employee_id, correlation_id=import_id)
    try:
        async with ports.savepoint(conn):
            followed = await record_hr_fact.handle(ports, conn, fact)
    except ImpossibleHrFact as exc:
        field_name = "work_email" if "email" in str(exc) else "employee_id"
        return RowResult(number, row.employee_id, "error", errors=[RowError(field_name, str(exc))])
    except (EmailTaken, EmployeeTaken):  # a concurrent batch linked this email or employee id first
        error = RowError("work_email", f"{row.work_email} or {row.employee_id} belongs to another participant")
        return RowResult(number, row.employee_id, "error", errors=[error])
    kind = outcome(followed.linked, followed.before, followed.after, scheduled=row.effective_date > now.date())
    return RowResult(number, row.employee_id, kind, before=followed.before, after=followed.after)
