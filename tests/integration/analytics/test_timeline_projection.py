"""Timeline projection fed from the real broker into real Postgres: order, links, durations, replay."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from services.analytics.generation_names import schema_name
from services.analytics.projecting.generations import create_generation, ensure_live
from services.analytics.projecting.projector import Projector
from services.analytics.querying.timelines import participant_timeline, relationship_timeline
from shared.bus import ensure_topics, new_producer
from shared.db import migrate, migrations_from_package
from shared.envelope import Envelope
from shared.events import Event
from shared.events.matching import MatchApproved, MentorResponded, RequestForwarded, RequestRanked, RequestReviewed
from shared.events.relationships import AgreementSigned, MeetingLogged, RelationshipClosed, RelationshipStarted

pytestmark = pytest.mark.integration

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def envelope(event: Event, subject: str, at: datetime, source: str, sequence: int = 1) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source=f"/services/{source}",
        type=event.type_name(),
        time=at,
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=sequence,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


def scenario() -> list[tuple[str, Envelope]]:
    """Mentee m1 asks for a then b; a declines, b accepts; they sign, meet once, and close."""
    request = dict(request_id="req-1")
    matching = [
        (
            RequestRanked(
                **request, mentee_id="m1", biography="PRIVATE BIO", motivation="grow", ranked_mentor_ids=["a", "b"]
            ),
            T0,
        ),
        (RequestReviewed(**request, reviewer_id="dir", approved=True), T0 + DAY),
        (RequestForwarded(**request, mentee_id="m1", mentor_id="a", choice_rank=1, respond_by=T0 + 8 * DAY), T0 + DAY),
        (MentorResponded(**request, mentor_id="a", choice_rank=1, accepted=False), T0 + 3 * DAY),
        (
            RequestForwarded(**request, mentee_id="m1", mentor_id="b", choice_rank=2, respond_by=T0 + 10 * DAY),
            T0 + 3 * DAY,
        ),
        (MentorResponded(**request, mentor_id="b", choice_rank=2, accepted=True), T0 + 4 * DAY),
        (
            MatchApproved(
                match_id="match-1",
                mentee_id="m1",
                mentor_id="b",
                mode="director",
                request_id="req-1",
                choice_rank=2,
                time_to_match_seconds=4 * 86400,
            ),
            T0 + 4 * DAY,
        ),
    ]
    rel = dict(relationship_id="rel-1")
    relationships = [
        (
            RelationshipStarted(
                **rel,
                model="one_to_one",
                mentor_id="b",
                mentee_ids=["m1"],
                match_id="match-1",
                started_on=date(2026, 1, 9),
            ),
            T0 + 4 * DAY + timedelta(seconds=1),
        ),
        (
            AgreementSigned(
                **rel,
                format="video",
                confidentiality_accepted=True,
                no_fault_termination_acknowledged=True,
                signed_by=["b", "m1"],
                signed_on=date(2026, 1, 20),
                review_due_on=date(2027, 1, 20),
            ),
            T0 + 15 * DAY,
        ),
        (
            MeetingLogged(
                **rel,
                meeting_id="mt-1",
                held_on=date(2026, 2, 1),
                duration_minutes=45,
                format="video",
                topic_tags=["goals"],
            ),
            T0 + 27 * DAY,
        ),
        (
            RelationshipClosed(
                **rel,
                reason="objectives_achieved",
                closed_by="m1",
                mentor_id="b",
                mentee_ids=["m1"],
                rematch_requested=False,
                closed_on=date(2026, 6, 1),
            ),
            T0 + 147 * DAY,
        ),
    ]
    return [("matching", envelope(e, "req-1", at, "matching", i + 1)) for i, (e, at) in enumerate(matching)] + [
        ("relationships", envelope(e, "rel-1", at, "relationships", i + 1)) for i, (e, at) in enumerate(relationships)
    ]


@pytest.fixture
async def analytics_pool(pool: asyncpg.Pool) -> asyncpg.Pool:
    await migrate(pool, migrations_from_package("services.analytics.migrations"))
    return pool


@pytest.fixture
async def published(broker, topic_name):
    topics = {name: f"{topic_name}.{name}" for name in ("matching", "relationships")}
    await ensure_topics(broker.bootstrap, list(topics.values()), partitions=3)
    records = scenario()
    producer = new_producer(broker.bootstrap)
    await producer.start()
    try:
        for owner, env in records:
            await producer.send_and_wait(topics[owner], env.to_bytes(), key=env.subject.encode())
        # a republished duplicate and a record that is not an event at all
        await producer.send_and_wait(topics["relationships"], records[-2][1].to_bytes(), key=b"rel-1")
        await producer.send_and_wait(topics["matching"], b"garbage", key=b"x")
    finally:
        await producer.stop()
    return list(topics.values()), records


async def new_generation(pool: asyncpg.Pool, **options) -> int:
    async with pool.acquire() as conn:
        return await create_generation(conn, **options)


async def project(pool, broker, topics, generation, **options):
    return await Projector(pool, broker.bootstrap, generation, topics, **options).run(
        asyncio.Event(), until_caught_up=True
    )


async def test_relationship_timeline_links_request_match_and_relationship(analytics_pool, broker, published) -> None:
    topics, records = published
    generation = await ensure_live(analytics_pool)
    progress = await project(analytics_pool, broker, topics, generation)
    assert (progress.read, progress.applied, progress.skipped_invalid) == (13, 11, 1)

    async with analytics_pool.acquire() as conn:
        timeline = await relationship_timeline(conn, schema_name(generation), "rel-1")
        mentee = await participant_timeline(conn, schema_name(generation), "m1")
        declined = await participant_timeline(conn, schema_name(generation), "a")
    assert [e["event_type"] for e in timeline["entries"]] == [env.type for _, env in records]
    assert timeline["participants"] == ["b", "m1"]  # its parties: not "a", who was asked first and declined
    assert "PRIVATE BIO" not in str(timeline) and "biography" not in timeline["entries"][0]["summary"]
    milestones = {m["milestone"]: m["seconds_since_previous"] for m in timeline["milestones"]}
    assert milestones == {
        "RequestRanked": None,
        "RequestReviewed": 86400.0,
        "RequestForwarded": 0.0,
        "MatchApproved": 3 * 86400.0,
        "RelationshipStarted": 1.0,
        "AgreementSigned": 11 * 86400.0 - 1,
        "MeetingLogged": 12 * 86400.0,
        "RelationshipClosed": 120 * 86400.0,
    }
    assert [e["event_id"] for e in mentee["entries"]] == [e["event_id"] for e in timeline["entries"]]
    # the mentor who declined sees what named them, not the rest of the mentee's request or relationship
    assert [e["event_type"] for e in declined["entries"]] == ["RequestForwarded", "MentorResponded"]


async def test_a_killed_run_resumes_to_the_same_result_and_as_of_cuts(analytics_pool, broker, published) -> None:
    topics, records = published
    clean = await new_generation(analytics_pool)
    await project(analytics_pool, broker, topics, clean)

    resumed = await new_generation(analytics_pool)
    stop = asyncio.Event()
    first = Projector(analytics_pool, broker.bootstrap, resumed, topics, batch_size=2)
    original_store = first._store

    async def store_then_stop(batch):
        await original_store(batch)
        stop.set()  # "killed" after its first committed batch

    first._store = store_then_stop
    await first.run(stop)
    assert 0 < first.progress.read < 13
    await project(analytics_pool, broker, topics, resumed)

    cut = await new_generation(analytics_pool, as_of=T0 + 20 * DAY)
    await project(analytics_pool, broker, topics, cut, as_of=T0 + 20 * DAY)

    async def rows(generation: int) -> list:
        return [
            tuple(r)
            for r in await analytics_pool.fetch(
                f"SELECT event_id, event_type, at, summary::text FROM {schema_name(generation)}.timeline_events"
                " ORDER BY at, event_id"
            )
        ]

    assert await rows(resumed) == await rows(clean)
    assert len(await rows(clean)) == 11
    assert {r[0] for r in await rows(cut)} == {env.id for _, env in records if env.time <= T0 + 20 * DAY}
    assert len(await rows(cut)) == 9
