"""Program-evaluation figures for a small scripted program, checked against hand-computed values."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from services.analytics.adapters.dashboard_page import render
from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import ensure_live
from services.analytics.projecting.projector import Projector
from services.analytics.querying.dashboard import Filters, figures_as_rows, program_figures
from shared.bus import ensure_topics, new_producer
from shared.events.matching import MatchApproved, RequestRanked, RequestReviewed, RequestUnmatched
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.events.relationships import FeedbackSubmitted, RelationshipLagging, RelationshipStarted
from tests.integration.analytics.test_timeline_projection import DAY, T0, envelope, scenario

pytestmark = pytest.mark.integration


def person(cls, pid: str, department: str, **extra):
    profile = ProfileFields(biography="b", specialty="s", career_stage="senior", department=department)
    return cls(participant_id=pid, name=pid, email=f"{pid}@example.edu", profile=profile, **extra)


def program_events() -> list[tuple[str, object]]:
    """7 mentees (6 cardiology, 1 surgery), 3 mentors; m1 is the timeline scenario (matched at choice 2
    after 96 h, closed after 143 days); m2 matched at choice 1 after 48 h and is lagging; m3 declined;
    m4 unmatched; two survey answers (4 and 5)."""
    events = [
        ("profiles", envelope(person(MentorRegistered, p, "Cardiology", capacity=2), p, T0 - 30 * DAY, "profiles"))
        for p in ("a", "b", "c")
    ]
    events += [
        ("profiles", envelope(person(MenteeRegistered, f"m{i}", "Cardiology"), f"m{i}", T0 - 20 * DAY, "profiles"))
        for i in range(1, 7)
    ]
    events.append(("profiles", envelope(person(MenteeRegistered, "m7", "Surgery"), "m7", T0 - 20 * DAY, "profiles")))
    events += scenario()
    ask = lambda r, m: RequestRanked(request_id=r, mentee_id=m, biography="b", motivation="m", ranked_mentor_ids=["c"])  # noqa: E731
    events += [
        ("matching", envelope(ask("req-2", "m2"), "req-2", T0, "matching")),
        (
            "matching",
            envelope(RequestReviewed(request_id="req-2", reviewer_id="dir", approved=True), "req-2", T0, "matching", 2),
        ),
        (
            "matching",
            envelope(
                MatchApproved(
                    match_id="match-2",
                    mentee_id="m2",
                    mentor_id="c",
                    mode="director",
                    request_id="req-2",
                    choice_rank=1,
                ),
                "match-2",
                T0 + 2 * DAY,
                "matching",
            ),
        ),
        (
            "relationships",
            envelope(
                RelationshipStarted(
                    relationship_id="rel-2",
                    model="one_to_one",
                    mentor_id="c",
                    mentee_ids=["m2"],
                    match_id="match-2",
                    started_on=date(2026, 1, 8),
                ),
                "rel-2",
                T0 + 3 * DAY,
                "relationships",
            ),
        ),
        (
            "relationships",
            envelope(
                RelationshipLagging(relationship_id="rel-2", last_meeting_on=None, days_since=70, cadence_weeks_max=8),
                "rel-2",
                T0 + 73 * DAY,
                "relationships",
                2,
            ),
        ),
        ("matching", envelope(ask("req-3", "m3"), "req-3", T0, "matching")),
        (
            "matching",
            envelope(
                RequestReviewed(
                    request_id="req-3", reviewer_id="dir", approved=False, decline_reason="not a mentoring request"
                ),
                "req-3",
                T0 + DAY,
                "matching",
                2,
            ),
        ),
        ("matching", envelope(ask("req-4", "m4"), "req-4", T0, "matching")),
        (
            "matching",
            envelope(
                RequestUnmatched(request_id="req-4", mentee_id="m4", tried_mentor_ids=["c"]),
                "req-4",
                T0 + 9 * DAY,
                "matching",
                2,
            ),
        ),
    ]
    for i, (who, role, score) in enumerate((("m1", "mentee", 5), ("b", "mentor", 4))):
        answer = FeedbackSubmitted(
            relationship_id="rel-1",
            survey="relationship_feedback",
            respondent_id=who,
            respondent_role=role,
            satisfaction=score,
            goals_met=True,
            would_recommend=score == 5,
        )
        events.append(
            ("relationships", envelope(answer, "rel-1", T0 + 148 * DAY + timedelta(minutes=i), "relationships", 9 + i))
        )
    return events


async def publish_and_project(pool, bootstrap: str, topic_name: str, events: list) -> tuple:
    """``events`` ((owner, envelope) pairs) published to a real broker, projected into real Postgres."""
    from shared.db import migrate, migrations_from_package

    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    topics = {owner: f"{topic_name}.{owner}" for owner, _ in events}
    await ensure_topics(bootstrap, list(topics.values()), partitions=2)
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        for owner, env in events:
            await producer.send_and_wait(topics[owner], env.to_bytes(), key=env.subject.encode())
    finally:
        await producer.stop()
    generation = await ensure_live(pool)
    await Projector(pool, bootstrap, generation, list(topics.values())).run(asyncio.Event(), until_caught_up=True)
    return pool, schema_name(generation)


@pytest.fixture
async def projected(pool, broker, topic_name):
    return await publish_and_project(pool, broker.bootstrap, topic_name, program_events())


async def figures(projected, min_cell: int = 2, **filters) -> dict:
    pool, schema = projected
    async with pool.acquire() as conn:
        return await program_figures(conn, schema, Filters(**filters), min_cell)


async def test_figures_match_the_hand_computed_ones(projected) -> None:
    result = await figures(projected)
    assert result["participants"] == {
        "mentors": 3,
        "mentees": 7,
        "left_institution": 0,
        "mentor_capacity": 6,
        "by_department": [
            {"department": "Cardiology", "mentors": 3, "mentees": 6},
            {"department": "Surgery", "mentors": 0, "mentees": None},
        ],  # one person: withheld
    }
    assert result["requests"] == {
        "submitted": 4,
        "approved": 2,
        "declined": 1,
        "matched": 2,
        "unmatched": 1,
        "withdrawn": 0,
        "match_rate": 0.5,
        "time_to_match_hours": {"median": 48.0, "p90": 96.0},
        "matched_by_choice_rank": {"1": 1, "2": 1, "3": 0},
    }
    relationships = result["relationships"]
    assert (relationships["started"], relationships["active"], relationships["closed"]) == (2, 1, 1)
    assert (relationships["lagging_now"], relationships["ever_lagging"]) == (1, 1)
    assert relationships["closure_reasons"] == {"objectives_achieved": None}  # a single closure: withheld
    assert relationships["median_duration_days"] == 143
    assert result["satisfaction"] == {
        "answers": 2,
        "mean": 4.5,
        "goals_met_rate": 1.0,
        "would_recommend_rate": 0.5,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": None, "5": None},
    }


async def test_filters_and_small_populations(projected) -> None:
    surgery = await figures(projected, department="Surgery")
    assert surgery["suppressed"] is True and "participants" not in surgery
    cardiology = await figures(projected, department="Cardiology")
    assert cardiology["participants"]["mentees"] == 6 and cardiology["requests"]["submitted"] == 4
    early = await figures(projected, end=date(2026, 1, 5))
    assert early["relationships"]["started"] == 0 and early["requests"]["submitted"] == 4
    default_cells = await figures(projected, min_cell=5)
    assert default_cells["satisfaction"] == {"answers": 2, "suppressed": True}
    nothing_withheld = await figures(projected, min_cell=0, end=date(2026, 1, 5))  # no answers yet, no cell hidden
    assert nothing_withheld["satisfaction"] == {"answers": 0, "suppressed": False}


async def test_csv_rows_and_page_carry_the_same_withheld_cells(projected) -> None:
    result = await figures(projected)
    rows = dict(figures_as_rows(result))
    assert rows["participants.by_department[Surgery].mentees"] is None
    assert rows["requests.match_rate"] == 0.5
    page = render(result, "")
    assert page.count("<svg") == 14 and "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "&lt;2" in page and "<2" not in page  # withheld cells are labelled (escaped), not drawn


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_figures_do_not_depend_on_the_order_across_streams(pool, seed) -> None:
    """Kafka orders events per key only: interleave the streams at random, keeping each stream's own order."""
    import random

    from services.analytics.projecting.generations import create_generation
    from services.analytics.projecting.projections import ALL
    from shared.db import migrate, migrations_from_package

    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    streams: dict[str, list] = {}
    for owner, env in program_events():
        streams.setdefault(f"{owner}:{env.subject}", []).append(env)
    rng = random.Random(seed)
    shuffled, generations = [], []
    while streams:
        key = rng.choice(sorted(streams))
        shuffled.append(streams[key].pop(0))
        if not streams[key]:
            del streams[key]
    for order in ([env for _, env in program_events()], shuffled):
        async with pool.acquire() as conn:
            generation = await create_generation(conn)
            async with conn.transaction():
                for projection in ALL:
                    await projection.apply_batch(conn, schema_name(generation), order)
        generations.append(generation)
    in_order, interleaved = [await figures((pool, schema_name(g))) for g in generations]
    assert interleaved == in_order
