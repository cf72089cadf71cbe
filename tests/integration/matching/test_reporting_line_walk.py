"""The reporting line read in SQL (only the lines asked for) gives the same answers as the whole tables did.

The oracle is the computation matching ran before: both tables read in full, ``participant_supervisors`` over
them.  Org charts are drawn at random (cycles, self-supervision, managers HR never sent, employees nobody
supervises, several participants on one employee, participants with no employee, transfers and late records
through ``record``) and walked with one statement's level bound as deployed and as small as 1, so that lines
longer than a statement walks are continued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from services.matching.adapters import reporting_lines
from services.matching.adapters.reporting_lines import PostgresReportingLines
from services.matching.domain.hard_filters import InReportingLine
from services.matching.domain.reporting_line import participant_supervisors
from shared.db import create_pool, migrate, migrations_from_package, shared_migrations

_BOTH_TABLES = """
SELECT true AS participant, participant_id AS a, employee_id AS b FROM participant_employees
UNION ALL
SELECT false, employee_id, supervisor_id FROM hr_supervisors
"""
DAY0 = date(2024, 1, 1)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


async def whole_tables(conn: asyncpg.Connection) -> dict[str, str]:
    """The oracle: what ``PostgresReportingLines.supervisors`` answered before it walked only the lines asked for."""
    rows = await conn.fetch(_BOTH_TABLES)
    return participant_supervisors(
        {r["a"]: r["b"] for r in rows if r["participant"]},
        {r["a"]: r["b"] for r in rows if not r["participant"]},
    )


@pytest_asyncio.fixture
async def pool(fresh_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_dsn, min_size=1, max_size=2)
    await migrate(pool, shared_migrations() + migrations_from_package("services.matching.migrations"))
    yield pool
    await pool.close()


employees = st.sampled_from([f"E{i}" for i in range(12)])
supervisors = st.one_of(st.none(), employees, st.sampled_from(["GONE1", "GONE2"]))  # GONE*: never sent by HR
records = st.lists(  # (employee, supervisor, effective day, recorded second): a later one is a transfer or late
    st.tuples(employees, supervisors, st.integers(0, 3), st.integers(0, 3)), max_size=30
)
links = st.dictionaries(st.sampled_from([f"P{i}" for i in range(10)]), employees, max_size=10)


async def chart(conn: asyncpg.Connection, recs: list, linked: dict[str, str]) -> None:
    await conn.execute("TRUNCATE hr_supervisors, participant_employees")
    lines = PostgresReportingLines()
    for employee_id, supervisor_id, day, second in recs:
        await lines.record(conn, employee_id, supervisor_id, DAY0 + timedelta(days=day), T0 + timedelta(seconds=second))
    for participant_id, employee_id in linked.items():
        await lines.link(conn, participant_id, employee_id)


async def differences(conn: asyncpg.Connection, asked: list[list[str]]) -> list[tuple]:
    """(participants asked together, participant, oracle's line above, the walk's line above) where they differ."""
    oracle = InReportingLine(await whole_tables(conn))
    found = []
    for together in asked:
        walked = InReportingLine(await PostgresReportingLines().supervisors(conn, together))
        for p in together:
            if (want := list(oracle.line_above(p))) != (got := list(walked.line_above(p))):
                found.append((together, p, want, got))
    return found


@pytest.mark.parametrize("levels", [1, 2, reporting_lines.LEVELS_PER_STATEMENT])
async def test_the_walk_answers_as_the_whole_tables_on_random_org_charts(pool, monkeypatch, levels) -> None:
    monkeypatch.setattr(reporting_lines, "LEVELS_PER_STATEMENT", levels)
    loop = asyncio.get_running_loop()

    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(recs=records, linked=links, data=st.data())
    # the unit tests' charts: managers who take no part are skipped; a cycle ends the walk
    @example(
        recs=[("E4", "E3", 0, 0), ("E3", "E2", 0, 0), ("E2", "E1", 0, 0), ("E5", "E1", 0, 0), ("E1", None, 0, 0)],
        linked={"P4": "E4", "P1": "E1", "P5": "E5"},
        data=None,
    )
    @example(
        recs=[("E1", "E3", 0, 0), ("E3", "E1", 0, 0), ("E2", "E1", 0, 0)], linked={"P1": "E1", "P2": "E2"}, data=None
    )
    # two participants on one employee inside a cycle: the other one is above
    @example(recs=[("E1", "E2", 0, 0), ("E2", "E1", 0, 0)], linked={"P2": "E1", "P1": "E1", "P3": "E2"}, data=None)
    def check(recs, linked, data) -> None:
        everyone = [*sorted(linked), "P9-unlinked"]
        asked = [[p] for p in everyone] + [everyone]
        if data is not None:
            asked.append(data.draw(st.lists(st.sampled_from(everyone), unique=True, min_size=1), label="bulk"))

        async def run() -> list[tuple]:
            async with pool.acquire() as conn:
                await chart(conn, recs, linked)
                return await differences(conn, asked)

        assert asyncio.run_coroutine_threadsafe(run(), loop).result() == []

    await asyncio.to_thread(check)


async def test_long_lines_and_long_cycles_are_walked_to_their_end(pool) -> None:
    """Lines longer than a statement walks: a chain of 200 employees, and a cycle of 100 with a tail."""
    chain = [(f"C{i}", f"C{i + 1}" if i < 199 else None) for i in range(200)]
    cycle = [(f"Y{i}", f"Y{(i + 1) % 100}") for i in range(100)] + [("T0", "Y0")]
    linked = {f"PC{i}": f"C{i}" for i in range(0, 200, 7)} | {f"PY{i}": f"Y{i}" for i in range(0, 100, 9)}
    linked["PT"] = "T0"
    async with pool.acquire() as conn:
        await chart(conn, [(e, s, 0, 0) for e, s in chain + cycle], linked)
        assert await differences(conn, [["PC0"], ["PT"], ["PY9", "PC7"], sorted(linked)]) == []
        above = InReportingLine(await PostgresReportingLines().supervisors(conn, ["PC0"]))
        assert list(above.line_above("PC0")) == [f"PC{i}" for i in range(7, 200, 7)]
