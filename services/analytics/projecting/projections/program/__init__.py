"""Program-evaluation facts: one row per participant, request, relationship and survey answer.

Figures (match rate, time to match, lagging, closures, satisfaction…) are computed from these rows at
query time, so any filter or breakdown works on the same facts. Only coarse attributes are kept
(department, cohort month); no names, addresses or free text.

- ``ddl``: the tables, and the columns and defaults the fold writes;
- ``rules``: what each event changes in its row;
- ``staging`` (in ``projecting``): the fold's engine, loading the rows a batch touches and writing
  each changed row once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import asyncpg

from services.analytics.projecting.copying import insert_new
from services.analytics.projecting.projections.catalog import payload, upcast
from services.analytics.projecting.projections.program import ddl
from services.analytics.projecting.projections.program.ddl import DDL
from services.analytics.projecting.projections.program.rules import (
    _NOTHING,
    KEYS,
    PROGRAM_RULES,
    REPEATABLE,
    RULES,
    _program_seen,
)
from services.analytics.projecting.staging import StagedTable, write_changed
from shared.envelope import EnvelopeRecord
from shared.logging import get_logger

__all__ = ["DDL", "Prepared", "apply_batch", "fold", "prepare", "write"]

log = get_logger(__name__)


class Prepared(NamedTuple):
    tables: dict[str, StagedTable]
    folds: list[tuple[str | None, str | None, object]]
    answers: list[tuple]
    members: list[tuple[str, str]]
    groups: list[tuple]


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """Each event's change, and the rows they touch (no I/O: the projector runs this ahead)."""
    tables = ddl.tables()
    folds, answers, members, groups = [], [], [], []
    for envelope in events:
        if envelope.type in PROGRAM_RULES:
            _program_facts(envelope, tables, folds, members, groups)
        found = RULES.get(envelope.type)
        if found is None:
            continue
        event, version, (table, handler) = found
        try:  # a payload missing what a handler needs fails before any row changes
            data = envelope.data if envelope.schemaversion == version else upcast(event, envelope)
            key = KEYS[table](data) if table else None
            change = handler(data, envelope.time, envelope.id)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            log.warning("event not projectable into program facts; skipped", event_id=str(envelope.id), error=repr(exc))
            continue
        if table is None:
            if change is not None:  # a survey answer the satisfaction figures do not read
                answers.append(change)
        elif key is not None:  # e.g. a match without a request has none
            tables[table].want(key)
            folds.append((table, key, change))
    return Prepared(tables, _collapsed(folds), answers, members, groups)


def _collapsed(folds: list[tuple[str, str, tuple]]) -> list[tuple[str, str, tuple]]:
    """The same changes of each row in the same order, a run of repeatable ones (``rules.REPEATABLE``: a meeting, a
    lagging spell) as one with its count, and none that changes nothing. A row's changes touch that row alone,
    so folding them row by row gives the same rows; half as many changes pickled back from a worker process and
    folded on the projector's event loop (``bench/replay.py``)."""
    by_row: dict[tuple[str, str], list[list]] = {}
    for table, key, change in folds:
        if change is _NOTHING:
            continue
        changes = by_row.setdefault((table, key), [])
        function, args = change
        if function in REPEATABLE and changes and changes[-1][0] is function:
            changes[-1][1] += 1
        else:
            changes.append([function, 1 if function in REPEATABLE else args])
    return [
        (table, key, (function, (args,) if function in REPEATABLE else args))
        for (table, key), changes in by_row.items()
        for function, args in changes
    ]


def _program_facts(envelope: EnvelopeRecord, tables: dict, folds: list, members: list, groups: list) -> None:
    """The program an event names (first seen, or its settings), who it makes a member, a group formed."""
    event, version, rule = PROGRAM_RULES[envelope.type]
    try:
        program, settings, people, group = rule(payload(event, version, envelope))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("event not projectable into programs; skipped", event_id=str(envelope.id), error=repr(exc))
        return
    if not isinstance(program, str) or not program:
        return
    tables["programs"].want(program)
    folds.append(("programs", program, (_program_seen, (envelope.time, settings))))
    members.extend((program, person) for person in people)
    if group is not None:
        groups.append((*group, envelope.time))


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    """Load the rows the batch touches, fold its events onto them in order, write each changed row once.

    Folding in Python gives exactly the rows that applying the events one at a time would
    (the same rules: an update to a row that does not exist yet is a no-op, request facts
    upsert), with one read and one write per table instead of statements per event.
    """
    for table in prepared.tables.values():
        await table.load(conn, schema)
    fold(prepared)
    await write_changed(conn, schema, list(prepared.tables.values()))
    await insert_new(conn, schema, "survey_answers", ddl.ANSWER_COLUMNS, prepared.answers)
    await insert_new(conn, schema, "program_members", ddl.MEMBER_COLUMNS, prepared.members)
    await insert_new(conn, schema, "program_groups", ddl.GROUP_COLUMNS, prepared.groups)


def fold(prepared: Prepared) -> None:
    """Apply the batch's changes in log order to the rows it touches (pure: once they are loaded, or known
    to be missing)."""
    tables = prepared.tables
    for table, key, (change, args) in prepared.folds:
        change(tables[table], key, *args)


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
