"""Per-month sums of the relationships' dated figures: lagging and cadence over time read a few rows.

The dashboard's lagging and cadence figures used to read every relationship with every meeting and
nudge at each cold read (``bench/reads.py --scale 0.1``: 0.9 s of its 1.9 s of CPU, growing with the
history). Here every figure is a sum over relationships of a value each relationship has on a day,
so the projector keeps, per relationship, the days that value *changes* (``rel_sum_days``) and their
sums per key and month (``rel_sum_months``); a read adds up a month's rows instead of replaying history.

Each measure (``MEASURES``) is a change on a day: a *level* (active, lagging, keeping its cadence…) is
the sum of its changes up to a day; a *count* (started, meetings held, first lagging in a month) is the
sum of its changes over the days of a period. The rules are the dashboard's (``querying/trends.py``):

- ``active``: started on or before the day and not closed by it. ``lagging_at``: in a lagging spell on
  the day (a spell starts at a ``RelationshipLagging``, ends at the next meeting logged or the closing).
  ``lagging_before``: in a spell on the *next* day, counting the ending day (so a month's sum up to the
  month before answers "lagging on the month's first day"); ``lagging_entered``: the first day of a
  month it is in a spell, when it was not on the 1st. Lagging at some time in a month = both.
- ``agreed``: agreement signed (and started) and not closed; ``keeping``: agreed and has held at least
  ``days since start // (7 x cadence weeks)`` meetings by the day; ``held``: a meeting held that day.
- The cadence totals at "now" (``*_by``): relationships started by it (``in_range``), with an agreement
  signed by it (``agreed_by``), their meetings held and expected by "now" or their closing, and whether
  they keep their cadence, are behind by one or by two or more. Expected meetings of a relationship
  still open grow forever: they are not kept here (``expected_by`` is 0 for them) and a read adds
  them from ``rel_sum_keys`` (the open relationships only).

A relationship is counted under the key a dashboard filter selects it by: the current department and
cohort of its (first) mentee (``participants``), and its program when the mentee is a member of it.
Every batch recomputes the relationships it touches, and those of the people whose registration or
membership it touches (a re-registration moves a person to another department: their relationships
move with them), from their facts as they are now, and moves the month sums by the difference. So the
sums equal the sum of every relationship's changes whatever order or batches the events arrived in,
and a replay builds the same rows (tests compare every figure with a scan of the whole history).
"""

from __future__ import annotations

import asyncio
import bisect
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import compress
from operator import ne
from typing import Any, NamedTuple

import asyncpg

from services.analytics.projecting import binary_copy, workers
from shared.envelope import EnvelopeRecord

MEASURES = (
    "started",
    "active",
    "lagging_at",
    "lagging_before",
    "lagging_entered",
    "agreed",
    "keeping",
    "held",
    "in_range",
    "agreed_by",
    "held_by",
    "expected_by",
    "keeping_by",
    "behind_one",
    "behind_two",
)
"""The measures: ``rel_sum_changes.measures`` hold their indexes (``rel_sum_days.measure`` their names), and the
column order of ``rel_sum_months``."""
(
    STARTED,
    ACTIVE,
    LAGGING_AT,
    LAGGING_BEFORE,
    LAGGING_ENTERED,
    AGREED,
    KEEPING,
    HELD,
    IN_RANGE,
    AGREED_BY,
    HELD_BY,
    EXPECTED_BY,
    KEEPING_BY,
    BEHIND_ONE,
    BEHIND_TWO,
) = range(len(MEASURES))
_COLUMNS = ",\n    ".join(f"{m} integer NOT NULL DEFAULT 0" for m in MEASURES)
TOTALS = MEASURES[IN_RANGE:]
"""The cadence totals at "now" (``*_by``), kept per start month too (``rel_sum_started``)."""
_TOTAL_COLUMNS = ",\n    ".join(f"{m} integer NOT NULL DEFAULT 0" for m in TOTALS)
_NAMES = ", ".join(f"'{m}'" for m in MEASURES)

DDL = f"""
CREATE TABLE {{schema}}.rel_sum_keys (
    relationship_id text PRIMARY KEY,
    mentee_id       text,
    program_id      text,  -- null unless the mentee is a member of the relationship's program
    department      text,
    cohort          text,
    started_on      date NOT NULL,
    signed_on       date,
    cadence_weeks   integer,
    closed_on       date,
    UNIQUE (mentee_id, relationship_id)  -- found by mentee in every batch: never deferred
);
-- A relationship's changes in a month, one row: per change its day, measure (index in ``MEASURES``) and value,
-- as three arrays of the same length. A row per (relationship, day, measure) was ~120 rows per relationship, and
-- copying them and sorting their two indexes was most of a rebuild's catch-up (``bench/replay.py``).
CREATE TABLE {{schema}}.rel_sum_changes (
    relationship_id text     NOT NULL,
    month           integer  NOT NULL,  -- year * 12 + month - 1, as in rel_sum_months
    days            date[]   NOT NULL,
    measures        smallint[] NOT NULL,
    changes         integer[]  NOT NULL,
    PRIMARY KEY (relationship_id, month)
);
-- The changes a row per (relationship, day, measure), as the reads ask for them: the month narrows them to its rows.
CREATE VIEW {{schema}}.rel_sum_days AS
    SELECT r.relationship_id, r.month, c.day, (ARRAY[{_NAMES}])[c.measure + 1] AS measure, c.change
    FROM {{schema}}.rel_sum_changes r, unnest(r.days, r.measures, r.changes) AS c(day, measure, change);
CREATE TABLE {{schema}}.rel_sum_months (
    program_id text,
    department text,
    cohort     text,
    month      integer NOT NULL,  -- year * 12 + month - 1
    {_COLUMNS},
    UNIQUE NULLS NOT DISTINCT (program_id, department, cohort, month)
) WITH (fillfactor = 70);
-- The cadence totals' changes of every relationship (whatever its key) per the month it started and the month of the
-- change: a period filter (``start``) sums the months its relationships started in instead of their days.
CREATE TABLE {{schema}}.rel_sum_started (
    started_month integer NOT NULL,  -- year * 12 + month - 1
    month         integer NOT NULL,
    {_TOTAL_COLUMNS},
    PRIMARY KEY (started_month, month)
);
-- While it holds its row (a rebuild, created with deferred indexes), batches leave the sums alone and
-- ``catch_up`` computes them once at the end: every relationship once, not again at each of its batches.
CREATE TABLE {{schema}}.rel_sum_deferred (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton));
-- The nudges of the relationships a batch touches are read in every batch: not deferred to a rebuild's end.
ALTER TABLE {{schema}}.activity_lagging ADD UNIQUE (relationship_id, event_id);
CREATE INDEX ON {{schema}}.rel_sum_changes (month);
CREATE INDEX ON {{schema}}.rel_sum_keys (started_on)
"""

_RELATIONSHIP_EVENTS = frozenset(
    {"RelationshipStarted", "AgreementSigned", "RelationshipClosed", "MeetingLogged", "RelationshipLagging"}
)
_REGISTRATIONS = frozenset({"MentorRegistered", "MenteeRegistered"})  # set a person's department and cohort
_PERSON_FIELDS = ("participant_id", "mentee_id", "mentor_id")
_PEOPLE_FIELDS = ("mentee_ids", "mentor_ids", "co_mentor_ids")


class Prepared(NamedTuple):
    relationships: set[str]
    registered: set[str]
    """People registered in the batch: their department or cohort may have changed."""
    named: set[str]
    """People the batch names otherwise: they may have become members of a program."""


def prepare(events: Sequence[EnvelopeRecord]) -> Prepared:
    """The relationships the batch changes, and the people whose key it may change (more than needed is
    harmless: those are recomputed to the same rows)."""
    relationships: set[str] = set()
    registered: set[str] = set()
    named: set[str] = set()
    for envelope in events:
        data = envelope.data
        if not isinstance(data, dict):
            continue
        if envelope.type in _RELATIONSHIP_EVENTS and isinstance(data.get("relationship_id"), str):
            relationships.add(data["relationship_id"])
        people = registered if envelope.type in _REGISTRATIONS else named
        for field in _PERSON_FIELDS:
            if isinstance(data.get(field), str):
                people.add(data[field])
        for field in _PEOPLE_FIELDS:
            if isinstance(data.get(field), list):
                people.update(p for p in data[field] if isinstance(p, str))
    return Prepared(relationships, registered, named - registered)


class Facts(NamedTuple):
    """One started relationship's dated facts (``held`` and ``logged`` sorted, ``lagging`` sorted)."""

    started_on: date
    signed_on: date | None
    cadence_weeks: int | None
    closed_on: date | None
    closed_at: datetime | None
    held: list[date]
    logged: list[datetime]
    lagging: list[datetime]


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def lagging_spells(facts: Facts) -> list[tuple[date, date | None]]:
    """(first day lagging, day it ended or None) per spell: from a nudge to the next meeting logged or the
    closing; nudges before that meeting are one spell."""
    ends: dict[datetime | None, datetime] = {}
    for start in facts.lagging:
        later = facts.logged[bisect.bisect_right(facts.logged, start) :][:1]
        if facts.closed_at is not None and facts.closed_at > start:
            later.append(facts.closed_at)
        end = min(later, default=None)
        ends[end] = min(ends.get(end, start), start)
    return sorted((_day(start), None if end is None else _day(end)) for end, start in ends.items())


def _lagging_days(spells: list[tuple[date, date | None]]) -> list[tuple[date, date | None]]:
    """The days in some spell (ending days included) as runs of consecutive days (None: no end)."""
    runs: list[list] = []
    for start, end in spells:
        if runs and (runs[-1][1] is None or start <= runs[-1][1] + timedelta(days=1)):
            runs[-1][1] = None if end is None or runs[-1][1] is None else max(runs[-1][1], end)
        else:
            runs.append([start, end])
    return [(start, end) for start, end in runs]


def _changes(facts: Facts) -> dict[int, list[int]]:
    """Per day (its ordinal), the change of every measure (``MEASURES``) this relationship makes on it (days
    without a change left out). A sweep over the days a level may change on (the start, the
    meetings, the closing, the spells' edges, the days the meetings expected go up), the levels measured on
    each with plain ints: a rebuild's ``catch_up`` runs it for every relationship (``bench/replay.py``: ~1 µs
    per candidate day here, ~6 with a list of the levels built from dates per day)."""
    n = len(MEASURES)
    out: dict[int, list[int]] = {}

    def on(day: int) -> list[int]:
        row = out.get(day)
        if row is None:
            row = out[day] = [0] * n
        return row

    started = facts.started_on.toordinal()
    closed = None if facts.closed_on is None else facts.closed_on.toordinal()
    held = [day.toordinal() for day in facts.held]
    on(started)[STARTED] += 1
    for day in held:
        on(day)[HELD] += 1
    spell_days = lagging_spells(facts)
    previous_end: date | None = None
    for i, (start, end) in enumerate(_lagging_days(spell_days)):
        first = start.replace(day=1)
        if start != first and (i == 0 or (previous_end is not None and previous_end < first)):
            on(start.toordinal())[LAGGING_ENTERED] += 1
        previous_end = end
    spells = [(s.toordinal(), None if e is None else e.toordinal()) for s, e in spell_days]
    # in a spell on the next day, counting the ending day: the spell moved a day earlier, its end included
    spells_before = [(s - 1, None if e is None else e - 1) for s, e in spells]
    # cadence_weeks_max is at least 1 in the catalog; a payload saying otherwise is no agreement
    weeks = facts.cadence_weeks if facts.cadence_weeks and facts.cadence_weeks > 0 else None
    agreed_from = (
        max(facts.signed_on.toordinal(), started) if weeks is not None and facts.signed_on is not None else None
    )
    candidates = {started, *held}
    if closed is not None:
        candidates.add(closed)
    for start, end in spells:
        candidates.update((start - 1, start))
        if end is not None:
            candidates.add(end)
    period = 7 * weeks if weeks is not None else 0
    if agreed_from is not None:
        candidates.add(agreed_from)
        # the days the meetings expected go up, from the agreement on: to the closing, or (still open) until
        # it is two or more behind for good (no meeting held after, expected past every one held)
        last_held = max(held[-1] if held else agreed_from, agreed_from)
        k = max(1, (agreed_from - started) // period)
        while True:
            day = started + k * period
            if closed is not None and day > closed:
                break
            candidates.add(day)
            if closed is None and day > last_held and k >= len(held) + 2:
                break
            k += 1
    previous: tuple[int, ...] = (0,) * n
    bisect_right = bisect.bisect_right
    for day in sorted(candidates):
        active = started <= day and (closed is None or day < closed)
        lagging_at = lagging_before = False
        for s, e in spells:
            if s <= day and (e is None or day < e):
                lagging_at = True
                break
        for s, e in spells_before:
            if s <= day and (e is None or day <= e):
                lagging_before = True
                break
        if agreed_from is None or day < agreed_from:
            now: tuple[int, ...] = (0, active, lagging_at, lagging_before, 0, 0, 0, 0, started <= day, 0, 0, 0, 0, 0, 0)
        else:
            agreed = closed is None or day < closed
            if agreed:  # counted up to the day itself (one search for both)
                until = day
                held_by = bisect_right(held, day)
                keeping = held_by >= (day - started) // period
            else:  # closed on or before the day: counted up to the closing
                until, keeping = closed, False
                held_by = bisect_right(held, until)
            expected = max(until - started, 0) // period
            behind = expected - held_by
            now = (
                0,
                active,
                lagging_at,
                lagging_before,
                0,
                agreed,
                keeping,
                0,
                started <= day,
                1,
                held_by,
                expected if closed is not None else 0,  # an open one's grow: added by the read
                behind <= 0,
                behind == 1,
                behind >= 2,
            )
        if now != previous:
            row = on(day)
            for i in compress(_MEASURE_INDEXES, map(ne, now, previous)):  # the measures that moved, found in C
                row[i] += now[i] - previous[i]
        previous = now
    return {day: values for day, values in out.items() if any(values)}


def month_of(day: date) -> int:
    return day.year * 12 + day.month - 1


_FACTS = """
    SELECT r.relationship_id, r.mentee_ids[1] AS mentee_id, r.started_on, r.signed_on, r.cadence_weeks,
           r.closed_on, r.closed_at, p.department, p.cohort,
           CASE WHEN EXISTS (SELECT 1 FROM {schema}.program_members pm
                             WHERE pm.program_id = pr.program_id AND pm.participant_id = r.mentee_ids[1])
                THEN pr.program_id END AS program_id,
           coalesce((SELECT array_agg(held_on ORDER BY held_on) FROM {schema}.activity_meetings m
                     WHERE m.relationship_id = r.relationship_id), '{{}}') AS held,
           coalesce((SELECT array_agg(logged_at ORDER BY logged_at) FROM {schema}.activity_meetings m
                     WHERE m.relationship_id = r.relationship_id), '{{}}') AS logged,
           coalesce((SELECT array_agg(lagging_at ORDER BY lagging_at) FROM {schema}.activity_lagging l
                     WHERE l.relationship_id = r.relationship_id), '{{}}') AS lagging
    FROM {schema}.activity_relationships r
    LEFT JOIN {schema}.participants p ON p.participant_id = r.mentee_ids[1]
    LEFT JOIN {schema}.program_relationships pr ON pr.relationship_id = r.relationship_id
    WHERE r.relationship_id = ANY($1) AND r.started_on IS NOT NULL
"""

Key = tuple[str | None, str | None, str | None]  # program, department, cohort
Started = dict[tuple[int, int], list[int]]  # (start month, month) → the changes of ``TOTALS``
_STARTED_COLUMNS = ("started_month", "month", *TOTALS)
_STARTED_TYPES = ("integer", "integer", *("integer",) * len(TOTALS))


async def defer(conn: asyncpg.Connection, schema: str) -> None:
    """Batches leave the sums alone until ``catch_up`` (a rebuild: ``generations.create_generation``)."""
    await conn.execute(f"INSERT INTO {schema}.rel_sum_deferred DEFAULT VALUES ON CONFLICT DO NOTHING")


CATCH_UP_CHUNK = 250  # relationships per read and COPY: three chunks are alive at once (read, computed, copied);
# at 500 the catch-up raised the projector's peak by 28 MB, at 250 by nothing measurable (bench/replay.py)
_KEY_COLUMNS = (
    "relationship_id",
    "mentee_id",
    "program_id",
    "department",
    "cohort",
    "started_on",
    "signed_on",
    "cadence_weeks",
    "closed_on",
)
_KEY_TYPES = ("text", "text", "text", "text", "text", "date", "date", "integer", "date")
_CHANGE_COLUMNS = ("relationship_id", "month", "days", "measures", "changes")
_MONTH_COLUMNS = ("program_id", "department", "cohort", "month", *MEASURES)
_MONTH_TYPES = ("text", "text", "text", "integer", *("integer",) * len(MEASURES))
_CHANGE_ROW = binary_copy.row_start(len(_CHANGE_COLUMNS))
_MEASURE_ELEMENTS = [binary_copy.int2_field(i) for i in range(len(MEASURES))]
_MEASURE_INDEXES = range(len(MEASURES))


async def catch_up(conn: asyncpg.Connection, schema: str) -> None:
    """The sums of every relationship, once, after a rebuild's batches (``generations.build_indexes``); from
    then on each batch keeps them. A replay of 300,000 events that kept them batch by batch spent 15.7 of its
    30.7 s in them (``bench/replay.py``): a relationship's facts were read and recomputed at each of its batches.
    Here the tables start empty, so nothing old is read or taken off: each chunk of relationships is computed,
    its rows sent as binary COPY, and the month sums added up on the way and copied at the end (summed by
    Postgres, ``INSERT … SELECT … GROUP BY`` over the days, they cost it more than the days' COPY; see the
    README's "What the sums cost the projector" for ``bench/replay.py``'s figures).

    Computing a chunk's rows is pure Python (``_encode_chunk``: 1.3 s CPU for the 5,874 relationships of 300,000
    events of ``bench/replay.py``'s history, Postgres 0.7 s for their reads and copies), so it runs in a worker
    thread while Postgres copies the chunk before and reads the next one; with the interpreter tuned as for the
    batches (``workers.tuned_for_batches``: the young objects collected less often, 0.9 s instead of 1.2 for the
    sweep). Worker processes were dearer on two cores: 4 s of CPU in them for the same chunks (starting them,
    pickling the facts)."""
    if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {schema}.rel_sum_deferred)"):
        return
    async with conn.transaction():
        # a rebuild's batches wrote no sums; anything there (a catch-up cut short cannot commit) is redone
        await conn.execute(
            f"TRUNCATE {schema}.rel_sum_changes, {schema}.rel_sum_keys, {schema}.rel_sum_months,"
            f" {schema}.rel_sum_started"
        )
        ids = await conn.fetchval(
            f"SELECT coalesce(array_agg(relationship_id ORDER BY relationship_id), '{{}}')"
            f" FROM {schema}.activity_relationships WHERE started_on IS NOT NULL"
        )
        months: dict[tuple[Key, int], list[int]] = {}
        started: Started = {}
        loop = asyncio.get_running_loop()
        with workers.tuned_for_batches(), workers.preparing_in("thread") as worker:
            encoding: asyncio.Future | None = None  # the chunk before, being computed
            for i in range(0, len(ids) + CATCH_UP_CHUNK, CATCH_UP_CHUNK):
                chunk = ids[i : i + CATCH_UP_CHUNK]
                facts = await conn.fetch(_FACTS.format(schema=schema), chunk) if chunk else None
                encoded = await encoding if encoding is not None else None
                # this chunk computed while Postgres copies the one before and reads the next
                encoding = (
                    loop.run_in_executor(worker, _encode_chunk, facts, months, started) if facts is not None else None
                )
                if encoded is not None:
                    await binary_copy.copy_encoded(conn, schema, "rel_sum_keys", _KEY_COLUMNS, encoded[0])
                    await binary_copy.copy_encoded(conn, schema, "rel_sum_changes", _CHANGE_COLUMNS, encoded[1])
        sums = [(*key, month, *values) for (key, month), values in months.items() if any(values)]
        month_rows = binary_copy.encode(_MONTH_TYPES, sums)
        await binary_copy.copy_encoded(conn, schema, "rel_sum_months", _MONTH_COLUMNS, month_rows)
        started_rows = [(*months_of, *values) for months_of, values in started.items() if any(values)]
        await binary_copy.copy_encoded(
            conn, schema, "rel_sum_started", _STARTED_COLUMNS, binary_copy.encode(_STARTED_TYPES, started_rows)
        )
        await conn.execute(f"DELETE FROM {schema}.rel_sum_deferred")


def _encode_chunk(
    facts: Sequence[asyncpg.Record], months: dict[tuple[Key, int], list[int]], started: Started
) -> tuple[bytes, bytes]:
    """The key rows and the ``rel_sum_changes`` rows of these relationships, as binary COPY streams; their changes
    added to ``months`` (per key and month) and their totals' to ``started`` (per start month and month)."""
    key_rows = []
    parts = [binary_copy.HEADER]
    for row in facts:
        key: Key = (row["program_id"], row["department"], row["cohort"])
        key_rows.append(_key_row(row, key))
        _encode_changes(row["relationship_id"], key, _changes(_facts(row)), months, parts, started, row["started_on"])
    parts.append(binary_copy.TRAILER)
    return binary_copy.encode(_KEY_TYPES, key_rows), b"".join(parts)


_DAYS: dict[int, tuple[int, bytes]] = {}
"""Per day (an ordinal): its month (``month_of``) and its encoded array element; a few thousand days at most."""
_VALUES: dict[int, bytes] = {}
"""Encoded array elements of the changes' values (small ints)."""


def _encoded_day(ordinal: int) -> tuple[int, bytes]:
    found = _DAYS.get(ordinal)
    if found is None:
        found = _DAYS[ordinal] = (month_of(date.fromordinal(ordinal)), binary_copy.ordinal_date_field(ordinal))
    return found


def _encode_changes(
    rid: str,
    key: Key,
    new: dict[int, list[int]],
    months: dict[tuple[Key, int], list[int]],
    parts: list[bytes],
    started: Started,
    started_on: date,
) -> None:
    """Append the ``rel_sum_changes`` rows of a relationship (a row per month it changes in, its changes in day
    and measure order) to a binary COPY stream, and add its changes to ``months`` under ``key`` and those of the
    totals to ``started`` under its start month (on the way: a pass of their own added 1 µs per day changed to a
    rebuild's catch-up, ``bench/replay.py``)."""
    rid_field = binary_copy.text_field(rid)
    started_month = month_of(started_on)
    month, total, totals = None, [], []
    days: list[bytes] = []
    measures: list[bytes] = []
    values: list[bytes] = []
    for day in sorted(new):
        found = _DAYS.get(day)
        if found is None:
            found = _encoded_day(day)
        if found[0] != month:
            if days:
                _encode_row(rid_field, month, days, measures, values, parts)
            month = found[0]
            days, measures, values = [], [], []
            total = months.get((key, month))
            if total is None:
                total = months[(key, month)] = [0] * len(MEASURES)
            totals = started.get((started_month, month))
            if totals is None:
                totals = started[(started_month, month)] = [0] * len(TOTALS)
        day_element = found[1]
        day_values = new[day]
        for i in compress(_MEASURE_INDEXES, day_values):  # a day changes two or three of the measures: the rest
            value = day_values[i]  # skipped in C, not one by one (``catch_up``, ``bench/replay.py``)
            total[i] += value
            if i >= IN_RANGE:
                totals[i - IN_RANGE] += value
            element = _VALUES.get(value)
            if element is None:
                element = _VALUES[value] = binary_copy.int4_field(value)
            days.append(day_element)
            measures.append(_MEASURE_ELEMENTS[i])
            values.append(element)
    if days:
        _encode_row(rid_field, month, days, measures, values, parts)


def _encode_row(
    rid_field: bytes, month: int, days: list[bytes], measures: list[bytes], values: list[bytes], parts: list[bytes]
) -> None:
    """One ``rel_sum_changes`` row: its three arrays have the same length, their headers encoded once per length."""
    headers = _HEADERS.get(len(days))
    if headers is None:
        headers = _HEADERS[len(days)] = _array_headers(len(days))
    parts += (_CHANGE_ROW, rid_field, binary_copy.int4_field(month), headers[0], *days)
    parts.append(headers[1])
    parts += measures
    parts.append(headers[2])
    parts += values


_HEADERS: dict[int, tuple[bytes, bytes, bytes]] = {}


def _array_headers(n: int) -> tuple[bytes, bytes, bytes]:
    """The headers of ``n``-element ``date[]``, ``smallint[]`` and ``integer[]`` fields (each element a 4-byte length
    and its value: 4, 2 and 4 bytes)."""
    return (
        binary_copy.array_header(binary_copy.DATE_OID, n, 8 * n),
        binary_copy.array_header(binary_copy.INT2_OID, n, 6 * n),
        binary_copy.array_header(binary_copy.INT4_OID, n, 8 * n),
    )


async def write(conn: asyncpg.Connection, schema: str, prepared: Prepared) -> None:
    """Recompute the relationships the batch touches (runs after the program and activity facts are written
    in the same transaction) and move the month sums by what changed."""
    if not (prepared.relationships or prepared.registered or prepared.named):
        return
    if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {schema}.rel_sum_deferred)"):
        return
    ids = set(prepared.relationships)
    if prepared.registered or prepared.named:
        # a membership is never taken back: only a relationship not counted under its program yet can change
        ids.update(
            await conn.fetchval(
                f"SELECT coalesce(array_agg(relationship_id), '{{}}') FROM {schema}.rel_sum_keys"
                " WHERE mentee_id = ANY($1) OR (mentee_id = ANY($2) AND program_id IS NULL)",
                list(prepared.registered),
                list(prepared.named),
            )
        )
    await _recompute(conn, schema, ids)


async def _recompute(conn: asyncpg.Connection, schema: str, ids: set[str]) -> None:
    """The relationships ``ids`` from their facts as they are now; the month sums moved by what changed."""
    if not ids:
        return
    wanted = list(ids)
    facts = await conn.fetch(_FACTS.format(schema=schema), wanted)
    old_keys = {
        r["relationship_id"]: r
        for r in await conn.fetch(f"SELECT * FROM {schema}.rel_sum_keys WHERE relationship_id = ANY($1)", wanted)
    }
    old_days: dict[str, dict[int, list[int]]] = defaultdict(dict)
    for rid, days, measures, values in await conn.fetch(
        f"SELECT relationship_id, days, measures, changes FROM {schema}.rel_sum_changes"
        " WHERE relationship_id = ANY($1)",
        wanted,
    ):
        for day, measure, value in zip(days, measures, values, strict=True):
            old_days[rid].setdefault(day.toordinal(), [0] * len(MEASURES))[measure] = value
    months: dict[tuple[Key, int], list[int]] = defaultdict(lambda: [0] * len(MEASURES))
    started: Started = {}
    changed, key_rows = [], []
    parts = [binary_copy.HEADER]
    seen = set()
    for row in facts:
        rid = row["relationship_id"]
        seen.add(rid)
        key: Key = (row["program_id"], row["department"], row["cohort"])
        new = _changes(_facts(row))
        key_row = _key_row(row, key)
        old = old_keys.get(rid)
        if old is not None and tuple(old.values()) == key_row and old_days.get(rid, {}) == new:
            continue
        changed.append(rid)
        key_rows.append(key_row)
        if old is not None:
            _add(months, (old["program_id"], old["department"], old["cohort"]), old_days.get(rid, {}), -1)
            _add_started(started, month_of(old["started_on"]), old_days.get(rid, {}), -1)
        _encode_changes(rid, key, new, months, parts, started, row["started_on"])
    for rid in old_keys.keys() - seen:  # not started any more: cannot happen, but the sums stay right
        old = old_keys[rid]
        changed.append(rid)
        _add(months, (old["program_id"], old["department"], old["cohort"]), old_days.get(rid, {}), -1)
        _add_started(started, month_of(old["started_on"]), old_days.get(rid, {}), -1)
    if not changed:
        return
    await conn.execute(f"DELETE FROM {schema}.rel_sum_changes WHERE relationship_id = ANY($1)", changed)
    await conn.execute(f"DELETE FROM {schema}.rel_sum_keys WHERE relationship_id = ANY($1)", changed)
    await _insert(
        conn,
        f"{schema}.rel_sum_keys",
        ("text", "text", "text", "text", "text", "date", "date", "integer", "date"),
        key_rows,
    )
    parts.append(binary_copy.TRAILER)
    await binary_copy.copy_encoded(conn, schema, "rel_sum_changes", _CHANGE_COLUMNS, b"".join(parts))
    await _move_sums(
        conn,
        f"{schema}.rel_sum_months",
        {"program_id": "text", "department": "text", "cohort": "text", "month": "integer"},
        MEASURES,
        [(*key, month, *values) for (key, month), values in months.items()],
    )
    await _move_sums(
        conn,
        f"{schema}.rel_sum_started",
        {"started_month": "integer", "month": "integer"},
        TOTALS,
        [(*months_of, *values) for months_of, values in started.items()],
    )


async def _move_sums(
    conn: asyncpg.Connection,
    table: str,
    keys: dict[str, str],
    measures: Sequence[str],
    rows: list[tuple[Any, ...]],
) -> None:
    """Move the sums of ``table`` (its ``keys`` columns and types, then ``measures``) by the differences ``rows``
    (the key's values, then the measures'); a row whose sums cancelled out is no row at all, as if it had never had
    any (``rel_sum_months`` per key and month, ``rel_sum_started`` per start month and month)."""
    rows = [row for row in rows if any(row[len(keys) :])]
    if not rows:
        return
    types = (*keys.values(), *("integer",) * len(measures))
    params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
    moved = ", ".join(f"{m} = s.{m} + EXCLUDED.{m}" for m in measures)
    await conn.execute(
        f"""INSERT INTO {table} AS s ({", ".join((*keys, *measures))}) SELECT * FROM unnest({params})
            ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {moved}""",
        *(list(column) for column in zip(*rows, strict=True)),
    )
    key_params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(keys.values()))
    await conn.execute(
        f"""DELETE FROM {table} s USING unnest({key_params}) AS u({", ".join(keys)})
            WHERE {" AND ".join(f"s.{k} IS NOT DISTINCT FROM u.{k}" for k in keys)}
              AND {" AND ".join(f"s.{m} = 0" for m in measures)}""",
        *(list(column) for column in list(zip(*rows, strict=True))[: len(keys)]),
    )


def _facts(row: asyncpg.Record) -> Facts:
    """A relationship's facts from its row of ``_FACTS`` (asyncpg gives its arrays as lists)."""
    return Facts(
        row["started_on"],
        row["signed_on"],
        row["cadence_weeks"],
        row["closed_on"],
        row["closed_at"],
        row["held"],
        row["logged"],
        row["lagging"],
    )


def _key_row(row: asyncpg.Record, key: Key) -> tuple[Any, ...]:
    """A relationship's ``rel_sum_keys`` row from its facts."""
    return (
        row["relationship_id"],
        row["mentee_id"],
        *key,
        row["started_on"],
        row["signed_on"],
        row["cadence_weeks"],
        row["closed_on"],
    )


def _add_started(started: Started, started_month: int, days: dict[int, list[int]], sign: int) -> None:
    """Add a relationship's changes of the totals (``TOTALS``) to ``started`` under its start month."""
    for day, values in days.items():
        totals = values[IN_RANGE:]
        if any(totals):
            month = _encoded_day(day)[0]
            kept = started.get((started_month, month))
            if kept is None:
                kept = started[(started_month, month)] = [0] * len(TOTALS)
            for i, value in enumerate(totals):
                kept[i] += sign * value


def _add(months: dict, key: Key, days: dict[int, list[int]], sign: int) -> None:
    for day, values in days.items():
        total = months[(key, _encoded_day(day)[0])]
        for i, value in enumerate(values):
            if value:
                total[i] += sign * value


async def _insert(conn: asyncpg.Connection, table: str, types: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if rows:
        params = ", ".join(f"${i + 1}::{t}[]" for i, t in enumerate(types))
        await conn.execute(
            f"INSERT INTO {table} SELECT * FROM unnest({params})", *(list(c) for c in zip(*rows, strict=True))
        )


async def apply_batch(conn: asyncpg.Connection, schema: str, events: Sequence[EnvelopeRecord]) -> None:
    await write(conn, schema, prepare(events))
