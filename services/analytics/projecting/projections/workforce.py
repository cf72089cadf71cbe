"""HR facts by effective date, for outcomes of participants vs non-participants (retention by cohort).

Only dated employment facts are kept, never the worker record (names, e-mail, titles):
- ``hire`` on a hire date (``WorkerHired``'s effective date; a worker record's
  ``original_hire_date`` and ``last_hire_date``, so a feed that starts with
  ``WorkerUpdated`` snapshots still knows when people were hired),
- ``termination`` on the last day of employment (``WorkerTerminated``; a record whose
  ``termination_date`` is set),
- ``department`` from the day a record or a transfer takes effect.
A rescinded event (``HrEventRescinded``) is kept as a fact of its own and its facts are
ignored at query time, so a rescind that arrives before what it rescinds works too.  Figures
use each fact's ``effective_date``, never when it arrived.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import asyncpg

from services.analytics.projecting.copying import insert_new
from shared.envelope import EnvelopeRecord
from shared.logging import get_logger

log = get_logger(__name__)

DDL = """
CREATE TABLE {schema}.hr_facts (
    event_id    uuid NOT NULL,
    kind        text NOT NULL,
    employee_id text NOT NULL,
    on_date     date NOT NULL,
    department  text,
    PRIMARY KEY (event_id, kind, on_date)
);
CREATE TABLE {schema}.hr_rescinded (rescinded_event_id text PRIMARY KEY);
"""
_RECORD_EVENTS = frozenset({"WorkerHired", "WorkerUpdated"})
_FACT_EVENTS = _RECORD_EVENTS | {"WorkerTransferred", "WorkerTerminated"}


def facts_of(envelope: EnvelopeRecord) -> list[tuple]:
    """(event id, kind, employee id, date, department) rows for one HR event."""
    if envelope.type not in _FACT_EVENTS:
        return []
    data, kind = envelope.data, envelope.type
    employee, effective = data["employee_id"], date.fromisoformat(data["effective_date"])

    def row(fact, on, department=None):
        return (envelope.id, fact, employee, on, department)

    if kind in _RECORD_EVENTS:
        worker = data["worker"]
        hires = {date.fromisoformat(worker["original_hire_date"]), date.fromisoformat(worker["last_hire_date"])}
        if kind == "WorkerHired":
            hires.add(effective)
        facts = [row("hire", on) for on in sorted(hires)]
        facts.append(row("department", effective, worker["department_name"]))
        if worker.get("termination_date"):
            facts.append(row("termination", date.fromisoformat(worker["termination_date"])))
        return facts
    if kind == "WorkerTransferred":
        return [row("department", effective, data["new_department_name"])]
    if kind == "WorkerTerminated":
        return [row("termination", effective)]
    return []


def _rescinded_id(value: str) -> str:
    """Envelope ids are uuids; compare them in their canonical text form."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value


def prepare(events: Sequence[EnvelopeRecord]) -> tuple[list[tuple], list[str]]:
    """The batch's HR facts and rescinded event ids (no I/O: the projector runs this ahead)."""
    facts, rescinded = [], []
    for envelope in events:
        if envelope.type not in _FACT_EVENTS and envelope.type != "HrEventRescinded":
            continue
        try:
            if envelope.type == "HrEventRescinded":
                rescinded.append(_rescinded_id(envelope.data["rescinded_event_id"]))
            else:
                facts += facts_of(envelope)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning(
                "HR event not projectable into workforce facts; skipped", event_id=str(envelope.id), error=repr(exc)
            )
    return facts, rescinded


async def write(conn: asyncpg.Connection, schema: str, prepared: tuple[list[tuple], list[str]]) -> None:
    facts, rescinded = prepared
    await insert_new(
        conn,
        schema,
        "hr_facts",
        {"event_id": "uuid", "kind": "text", "employee_id": "text", "on_date": "date", "department": "text"},
        facts,
    )
    await insert_new(conn, schema, "hr_rescinded", {"rescinded_event_id": "text"}, [(r,) for r in rescinded])


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
