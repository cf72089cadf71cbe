"""Replay throughput: a seeded program history on every topic, read raw with aiokafka and replayed
through the real ``Projector`` into a new generation (timelines + program facts) on Postgres.

    python -m bench.replay [--events 1000000] [--batch-size 10000] [--prepare-in process|thread] [--quick]

Each measurement runs in its own process so its peak RSS is its own (the producer's is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from aiokafka import TopicPartition

from bench.common import durability, fresh_database, per_second, postgres_server, table
from mentorship.devstack.broker import start_broker
from shared.bus import ensure_topics, new_consumer, new_producer
from shared.db import create_pool, migrate, migrations_from_package
from shared.envelope import Envelope
from shared.events import Event, hr, matching, profiles, relationships
from shared.events.notifications import NotificationSent

RATE_TARGET = 30_000
RSS_TARGET_MB = 500
PARTITIONS = 3
SEED = 20260105
OWNERS = ("hr", "profiles", "matching", "relationships", "notifications")
START = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
DEPARTMENTS = (
    "Internal Medicine",
    "Surgery",
    "Pediatrics",
    "Cardiology",
    "Neurology",
    "Radiology",
    "Psychiatry",
    "Oncology",
    "Emergency Medicine",
    "Biostatistics",
    "Nursing",
    "Public Health",
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.replay", description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=1_000_000, help="events produced across all topics")
    p.add_argument("--batch-size", type=int, default=10_000, help="projector fetch batch (max records)")
    p.add_argument(
        "--prepare-in",
        choices=("process", "thread"),
        default="process",
        help="where the projector prepares rows: a worker process (as a replay does) or a thread",
    )
    p.add_argument("--quick", action="store_true", help="50,000 events")
    return p


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    args = parser().parse_args(argv)
    if args.quick:
        args.events = 50_000
    if args.events < 1 or args.batch_size < 1:
        parser().error("--events and --batch-size must be positive")
    return args


# --- a seeded program history ------------------------------------------------------------------

Fact = tuple[str, str, Event, datetime]  # owner, subject, payload, time


class Institution:
    """Staff hired by HR, some registered as mentors or mentees; every mentee's request runs its course
    (review, forwards, responses, match or not) and a match becomes a relationship with an agreement,
    goals, meetings at a drifting cadence, lagging spells, reviews, feedback and a closure."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.mentors: list[str] = []
        self.staff = 0

    def facts(self) -> Iterator[Fact]:
        while True:  # a mentor per three mentees
            yield from self._mentor()
            for _ in range(3):
                yield from self._mentee_story()

    def _person(self, role: str) -> tuple[str, str, datetime, profiles.ProfileFields, list[Fact]]:
        rng, self.staff = self.rng, self.staff + 1
        employee_id, participant_id = f"E{self.staff:07d}", f"{role}-{self.staff:07d}"
        department = rng.choice(DEPARTMENTS)
        hired_on = date(2010, 1, 1) + timedelta(days=rng.randrange(5000))
        at = START + timedelta(days=rng.randrange(120), minutes=rng.randrange(600))
        worker = hr.Worker(
            employee_id=employee_id,
            legal_name=f"Worker {self.staff}",
            work_email=f"w{self.staff}@example.edu",
            title="Assistant Professor",
            job_function="faculty",
            department_id=department[:3].upper(),
            department_name=department,
            country="US",
            original_hire_date=hired_on,
            last_hire_date=hired_on,
        )
        facts: list[Fact] = [
            (
                "hr",
                employee_id,
                hr.WorkerHired(employee_id=employee_id, effective_date=hired_on, recorded_at=at, worker=worker),
                at,
            )
        ]
        if rng.random() < 0.1:
            facts.append(
                (
                    "hr",
                    employee_id,
                    hr.WorkerPromoted(
                        employee_id=employee_id,
                        effective_date=at.date(),
                        recorded_at=at,
                        old_title="Assistant Professor",
                        new_title="Associate Professor",
                    ),
                    at + timedelta(days=200),
                )
            )
        if rng.random() < 0.05:
            new = rng.choice(DEPARTMENTS)
            facts.append(
                (
                    "hr",
                    employee_id,
                    hr.WorkerTransferred(
                        employee_id=employee_id,
                        effective_date=at.date(),
                        recorded_at=at,
                        old_department_id=department[:3].upper(),
                        new_department_id=new[:3].upper(),
                        new_department_name=new,
                    ),
                    at + timedelta(days=300),
                )
            )
        profile = profiles.ProfileFields(
            biography="Clinician-scientist in outcomes research; happy to talk grants and balance.",
            specialty=department.lower(),
            interests=["grants", "teaching"],
            career_stage="mid_career",
            department=department,
            time_zone="America/Chicago",
        )
        return participant_id, employee_id, at, profile, facts

    def _mentor(self) -> Iterator[Fact]:
        participant_id, employee_id, at, profile, facts = self._person("mentor")
        capacity = self.rng.randint(1, 8)
        facts.append(
            (
                "profiles",
                participant_id,
                profiles.MentorRegistered(
                    participant_id=participant_id,
                    employee_id=employee_id,
                    name="Dr. Mentor",
                    email="mentor@example.edu",
                    profile=profile,
                    capacity=capacity,
                ),
                at,
            )
        )
        if self.rng.random() < 0.5:
            facts.append(
                (
                    "profiles",
                    participant_id,
                    profiles.MentorTrainingCompleted(
                        participant_id=participant_id, kind="workshop", completed_on=at.date()
                    ),
                    at + timedelta(days=10),
                )
            )
        if self.rng.random() < 0.2:
            new = capacity + 1 if capacity < 8 else capacity - 1
            facts.append(
                (
                    "profiles",
                    participant_id,
                    profiles.MentorCapacityChanged(
                        participant_id=participant_id, old_capacity=capacity, new_capacity=new
                    ),
                    at + timedelta(days=60),
                )
            )
        self.mentors.append(participant_id)
        yield from facts

    def _mentee_story(self) -> Iterator[Fact]:
        rng = self.rng
        mentee, employee_id, at, profile, facts = self._person("mentee")
        facts.append(
            (
                "profiles",
                mentee,
                profiles.MenteeRegistered(
                    participant_id=mentee,
                    employee_id=employee_id,
                    name="Dr. Mentee",
                    email="mentee@example.edu",
                    profile=profile,
                ),
                at,
            )
        )
        request = f"req-{uuid.UUID(int=rng.getrandbits(128))}"
        ranked = rng.sample(self.mentors[-300:], k=min(3, len(self.mentors[-300:])))
        at += timedelta(days=rng.randrange(1, 30))
        facts.append(
            (
                "matching",
                request,
                matching.RequestRanked(
                    request_id=request,
                    mentee_id=mentee,
                    biography="Early-career surgeon seeking guidance.",
                    motivation="First R01 and clinic balance",
                    ranked_mentor_ids=ranked,
                ),
                at,
            )
        )
        at += timedelta(days=rng.randrange(1, 5))
        if rng.random() < 0.05:
            facts.append(
                (
                    "matching",
                    request,
                    matching.RequestReviewed(
                        request_id=request,
                        reviewer_id="director",
                        approved=False,
                        decline_reason="not a mentoring request",
                    ),
                    at,
                )
            )
            yield from facts
            return
        facts.append(
            (
                "matching",
                request,
                matching.RequestReviewed(request_id=request, reviewer_id="director", approved=True),
                at,
            )
        )
        if rng.random() < 0.03:
            facts.append(
                (
                    "matching",
                    request,
                    matching.RequestWithdrawn(request_id=request, mentee_id=mentee),
                    at + timedelta(days=2),
                )
            )
            yield from facts
            return
        mentor = None
        for rank, candidate in enumerate(ranked, start=1):
            respond_by = at + timedelta(days=7)
            facts.append(
                (
                    "matching",
                    request,
                    matching.RequestForwarded(
                        request_id=request,
                        mentee_id=mentee,
                        mentor_id=candidate,
                        choice_rank=rank,
                        respond_by=respond_by,
                    ),
                    at,
                )
            )
            facts.append(self._notice(candidate, "request_forwarded", at))
            roll = rng.random()
            if roll < 0.1:
                at = respond_by
                facts.append(
                    (
                        "matching",
                        request,
                        matching.RequestExpired(
                            request_id=request, mentor_id=candidate, choice_rank=rank, respond_by=respond_by
                        ),
                        at,
                    )
                )
                continue
            at += timedelta(days=rng.randrange(1, 7))
            accepted = roll < 0.75
            facts.append(
                (
                    "matching",
                    request,
                    matching.MentorResponded(
                        request_id=request, mentor_id=candidate, choice_rank=rank, accepted=accepted
                    ),
                    at,
                )
            )
            if accepted:
                mentor = candidate
                break
        if mentor is None:
            facts.append(
                (
                    "matching",
                    request,
                    matching.RequestUnmatched(request_id=request, mentee_id=mentee, tried_mentor_ids=ranked),
                    at,
                )
            )
            yield from facts
            return
        match = f"match-{request[4:]}"
        facts.append(
            (
                "matching",
                match,
                matching.MatchApproved(
                    match_id=match,
                    mentee_id=mentee,
                    mentor_id=mentor,
                    mode="director",
                    request_id=request,
                    choice_rank=rank,
                ),
                at,
            )
        )
        facts += [self._notice(who, "introduction", at) for who in (mentee, mentor)]
        facts += self._relationship(match, mentor, mentee, at + timedelta(hours=1))
        if rng.random() < 0.04:
            facts.append(
                (
                    "profiles",
                    mentee,
                    profiles.ParticipantDeactivated(
                        participant_id=mentee,
                        reason="left_institution",
                        effective_date=(at + timedelta(days=500)).date(),
                    ),
                    at + timedelta(days=500),
                )
            )
            facts.append(
                (
                    "hr",
                    employee_id,
                    hr.WorkerTerminated(
                        employee_id=employee_id,
                        effective_date=(at + timedelta(days=500)).date(),
                        recorded_at=at,
                        termination_type="voluntary",
                    ),
                    at + timedelta(days=500),
                )
            )
        yield from facts

    def _relationship(self, match: str, mentor: str, mentee: str, at: datetime) -> list[Fact]:
        rng = self.rng
        rel = f"rel-{match[6:]}"

        def fact(event: Event, when: datetime) -> Fact:
            return ("relationships", rel, event, when)

        started_on = at.date()
        facts = [
            fact(
                relationships.RelationshipStarted(
                    relationship_id=rel,
                    model="one_to_one",
                    mentor_id=mentor,
                    mentee_ids=[mentee],
                    match_id=match,
                    started_on=started_on,
                ),
                at,
            )
        ]
        at += timedelta(days=rng.randrange(5, 25))
        goals = [
            relationships.SmartGoal(
                goal_id=f"g{i}", text="Submit a K award", measure="submitted", due_on=started_on + timedelta(days=365)
            )
            for i in range(rng.randint(1, 3))
        ]
        cadence = rng.choice((4, 6, 8))
        facts.append(
            fact(
                relationships.AgreementSigned(
                    relationship_id=rel,
                    cadence_weeks_min=cadence - 2 if cadence > 2 else 1,
                    cadence_weeks_max=cadence,
                    format="video",
                    confidentiality_accepted=True,
                    no_fault_termination_acknowledged=True,
                    goals=goals,
                    signed_by=[mentor, mentee],
                    signed_on=at.date(),
                    review_due_on=at.date() + timedelta(days=365),
                ),
                at,
            )
        )
        if rng.random() < 0.3:
            goal = relationships.SmartGoal(
                goal_id="g-extra", text="Lead a session", measure="held", due_on=at.date() + timedelta(days=200)
            )
            facts.append(
                fact(relationships.GoalSet(relationship_id=rel, mentee_id=mentee, goal=goal), at + timedelta(days=3))
            )
        drift = rng.uniform(0.7, 1.3)  # how far the pair slips from the agreed cadence
        meeting_days = cadence * 7 * drift
        for n in range(rng.randint(4, 40)):
            gap = max(1.0, rng.gauss(meeting_days, meeting_days / 4))
            if gap > cadence * 7 + 14:
                facts.append(
                    fact(
                        relationships.RelationshipLagging(
                            relationship_id=rel,
                            last_meeting_on=at.date() if n else None,
                            days_since=int(cadence * 7 + 14),
                            cadence_weeks_max=cadence,
                        ),
                        at + timedelta(days=cadence * 7 + 14),
                    )
                )
                facts.append(self._notice(mentor, "lagging_nudge", at + timedelta(days=cadence * 7 + 14)))
            at += timedelta(days=gap)
            facts.append(
                fact(
                    relationships.MeetingLogged(
                        relationship_id=rel,
                        meeting_id=f"mt-{n}",
                        held_on=at.date(),
                        duration_minutes=rng.choice((30, 45, 60)),
                        format="video",
                        topic_tags=["grants", "career"][: rng.randint(0, 2)],
                    ),
                    at,
                )
            )
            if n % 8 == 7:
                facts.append(
                    fact(
                        relationships.AgreementReviewed(
                            relationship_id=rel,
                            reviewed_on=at.date(),
                            outcome="continued",
                            next_review_due_on=at.date() + timedelta(days=365),
                        ),
                        at,
                    )
                )
        for goal in goals:
            status = "achieved" if rng.random() < 0.6 else "in_progress"
            facts.append(
                fact(
                    relationships.GoalProgressed(
                        relationship_id=rel,
                        goal_id=goal.goal_id,
                        status=status,
                        progress_percent=100 if status == "achieved" else 50,
                    ),
                    at,
                )
            )
        for who, role in ((mentee, "mentee"), (mentor, "mentor")):
            facts.append(
                fact(
                    relationships.FeedbackSubmitted(
                        relationship_id=rel,
                        survey="relationship_feedback",
                        respondent_id=who,
                        respondent_role=role,
                        satisfaction=rng.randint(2, 5),
                        goals_met=rng.random() < 0.6,
                        would_recommend=rng.random() < 0.8,
                    ),
                    at,
                )
            )
        if rng.random() < 0.15:  # still open, and lagging now
            facts.append(
                fact(
                    relationships.RelationshipLagging(
                        relationship_id=rel,
                        last_meeting_on=at.date(),
                        days_since=int(cadence * 7 + 14),
                        cadence_weeks_max=cadence,
                    ),
                    at + timedelta(days=cadence * 7 + 14),
                )
            )
        elif rng.random() < 0.8:
            reason = rng.choice(("objectives_achieved", "objectives_achieved", "no_fault_mentee", "program_ended"))
            at += timedelta(days=14)
            facts.append(
                fact(
                    relationships.RelationshipClosed(
                        relationship_id=rel,
                        reason=reason,
                        closed_by=mentee,
                        mentor_id=mentor,
                        mentee_ids=[mentee],
                        rematch_requested=False,
                        closed_on=at.date(),
                    ),
                    at,
                )
            )
        return facts

    def _notice(self, recipient: str, template: str, at: datetime) -> Fact:
        notification = f"n-{uuid.UUID(int=self.rng.getrandbits(128))}"
        return (
            "notifications",
            notification,
            NotificationSent(
                notification_id=notification,
                cause_event_id=notification,
                recipient_id=recipient,
                channel="email",
                template=template,
            ),
            at,
        )


def messages(events: int, seed: int = SEED) -> Iterator[tuple[str, bytes, bytes]]:
    """``events`` envelopes as (owner, key, value), each stream numbered from 1."""
    rng, sequences = random.Random(seed + 1), {}
    for n, (owner, subject, event, at) in enumerate(Institution(seed).facts()):
        if n == events:
            return
        sequences[subject] = sequence = sequences.get(subject, 0) + 1
        envelope = Envelope(
            id=uuid.UUID(int=rng.getrandbits(128), version=4),
            source=f"/services/{owner}",
            type=event.type_name(),
            time=at,
            subject=subject,
            correlationid=uuid.UUID(int=n),
            sequence=sequence,
            schemaversion=event.schema_version,
            data=event.model_dump(mode="json"),
        )
        yield owner, subject.encode(), envelope.to_bytes()


async def produce(bootstrap: str, topics: dict[str, str], events: int) -> float:
    """Untimed set-up; returns seconds taken (big batches, leader acks only)."""
    producer = new_producer(
        bootstrap, acks=1, linger_ms=20, max_batch_size=512 * 1024, max_request_size=8 * 1024 * 1024
    )
    await producer.start()
    start = time.perf_counter()
    try:
        pending = []
        for owner, key, value in messages(events):
            pending.append(await producer.send(topics[owner], value=value, key=key))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - start


# --- the two measurements, each in its own process ----------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _raw_consume(bootstrap: str, topics: list[str], expected: int, batch_size: int) -> dict:
    consumer = new_consumer(
        bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    await consumer.start()
    try:
        await consumer.topics()
        consumer.assign([TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()])
        start, cpu, count, idle = time.perf_counter(), time.process_time(), 0, 0
        while count < expected and idle < 20:
            batches = await consumer.getmany(timeout_ms=500, max_records=batch_size)
            got = sum(len(records) for records in batches.values())
            count, idle = count + got, 0 if got else idle + 1
        return {"count": count, "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
    finally:
        await consumer.stop()


async def _replay(dsn: str, bootstrap: str, topics: list[str], batch_size: int, prepare_in: str) -> dict:
    from services.analytics.generation_names import schema_name
    from services.analytics.projecting import dedupe
    from services.analytics.projecting.generations import build_indexes, create_generation
    from services.analytics.projecting.projections import ALL
    from services.analytics.projecting.projector import Projector

    spent: dict[str, float] = {}  # wall seconds inside each step of the batch transactions
    pg_spent: dict[str, float] = {}  # CPU seconds of the Postgres backend inside each step
    backend: int | None = None

    def timed(name: str, step):
        async def run(*args):
            started, pg_started = time.perf_counter(), _process_cpu(backend) if backend else None
            try:
                return await step(*args)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - started
                if pg_started is not None:
                    pg_spent[name] = pg_spent.get(name, 0.0) + (_process_cpu(backend) or 0.0) - pg_started

        return run

    prepared_cpu: dict[str, float] = {}  # CPU seconds of the worker thread preparing each projection's rows

    def timed_prepare(name: str, prepare):
        def run(events):
            started = time.thread_time()
            try:
                return prepare(events)
            finally:
                prepared_cpu[name] = prepared_cpu.get(name, 0.0) + time.thread_time() - started

        return run

    dedupe.new_to_generation = timed("dedup", dedupe.new_to_generation)
    for projection in ALL:
        name = projection.__name__.rsplit(".", 1)[-1]
        projection.write = timed(name, projection.write)
        projection.prepare = timed_prepare(name, projection.prepare)

    class TimedProjector(Projector):
        """Times until the last batch commits (the idle polls that tell it has caught up are not replay work)."""

        async def _store(self, batch):
            await super()._store(batch)
            self.committed_at = time.perf_counter()

    pool = await create_pool(dsn, min_size=1, max_size=1)  # one connection: its server process's CPU is measured
    try:
        await migrate(pool, migrations_from_package("services.analytics.migrations"))
        async with pool.acquire() as conn:
            generation = await create_generation(conn, defer_indexes=True)  # as a rebuild does (replay.py)
            backend = await conn.fetchval("SELECT pg_backend_pid()")
        projector = TimedProjector(pool, bootstrap, generation, topics, batch_size=batch_size, prepare_in=prepare_in)
        cpu_before, pg_before = time.process_time(), _process_cpu(backend)
        start = time.perf_counter()
        progress = await projector.run(asyncio.Event(), until_caught_up=True)
        batches_rss, batches_cpu = _peak_rss_mb(), time.process_time() - cpu_before
        indexing_from, indexing_pg = time.perf_counter(), _process_cpu(backend)
        # part of the rebuild: the generation is not served without them; as the service does, with a second
        # connection building indexes beside the sums' catch-up (its server process's CPU counted with the first's)
        aside = await create_pool(dsn, min_size=1, max_size=1)
        try:
            aside_backend = await aside.fetchval("SELECT pg_backend_pid()")
            aside_pg = _process_cpu(aside_backend)
            async with pool.acquire() as conn:
                await build_indexes(conn, generation, aside)
            aside_pg_spent = None if aside_pg is None else _process_cpu(aside_backend) - aside_pg
        finally:
            await aside.close()
        spent["indexes"] = indexing = time.perf_counter() - indexing_from
        cpu, pg_cpu = time.process_time() - cpu_before, _process_cpu(backend)
        if pg_cpu is not None and aside_pg_spent is not None:
            pg_cpu += aside_pg_spent
        # the end of a rebuild (the relationships' sums caught up, the secondary indexes): its own figures
        end = {
            "cpu": cpu - batches_cpu,
            "pg_cpu": None if pg_cpu is None or indexing_pg is None else pg_cpu - indexing_pg,
            "rss_before": batches_rss,
            "rss_after": _peak_rss_mb(),
        }
        schema = schema_name(generation)
        rows = {
            name: await pool.fetchval(f"SELECT count(*) FROM {schema}.{name}")
            for name in ("timeline_events", "participants", "requests", "program_relationships", "survey_answers")
        }
        seconds = projector.committed_at - start + indexing
        return {
            "count": progress.read,
            "applied": progress.applied,
            "seconds": seconds,
            "rows": rows,
            "cpu": cpu,
            "pg_cpu": None if pg_cpu is None else pg_cpu - pg_before,
            "spent": spent,
            "pg_spent": pg_spent,
            "prepared_cpu": prepared_cpu,
            "end": end,
        }
    finally:
        await pool.close()


def _process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process (the Postgres backend serving the projector), if visible."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _in_child(queue, name: str, *args) -> None:
    measure = {"raw": _raw_consume, "replay": _replay}[name]
    result = asyncio.run(measure(*args))
    from services.analytics.projecting.workers import PREPARE_PROCESSES

    # The projector's worker processes, ended by now: the largest one's peak RSS, counted once per worker.
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_mb = workers.ru_maxrss / 1024 if name == "replay" and args[-1] == "process" else 0.0
    queue.put(
        {
            **result,
            "rss_mb": _peak_rss_mb() + PREPARE_PROCESSES * worker_mb,
            "worker_rss_mb": worker_mb,
            "worker_cpu": workers.ru_utime + workers.ru_stime,
        }
    )


def in_own_process(name: str, *args) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_in_child, args=(queue, name, *args))
    child.start()
    result = queue.get()
    child.join()
    if child.exitcode:
        raise RuntimeError(f"{name} measurement failed (exit {child.exitcode})")
    return result


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run = uuid.uuid4().hex[:8]
    topics = {owner: f"bench.replay.{run}.{owner}" for owner in OWNERS}
    with postgres_server() as pg, start_broker() as broker, fresh_database(pg, "bench_replay") as dsn:
        print(
            f"{pg.kind} {asyncio.run(durability(dsn))} | broker {broker.kind} at {broker.bootstrap}"
            f" | {args.events:,} events on {len(topics)} topics x {PARTITIONS} partitions, batch {args.batch_size:,},"
            f" rows prepared in a worker {args.prepare_in}"
        )
        asyncio.run(ensure_topics(broker.bootstrap, list(topics.values()), PARTITIONS))
        seconds = asyncio.run(produce(broker.bootstrap, topics, args.events))
        print(f"produced {args.events:,} events in {seconds:.1f} s (set-up, untimed)")
        raw = in_own_process("raw", broker.bootstrap, list(topics.values()), args.events, args.batch_size)
        replay = in_own_process(
            "replay", dsn, broker.bootstrap, list(topics.values()), args.batch_size, args.prepare_in
        )
    for name, result in (("raw", raw), ("replay", replay)):
        if result["count"] != args.events:
            raise SystemExit(f"{name}: read {result['count']:,} of {args.events:,} events")
    raw_rate, replay_rate = (r["count"] / r["seconds"] for r in (raw, replay))
    print(
        table(
            ["", "events", "seconds", "ev/s", "peak RSS MB"],
            [
                [
                    "raw aiokafka consume",
                    f"{raw['count']:,}",
                    f"{raw['seconds']:.1f}",
                    per_second(raw_rate, ""),
                    f"{raw['rss_mb']:.0f}",
                ],
                [
                    "replay (all projections)",
                    f"{replay['count']:,}",
                    f"{replay['seconds']:.1f}",
                    per_second(replay_rate, ""),
                    f"{replay['rss_mb']:.0f}",
                ],
            ],
        )
    )
    pg_cpu = f" + its Postgres backend {replay['pg_cpu']:.1f} s" if replay["pg_cpu"] is not None else ""
    worker = f" + its worker processes {replay['worker_cpu']:.1f} s" if args.prepare_in == "process" else ""
    print(
        f"CPU: raw consumer {raw['cpu']:.1f} s; projector {replay['cpu']:.1f} s{worker}{pg_cpu}"
        f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    if replay["prepared_cpu"]:
        print(
            "preparing rows in the worker thread (CPU s): "
            + ", ".join(f"{name} {seconds:.1f}" for name, seconds in replay["prepared_cpu"].items())
        )
    else:
        print(
            f"rows prepared in worker processes (peak RSS up to {replay['worker_rss_mb']:.0f} MB each, counted in"
            " the replay's)"
        )
    print(
        "inside the batch transactions (wall s / of which Postgres CPU s): "
        + ", ".join(
            f"{name} {seconds:.1f}/{replay['pg_spent'].get(name, 0.0):.1f}" for name, seconds in replay["spent"].items()
        )
    )
    end = replay["end"]
    end_pg = f", its Postgres backend {end['pg_cpu']:.1f} s" if end["pg_cpu"] is not None else ""
    print(
        f"end of the rebuild (sums caught up, indexes): {replay['spent']['indexes']:.1f} s wall,"
        f" projector {end['cpu']:.1f} s CPU{end_pg}; projector's peak RSS {end['rss_before']:.0f} MB after the batches,"
        f" {end['rss_after']:.0f} MB after the end"
    )
    print(
        "rows: "
        + ", ".join(f"{name} {count:,}" for name, count in replay["rows"].items())
        + f" | applied {replay['applied']:,}"
    )
    rate_met, rss_met = replay_rate >= RATE_TARGET, replay["rss_mb"] < RSS_TARGET_MB
    print(
        f"replay {per_second(replay_rate)} (target >= {RATE_TARGET:,}: {'met' if rate_met else 'MISSED'})"
        f" | peak RSS {replay['rss_mb']:.0f} MB (target < {RSS_TARGET_MB}: {'met' if rss_met else 'MISSED'})"
        f" | replay/raw {replay_rate / raw_rate:.2f} | raw {per_second(raw_rate)}"
    )


if __name__ == "__main__":
    main()
