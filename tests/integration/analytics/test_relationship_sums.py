"""Lagging and cadence from the projector's per-month sums, and fast starts counted by Postgres, equal a scan.

``tests/analytics_oracle.py`` keeps the computation the dashboard made before the sums (every relationship
with all its meetings and nudges, read at each cold read). Every comparison below projects a history into
real Postgres and asks both, for the same filters and "now": the scripted scenarios, the committed v1
history, and randomized histories (hypothesis) with re-registrations that move a mentee to another
department, closures, agreements signed late, nudges and meetings in any order, an ``end`` before,
inside or after the history, ``start`` cropping, and the program filter. Batches of random sizes, one
batch, and a rebuild (sums computed once at its end) must build the same sums.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, date, datetime, time, timedelta

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import build_indexes, create_generation
from services.analytics.projecting.projections import ALL
from services.analytics.projecting.projections.relationship_sums import TOTALS
from services.analytics.querying.dashboard import Filters
from services.analytics.querying.evaluation import _forwards, fast_starts
from services.analytics.querying.periods import as_of
from services.analytics.querying.trends import relationship_figures
from shared.db import create_pool, migrate, migrations_from_package
from shared.envelope import Envelope, read_envelope
from shared.events import profiles, relationships
from shared.events.matching import MatchApproved, ParticipantEnrolled
from tests.analytics_oracle import cadence, fast_starts_scan, forwards_joined, lagging_over_time, relationship_facts
from tests.fixtures.history import history_v1
from tests.helpers import envelope_of
from tests.integration.analytics.test_dashboard import person
from tests.integration.analytics.test_dashboard_trends import trend_events

pytestmark = pytest.mark.integration


async def project(
    conn: asyncpg.Connection, events: list, sizes: list[int] | None = None, *, rebuild: bool = False
) -> str:
    """``events`` (envelopes) through every projection into a new generation, in batches of ``sizes``
    (cycled; default one batch). ``rebuild``: as a rebuild builds it, indexes and sums at the end."""
    generation = await create_generation(conn, defer_indexes=rebuild)
    schema = schema_name(generation)
    sizes = sizes or [len(events) or 1]
    i, n = 0, 0
    while i < len(events):
        batch = events[i : i + sizes[n % len(sizes)]]
        async with conn.transaction():
            for projection in ALL:
                await projection.apply_batch(conn, schema, batch)
        i, n = i + len(batch), n + 1
    if rebuild:
        await build_indexes(conn, generation)
    return schema


async def same_figures(conn: asyncpg.Connection, schema: str, filters: Filters) -> None:
    """The sums' figures are the scan's, and the fast starts Postgres counts are the Python scan's (as JSON:
    an int stays an int, a float a float)."""
    now = await as_of(conn, schema, filters)
    rows = await relationship_facts(conn, schema, filters)
    scanned = (lagging_over_time(rows, filters, now), cadence(rows, filters, now))
    assert await relationship_figures(conn, schema, filters, now) == scanned, (filters, now)
    for min_cell in (1, 2, 5):
        counted = await fast_starts(conn, schema, filters, now, min_cell, filters.program)
        expected = await fast_starts_scan(conn, schema, filters, now, min_cell, filters.program)
        assert json.dumps(counted) == json.dumps(expected), (filters, now, min_cell)


async def sums(conn: asyncpg.Connection, schema: str) -> tuple[list, list, list, list]:
    """The sums' rows (months whose sums are all zero left out: a difference that cancelled), and the fast starts'
    rows (``projections/fast_starts.py``: kept batch by batch, or written at a rebuild's end)."""
    months = await conn.fetch(f"SELECT * FROM {schema}.rel_sum_months ORDER BY program_id, department, cohort, month")
    days = await conn.fetch(f"SELECT * FROM {schema}.rel_sum_days ORDER BY relationship_id, day, measure")
    keys = await conn.fetch(f"SELECT * FROM {schema}.rel_sum_keys ORDER BY relationship_id")
    nonzero = [tuple(r.values()) for r in months if any(v for k, v in r.items() if k not in _KEY)]
    starts = await conn.fetch(f"SELECT * FROM {schema}.fast_starts ORDER BY relationship_id")
    return nonzero, [tuple(r.values()) for r in days], [tuple(r.values()) for r in keys], [tuple(r) for r in starts]


_KEY = ("program_id", "department", "cohort", "month")


@pytest.fixture
async def conn(pool):
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    async with pool.acquire() as conn:
        yield conn


def _ends(first: date, last: date) -> list[date | None]:
    return [None, first - timedelta(days=3), first + (last - first) / 2, last + timedelta(days=40)]


async def test_the_scripted_scenario_gives_the_scanned_figures_in_one_batch_or_many(conn) -> None:
    events = [env for _, env in trend_events()]
    random.Random(7).shuffle(events)
    one = await project(conn, events)
    many = await project(conn, events, [3, 1, 7])
    rebuilt = await project(conn, events, [3, 1, 7], rebuild=True)
    assert await sums(conn, one) == await sums(conn, many) == await sums(conn, rebuilt)
    for end in _ends(date(2026, 1, 8), date(2026, 6, 2)):
        for start in (None, date(2026, 2, 13), date(2026, 6, 1)):
            for key in ({}, {"department": "Oncology"}, {"department": "Cardiology"}, {"program": "default"}):
                await same_figures(conn, one, Filters(start=start, end=end, **key))
    await same_figures(conn, one, Filters(cohort="2025-12"))


async def test_the_v1_history_gives_the_scanned_figures(conn) -> None:
    events = [read_envelope(json.dumps(r["value"]).encode()) for r in history_v1()]
    schema = await project(conn, events, [500])
    departments = await conn.fetch(f"SELECT DISTINCT department, cohort FROM {schema}.participants")
    first, last = (await conn.fetchrow(f"SELECT min(started_on), max(started_on) FROM {schema}.rel_sum_keys")).values()
    await same_figures(conn, schema, Filters())
    for end in _ends(first, last):
        await same_figures(conn, schema, Filters(end=end, start=first + timedelta(days=5)))
    for row in departments:
        await same_figures(conn, schema, Filters(department=row["department"]))
        await same_figures(conn, schema, Filters(cohort=row["cohort"], program="default"))


async def test_the_answers_kept_per_forward_give_the_joined_responsiveness(conn) -> None:
    """Responsiveness from ``answer_days`` (kept batch by batch, in any order, or written at a rebuild's end) equals
    the join of forwards, answers and requests it replaced, for every "now" and filter, on the v1 history."""
    events = [read_envelope(json.dumps(r["value"]).encode()) for r in history_v1()]
    random.Random(11).shuffle(events)
    one = await project(conn, events)
    many = await project(conn, events, [5, 1, 9])
    rebuilt = await project(conn, events, [5, 1, 9], rebuild=True)
    rows = [await conn.fetch(f"SELECT * FROM {s}.answer_days ORDER BY request_id, choice_rank") for s in (one, many)]
    assert rows[0] and rows[0] == rows[1] == await conn.fetch(
        f"SELECT * FROM {rebuilt}.answer_days ORDER BY request_id, choice_rank"
    )
    first, last = (
        await conn.fetchrow(f"SELECT min(forwarded_at)::date, max(answered_at)::date FROM {many}.answer_days")
    ).values()
    departments = [r["department"] for r in await conn.fetch(f"SELECT DISTINCT department FROM {many}.participants")]
    for now in (first - timedelta(days=1), first, first + (last - first) / 2, last, last + timedelta(days=1)):
        for program in (None, "default", "another"):
            for department in (None, *departments):
                filters = Filters(department=department, end=now, program=program)
                expected = await forwards_joined(conn, many, filters, now, program)
                assert await _forwards(conn, many, filters, now, program) == expected, (now, program, department)


# --- randomized histories ---------------------------------------------------------------------------

DAY0 = date(2025, 1, 1)
DEPARTMENTS = ("Oncology", "Surgery")
PROGRAMS = ("default", "residents")


def _at(day: date, minute: int) -> datetime:
    return datetime.combine(day, time(0), UTC) + timedelta(minutes=minute)


def _envelope(event, subject: str, at: datetime, source: str) -> Envelope:
    return envelope_of(event, subject, f"/services/{source}", time=at)


days = st.integers(min_value=0, max_value=700)
minutes = st.integers(min_value=0, max_value=3 * 24 * 60)


@st.composite
def histories(draw) -> list[Envelope]:
    events: list[Envelope] = []
    mentees = [f"m{i}" for i in range(draw(st.integers(1, 5)))]
    for mentee in mentees:
        if draw(st.integers(0, 5)):  # a mentee may never register (no department or cohort)
            department = draw(st.sampled_from(DEPARTMENTS))
            registered = _at(DAY0 + timedelta(days=draw(st.integers(0, 120))), draw(minutes))
            events.append(
                _envelope(person(profiles.MenteeRegistered, mentee, department), mentee, registered, "profiles")
            )
        if draw(st.booleans()):  # registers again (as a mentor) in another department: moves there
            event = person(profiles.MentorRegistered, mentee, draw(st.sampled_from(DEPARTMENTS)), capacity=1)
            events.append(_envelope(event, mentee, _at(DAY0 + timedelta(days=draw(days)), 1), "profiles"))
        if draw(st.booleans()):
            enrolled = ParticipantEnrolled(
                program_id=draw(st.sampled_from(PROGRAMS)), participant_id=mentee, role="mentee", enrolled_by="dir"
            )
            events.append(_envelope(enrolled, mentee, _at(DAY0, draw(minutes)), "matching"))
    for n in range(draw(st.integers(1, 6))):
        rel = f"rel-{n}"
        started = DAY0 + timedelta(days=draw(days))
        start = relationships.RelationshipStarted(
            relationship_id=rel,
            model="one_to_one",
            mentor_id="a",
            mentee_ids=[draw(st.sampled_from(mentees))],
            match_id=f"match-{n}",
            started_on=started,
            program_id=draw(st.sampled_from(PROGRAMS)),
        )
        events.append(_envelope(start, rel, _at(started, draw(minutes)), "relationships"))
        if draw(st.booleans()):  # matched some days before it started (fast starts count from the match)
            match = MatchApproved(
                match_id=f"match-{n}",
                mentee_id=start.mentee_ids[0],
                mentor_id="a",
                mode="director",
                request_id=f"req-{n}",
                choice_rank=1,
                program_id=start.program_id,
            )
            matched = _at(started - timedelta(days=draw(st.integers(0, 60))), draw(minutes))
            events.append(_envelope(match, f"match-{n}", matched, "matching"))
        if draw(st.integers(0, 3)):
            signed = started + timedelta(days=draw(st.integers(-5, 90)))
            agreement = relationships.AgreementSigned(
                relationship_id=rel,
                format="video",
                confidentiality_accepted=True,
                no_fault_termination_acknowledged=True,
                signed_by=["a", *start.mentee_ids],
                signed_on=signed,
                review_due_on=date(2028, 1, 1),
                cadence_weeks_min=1,
                cadence_weeks_max=draw(st.integers(1, 8)),
            )
            events.append(_envelope(agreement, rel, _at(signed, draw(minutes)), "relationships"))
        for m in range(draw(st.integers(0, 8))):
            held = started + timedelta(days=draw(st.integers(-10, 400)))
            meeting = relationships.MeetingLogged(
                relationship_id=rel, meeting_id=f"{rel}-{m}", held_on=held, duration_minutes=30, format="video"
            )
            logged = _at(held + timedelta(days=draw(st.integers(0, 40))), draw(minutes))
            events.append(_envelope(meeting, rel, logged, "relationships"))
        for _ in range(draw(st.integers(0, 4))):
            nudge = relationships.RelationshipLagging(
                relationship_id=rel, last_meeting_on=None, days_since=60, cadence_weeks_max=8
            )
            events.append(
                _envelope(nudge, rel, _at(started + timedelta(days=draw(days)), draw(minutes)), "relationships")
            )
        if draw(st.booleans()):
            closed_on = started + timedelta(days=draw(st.integers(0, 500)))
            closed = relationships.RelationshipClosed(
                relationship_id=rel,
                reason="program_ended",
                mentor_id="a",
                mentee_ids=list(start.mentee_ids),
                rematch_requested=False,
                closed_on=closed_on,
            )
            lag = draw(st.integers(-2, 20))  # recorded around its day, now and then before it
            events.append(_envelope(closed, rel, _at(closed_on + timedelta(days=lag), draw(minutes)), "relationships"))
    return draw(st.permutations(events))


async def _check_random(dsn: str, events: list[Envelope], sizes: list[int], probes: list[tuple]) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            one = await project(conn, events)
            many = await project(conn, events, sizes)
            rebuilt = await project(conn, events, sizes, rebuild=True)
            assert await sums(conn, one) == await sums(conn, many) == await sums(conn, rebuilt)
            for department, cohort, program, start, end in probes:
                filters = Filters(department=department, cohort=cohort, start=start, end=end, program=program)
                await same_figures(conn, many, filters)
            for schema in (one, many, rebuilt):
                await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await pool.close()


optional_day = st.one_of(st.none(), days.map(lambda d: DAY0 + timedelta(days=d - 60)))
probes = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(DEPARTMENTS)),
        st.one_of(st.none(), st.sampled_from(["2025-01", "2025-02", "2025-03", "2025-04"])),
        st.one_of(st.none(), st.sampled_from(PROGRAMS)),
        optional_day,
        optional_day,
    ),
    min_size=3,
    max_size=6,
).map(lambda found: [(None, None, None, None, None), *found])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=histories(), sizes=st.lists(st.integers(1, 9), min_size=1, max_size=4), probes=probes)
def test_random_histories_give_the_scanned_figures(migrated_dsn: str, events, sizes, probes) -> None:
    asyncio.run(_check_random(migrated_dsn, events, sizes, probes))


@pytest.fixture
def migrated_dsn(fresh_dsn: str) -> str:
    async def run() -> None:
        pool = await create_pool(fresh_dsn, min_size=1, max_size=1)
        try:
            await migrate(pool, migrations_from_package("services.analytics.migrations"))
        finally:
            await pool.close()

    asyncio.run(run())
    return fresh_dsn


async def test_fast_starts_counted_by_postgres_keep_the_edges_of_the_window(conn) -> None:
    """The cases of the unit test of the scan's rule, through the projections and Postgres' counts: 30 days is
    fast, 31 lagging; nothing after 120 days is lagging; fast already within its window counts; a window still
    open counts neither way; signed after "now" is not yet."""
    cases = [
        (date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1)),
        (date(2026, 3, 1), None, None),
        (date(2026, 6, 20), date(2026, 6, 25), None),
        (date(2026, 6, 20), None, None),
        (date(2026, 6, 20), date(2026, 7, 1), None),
    ]
    events = []
    for n, (matched, signed, met) in enumerate(cases):
        rel = f"rel-{n}"
        match = MatchApproved(match_id=f"match-{n}", mentee_id=f"m{n}", mentor_id="a", mode="admin")
        events.append(_envelope(match, f"match-{n}", _at(matched, 600), "matching"))
        start = relationships.RelationshipStarted(
            relationship_id=rel,
            model="one_to_one",
            mentor_id="a",
            mentee_ids=[f"m{n}"],
            match_id=f"match-{n}",
            started_on=matched,
        )
        events.append(_envelope(start, rel, _at(matched, 700), "relationships"))
        if signed:
            agreement = relationships.AgreementSigned(
                relationship_id=rel,
                format="video",
                confidentiality_accepted=True,
                no_fault_termination_acknowledged=True,
                signed_by=["a", f"m{n}"],
                signed_on=signed,
                review_due_on=date(2028, 1, 1),
            )
            events.append(_envelope(agreement, rel, _at(signed, 600), "relationships"))
        if met:
            meeting = relationships.MeetingLogged(
                relationship_id=rel, meeting_id=f"{rel}-1", held_on=met, duration_minutes=30, format="video"
            )
            events.append(_envelope(meeting, rel, _at(met, 600), "relationships"))
    schema = await project(conn, events)
    now = date(2026, 6, 29)
    group = (await fast_starts(conn, schema, Filters(end=now), now, 2))["overall"]
    assert group == {
        "relationships": 5,
        "median_days_to_agreement": 17.5,  # 30 and 5
        "agreement_within_30_days_rate": 0.6667,  # 2 fast of 3 decided
        "median_days_to_first_meeting": None,  # one meeting: withheld
        "first_meeting_within_30_days_rate": 0.0,  # 0 fast of the 2 whose window has passed
    }
    assert (await fast_starts(conn, schema, Filters(end=now), now, 6))["overall"]["relationships"] is None
    await same_figures(conn, schema, Filters(end=now))


async def started_sums(conn: asyncpg.Connection, schema: str) -> list[tuple]:
    """``rel_sum_started``'s rows, and the same totals summed from the relationships' days (they must agree)."""
    kept = await conn.fetch(f"SELECT * FROM {schema}.rel_sum_started ORDER BY started_month, month")
    summed = await conn.fetch(
        f"""SELECT (extract(year FROM s.started_on) * 12 + extract(month FROM s.started_on) - 1)::int AS started_month,
                   d.month, d.measure, sum(d.change)::int AS change
            FROM {schema}.rel_sum_days d JOIN {schema}.rel_sum_keys s USING (relationship_id)
            WHERE d.measure = ANY($1) GROUP BY 1, 2, 3""",
        list(TOTALS),
    )
    expected: dict[tuple[int, int], dict[str, int]] = {}
    for r in summed:
        expected.setdefault((r["started_month"], r["month"]), dict.fromkeys(TOTALS, 0))[r["measure"]] = r["change"]
    rows = [(r["started_month"], r["month"], *(r[m] for m in TOTALS)) for r in kept]
    assert rows == [(*k, *v.values()) for k, v in sorted(expected.items()) if any(v.values())]
    return rows


async def test_the_totals_per_start_month_are_the_days_summed_in_one_batch_many_or_a_rebuild(conn) -> None:
    """A period filter sums ``rel_sum_started`` (``trends._started_totals``): kept by every batch, or computed once
    at a rebuild's end, it holds the totals of the relationships' days (re-registrations and closures included)."""
    events = [read_envelope(json.dumps(r["value"]).encode()) for r in history_v1()]
    trend = [env for _, env in trend_events()]
    random.Random(11).shuffle(trend)
    for history in (events, trend):
        one = await project(conn, history)
        many = await project(conn, history, [5, 1, 37])
        rebuilt = await project(conn, history, [5, 1, 37], rebuild=True)
        assert await started_sums(conn, one) == await started_sums(conn, many) == await started_sums(conn, rebuilt)
        assert await started_sums(conn, one)
