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

from collections.abc import Sequence
from datetime import date
from typing import NamedTuple
from uuid import UUID

import asyncpg

from services.analytics.projecting.copying import insert_new
from services.analytics.projecting.projections.catalog import apply_rules, by_type
from shared.envelope import EnvelopeRecord
from shared.events.hr import HrEventRescinded, WorkerHired, WorkerTerminated, WorkerTransferred, WorkerUpdated
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


class Prepared(NamedTuple):
    facts: list[tuple]
    """(event id, kind, employee id, date, department) rows."""
    rescinded: list[str]
    """Rescinded event ids."""


def _record(prepared: Prepared, event_id: UUID, data: dict, *, hired: bool = False) -> None:
    """A worker record (hire or update): its hire dates, its department from the effective date, a termination."""
    employee, effective, worker = data["employee_id"], date.fromisoformat(data["effective_date"]), data["worker"]
    hires = {date.fromisoformat(worker["original_hire_date"]), date.fromisoformat(worker["last_hire_date"])}
    if hired:
        hires.add(effective)
    facts = [(event_id, "hire", employee, on, None) for on in sorted(hires)]
    facts.append((event_id, "department", employee, effective, worker["department_name"]))
    if worker.get("termination_date"):
        facts.append((event_id, "termination", employee, date.fromisoformat(worker["termination_date"]), None))
    prepared.facts.extend(facts)  # all or nothing: a payload missing a field adds no fact


def _hired(prepared: Prepared, event_id: UUID, data: dict) -> None:
    _record(prepared, event_id, data, hired=True)


def _transferred(prepared: Prepared, event_id: UUID, data: dict) -> None:
    effective = date.fromisoformat(data["effective_date"])
    prepared.facts.append((event_id, "department", data["employee_id"], effective, data["new_department_name"]))


def _terminated(prepared: Prepared, event_id: UUID, data: dict) -> None:
    effective = date.fromisoformat(data["effective_date"])
    prepared.facts.append((event_id, "termination", data["employee_id"], effective, None))


def _rescinded(prepared: Prepared, event_id: UUID, data: dict) -> None:
    prepared.rescinded.append(_rescinded_id(data["rescinded_event_id"]))


def _rescinded_id(value: str) -> str:
    """Envelope ids are uuids; compare them in their canonical text form."""
    try:
        return str(UUID(value))
    except ValueError:
        return value


RULES = by_type(
    {
        WorkerHired: _hired,
        WorkerUpdated: _record,
        WorkerTransferred: _transferred,
        WorkerTerminated: _terminated,
        HrEventRescinded: _rescinded,
    }
)


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """The batch's HR facts and rescinded event ids (no I/O: the projector runs this ahead)."""
    prepared = Prepared([], [])
    apply_rules(
        events,
        RULES,
        lambda rule, envelope, data: rule(prepared, envelope.id, data),
        log,
        "HR event not projectable into workforce facts; skipped",
    )
    return prepared


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
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
