"""Reads over years of history: an institution's whole history projected, then the reads people make timed.

Builds, at ``--scale 1``, an institution of 100,000 staff (HR hires), 20,000 participants (a mentor per
three mentees) and 5,000,000 events: every participant's first request runs its course (review, forwards,
match, a relationship with meetings, reviews, feedback, closure), then, over six years, mentees come back
for further requests and relationships until the event count is reached. The events (the replay bench's
generator, ``bench.replay.Institution``) are fed to the analytics projections in batches, through the
projector's own batch step (prepared in a worker process, deduplicated, written set-wise, as a replay
does), into a generation that is then made live. The profiles events also go to the broker, where the
matching service builds its mentor directory from them as it does in production.

Then, against analytics and matching running as their own processes, it measures p50/p95 over HTTP of
``/dashboard.json`` (unfiltered, by department, by cohort, by period, by program alone and with the others), a
participant's timeline (``/timelines/participants/{id}``, mentees with several relationships) and matching's mentor
directory (``/directory/mentors``, pages across the whole directory), each beside its limit; and the CPU per computed
dashboard in analytics and in Postgres.

    python -m bench.reads [--scale 1.0] [--events N] [--samples 100] [--batch-size 10000] [--keep DIR]

The full build takes long on a small machine: ``--scale 0.1`` (10,000 staff, 2,000 participants,
500,000 events) is a quick look; the scale used is printed with the results. ``--keep DIR`` keeps the built
database (an embedded server's data in ``DIR``) and reuses it at the next run with the same ``--keep``: the reads
again, without the build (``--hashes FILE`` writes a digest of every dashboard's JSON, to compare two trees' figures
on the same history).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import pickle
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil

from bench.common import die_with_this_process, durability, per_second, postgres_server, table
from bench.replay import DEPARTMENTS, START, Fact, Institution
from mentorship.devstack.broker import start_broker
from mentorship.devstack.postgres import start_kept_postgres
from mentorship.stack import start_services
from services.analytics.projecting import batches
from services.analytics.projecting.generations import build_indexes, create_generation, make_live
from services.analytics.projecting.projector import Projector
from shared.auth import Role, mint_token
from shared.bus import ensure_topics, message_headers, new_producer, topic_for
from shared.db import create_pool, migrate, migrations_from_package
from shared.envelope import Envelope
from shared.settings import DEV_JWT_SECRET

STAFF, PARTICIPANTS, EVENTS = 100_000, 20_000, 5_000_000
LIMITS_MS = {"dashboard": 300, "timeline": 50, "directory": 100}
YEARS = 6
SEED = 20261206
GENERATED = ("bench.generated", 0)  # the checkpoint the build leaves: no topic the live projector reads


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.reads", description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1.0, help="of 100,000 staff, 20,000 participants, 5M events")
    p.add_argument("--events", type=int, default=None, help="events (default 5,000,000 x scale)")
    p.add_argument("--samples", type=int, default=100, help="timed requests per read")
    p.add_argument("--batch-size", type=int, default=10_000, help="events per projector batch")
    p.add_argument("--keep", type=Path, default=None, help="keep the built database here; reuse it if built")
    p.add_argument("--hashes", type=Path, default=None, help="write the sha256 of every dashboard read's JSON here")
    return p


# --- years of history ----------------------------------------------------------------------------


class History(Institution):
    """``Institution`` with staff who never join the program, and mentees who come back over the years.

    First every participant registers (with HR-only hires in between, so the staff count is reached with
    them); then mentees already registered make further requests, spread over ``YEARS``, without
    registering again, until the caller has events enough."""

    def __init__(self, seed: int, staff: int, participants: int) -> None:
        super().__init__(seed)
        self.staff_target, self.participant_target = staff, participants
        self.participants = 0
        self.mentees: list[tuple[str, str, object]] = []
        self.returning = False

    def facts(self) -> Iterator[Fact]:
        hires_per_participant = max(self.staff_target - self.participant_target, 0) / self.participant_target
        owed = 0.0
        while self.participants < self.participant_target:
            yield from self._mentor()
            for _ in range(3):
                yield from self._mentee_story()
            self.participants += 4
            owed += 4 * hires_per_participant
            while owed >= 1:
                yield from self._hire_only()
                owed -= 1
        self.returning = True
        while True:
            # ranked mentors come from the last 300 registered: move a random one to the end each story
            self.mentors.append(self.mentors.pop(self.rng.randrange(len(self.mentors))))
            for fact in self._mentee_story():
                if fact[2].type_name() != "MenteeRegistered":
                    yield fact

    def _hire_only(self) -> Iterator[Fact]:
        *_, facts = super()._person("staff")
        yield from facts

    def _person(self, role: str):
        if not self.returning:
            participant_id, employee_id, at, profile, facts = super()._person(role)
            if role == "mentee":
                self.mentees.append((participant_id, employee_id, profile))
            return participant_id, employee_id, at, profile, facts
        participant_id, employee_id, profile = self.rng.choice(self.mentees)
        at = START + timedelta(days=self.rng.randrange(YEARS * 365), minutes=self.rng.randrange(600))
        return participant_id, employee_id, at, profile, []


Message = tuple[str, str, uuid.UUID, str, bytes]  # owner, subject, event id, event type, envelope


def envelopes(history: History, events: int) -> Iterator[Message]:
    """``events`` envelopes as ``(owner, subject, id, event type, bytes)``, each stream numbered from 1."""
    rng, sequences = random.Random(SEED + 1), {}
    for n, (owner, subject, event, at) in enumerate(history.facts()):
        if n == events:
            return
        sequences[subject] = sequence = sequences.get(subject, 0) + 1
        event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        envelope = Envelope(
            id=event_id,
            source=f"/services/{owner}",
            type=event.type_name(),
            time=at,
            subject=subject,
            correlationid=uuid.UUID(int=n),
            sequence=sequence,
            schemaversion=event.schema_version,
            data=event.model_dump(mode="json"),
        )
        yield owner, subject, event_id, event.type_name(), envelope.to_bytes()


# --- the build --------------------------------------------------------------------------------------


class Feeder(Projector):
    """The projector's batch step (``_store``: dedupe, every projection's rows, checkpoint) without a broker."""

    def __init__(self, pool: asyncpg.Pool, generation: int) -> None:
        super().__init__(pool, None, generation, [], prepare_in="process")  # type: ignore[arg-type]

    async def store(self, batch: batches.Batch) -> None:
        await self._store(batch)


async def build(dsn: str, history: History, events: int, batch_size: int) -> dict:
    """Project ``events`` into a new generation and make it live; what went to matching and the timings."""
    pool = await create_pool(dsn, min_size=1, max_size=2)
    profiles_messages: list[Message] = []
    mentors = 0
    try:
        await migrate(pool, migrations_from_package("services.analytics.migrations"))
        async with pool.acquire() as conn:
            generation = await create_generation(conn, defer_indexes=True)
        feeder = Feeder(pool, generation)
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        storing: asyncio.Task | None = None
        offset = 0
        with ProcessPoolExecutor(2) as workers:

            async def prepare_and_store(values: list[bytes], next_offset: int, before: asyncio.Task | None) -> None:
                records = [(GENERATED, values, next_offset)]
                batch = await loop.run_in_executor(workers, batches.prepare_elsewhere, records, None)
                batch.records = records
                if before is not None:
                    await before
                await feeder.store(batch)

            values: list[bytes] = []
            for message in envelopes(history, events):
                owner, _, _, event_type, value = message
                values.append(value)
                if owner == "profiles":
                    profiles_messages.append(message)
                    mentors += event_type == "MentorRegistered"
                if len(values) >= batch_size:
                    offset += len(values)
                    storing = asyncio.create_task(prepare_and_store(values, offset, storing))
                    values = []
                    if offset % (batch_size * 20) == 0:
                        print(f"  projected about {offset:,} events", flush=True)
                    await asyncio.sleep(0)
            if values:
                offset += len(values)
                storing = asyncio.create_task(prepare_and_store(values, offset, storing))
            if storing is not None:
                await storing
        projected = time.perf_counter() - started
        indexing = time.perf_counter()
        async with pool.acquire() as conn:
            await build_indexes(conn, generation, pool)
            await conn.execute("ANALYZE")
            await make_live(conn, generation)
        indexed = time.perf_counter() - indexing
    finally:
        await pool.close()
    return {
        "events": offset,
        "projected_seconds": projected,
        "index_seconds": indexed,
        "profiles_messages": profiles_messages,
        "mentors": mentors,
    }


async def publish_profiles(bootstrap: str, messages: list[Message]) -> None:
    """The profiles events to ``profiles.events``, keyed by subject, as profiles' relay publishes them."""
    topic = topic_for("profiles")
    await ensure_topics(bootstrap, [topic], partitions=3)
    producer = new_producer(bootstrap, acks=1, linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    try:
        pending = []
        for _, subject, event_id, event_type, value in messages:
            headers = message_headers(event_type, event_id)
            pending.append(await producer.send(topic, value=value, key=subject.encode(), headers=headers))
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def wait_for_directory(dsn: str, mentors: int, timeout: float) -> float:
    """Seconds until matching's directory holds every mentor."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() - started < timeout:
            if await conn.fetchval("SELECT count(*) FROM mentor_directory") >= mentors:
                return time.perf_counter() - started
            await asyncio.sleep(1)
    finally:
        await conn.close()
    raise SystemExit(f"matching's directory did not reach {mentors} mentors in {timeout:.0f} s")


# --- the reads ---------------------------------------------------------------------------------------


def timed(
    client: httpx.Client, paths: list[str], samples: int, meter: CpuMeter | None = None
) -> tuple[list[float], list[float], tuple[float, float]]:
    """Milliseconds per request: the first request of each path (nothing of it read before: for the
    dashboard, its figures computed), then ``samples`` requests cycling over ``paths``; and the CPU seconds the
    first requests took in the service and in its Postgres backends (``meter``, (0, 0) without one)."""

    def once(path: str) -> float:
        started = time.perf_counter()
        _ok(client.get(path))
        return (time.perf_counter() - started) * 1000

    before = meter.read() if meter else (0.0, 0.0)
    first = [once(path) for path in paths]
    after = meter.read() if meter else (0.0, 0.0)
    cpu = (after[0] - before[0], after[1] - before[1])
    return first, [once(paths[n % len(paths)]) for n in range(samples)], cpu


class CpuMeter:
    """CPU seconds so far of a service's processes (psutil) and of Postgres for its database: the client backends
    connected to it (``/proc/<pid>/stat``; the service's pool keeps them) and what the server's processes that ended
    took (the postmaster's reaped children: the parallel workers of the backends' queries, an autovacuum worker)."""

    def __init__(self, pid: int, dsn: str, database: str) -> None:
        self.process, self.database = psutil.Process(pid), database
        self.ticks = os.sysconf("SC_CLK_TCK")
        self.loop = asyncio.new_event_loop()  # one connection of its own throughout: none ends in between
        self.conn = self.loop.run_until_complete(asyncpg.connect(dsn))

    def read(self) -> tuple[float, float]:
        service = 0.0
        for process in (self.process, *self.process.children(recursive=True)):
            times = process.cpu_times()
            service += times.user + times.system
        pids = self.loop.run_until_complete(self._backends())
        postgres, postmaster = 0.0, None
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            postgres += (int(fields[11]) + int(fields[12])) / self.ticks
            postmaster = int(fields[1])
        if postmaster is not None:
            fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
            postgres += (int(fields[13]) + int(fields[14])) / self.ticks
        return service, postgres

    async def _backends(self) -> list[int]:
        return await self.conn.fetchval(
            "SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity"
            " WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            self.database,
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


def _ok(response: httpx.Response) -> httpx.Response:
    if response.status_code != 200:
        raise SystemExit(f"GET {response.request.url}: {response.status_code} {response.text[:300]}")
    return response


def write_hashes(client: httpx.Client, out: Path, cohorts: list[str]) -> None:
    """The sha256 of the JSON of every dashboard read of the bench, of more filter combinations and of the director's
    per-mentor figures, one per line."""
    paths = [path for group in dashboard_reads(cohorts).values() for path in group]
    paths += [f"/dashboard.json?department={d}&cohort={c}" for d in DEPARTMENTS[:3] for c in cohorts[:3]]
    paths += [f"/dashboard.json?end={START.year + y}-06-30" for y in range(YEARS)]
    paths += ["/dashboard.json?program=none", "/dashboard.json?cohort=2031-01", "/dashboard.json?start=2031-01-01"]
    paths += [f"/dashboard/mentors.json{query}" for query in ("", "?program=default", f"?department={DEPARTMENTS[1]}")]
    paths += [f"/dashboard/mentors.json?start={START.year + 2}-01-01&end={START.year + 2}-12-31"]
    lines = [f"{hashlib.sha256(_ok(client.get(path)).content).hexdigest()} {path}" for path in paths]
    out.write_text("\n".join(lines) + "\n")
    print(f"{len(lines)} dashboard digests written to {out}", flush=True)


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(values) > 1 else values[0]


def dashboard_reads(cohorts: list[str]) -> dict[str, list[str]]:
    """The dashboard's reads: unfiltered, by department, cohort, period and program (alone and with the others)."""
    years = [f"start={START.year + y}-01-01&end={START.year + y}-12-31" for y in range(YEARS)]
    return {
        "dashboard, unfiltered": ["/dashboard.json"],
        "dashboard, by department": [f"/dashboard.json?department={d}" for d in DEPARTMENTS],
        "dashboard, by cohort": [f"/dashboard.json?cohort={c}" for c in cohorts],
        "dashboard, by period": [f"/dashboard.json?{year}" for year in years],
        "dashboard, by program": [
            "/dashboard.json?program=default",
            *(f"/dashboard.json?program=default&department={d}" for d in DEPARTMENTS),
            *(f"/dashboard.json?program=default&cohort={c}" for c in cohorts[::4]),
            *(f"/dashboard.json?program=default&{year}" for year in years[::2]),
        ],
    }


def kept_build(args: argparse.Namespace, pg, history: History, events: int, prefix: str) -> tuple[str, dict, list]:
    """``(prefix, built, mentees)``: built now (and kept when ``--keep`` says where), or as kept before."""
    kept = args.keep / "built.pickle" if args.keep else None
    if kept is not None and kept.exists():
        saved = pickle.loads(kept.read_bytes())
        print(f"reusing the database built in {args.keep} ({saved['built']['events']:,} events)", flush=True)
        return saved["prefix"], saved["built"], saved["mentees"]
    analytics_dsn = pg.create_database(f"{prefix}_analytics")
    built = asyncio.run(build(analytics_dsn, history, events, args.batch_size))
    mentees = [participant_id for participant_id, _, _ in history.mentees]
    if kept is not None:
        kept.write_bytes(pickle.dumps({"prefix": prefix, "built": built, "mentees": mentees}))
    return prefix, built, mentees


@contextmanager
def server(keep: Path | None) -> Iterator:
    if keep is None:
        with postgres_server() as pg:
            yield pg
        return
    die_with_this_process()
    keep.mkdir(parents=True, exist_ok=True)
    with start_kept_postgres(keep / "pgdata") as pg:
        yield pg


def main() -> None:
    args = parser().parse_args()
    staff, participants = max(int(STAFF * args.scale), 8), max(int(PARTICIPANTS * args.scale), 8)
    events = args.events or max(int(EVENTS * args.scale), 1000)
    rng = random.Random(SEED)
    history = History(SEED, staff, participants)
    prefix = f"bench_reads_{uuid.uuid4().hex[:6]}"
    token = mint_token(DEV_JWT_SECRET, "director", [Role.admin])
    with server(args.keep) as pg, start_broker() as broker:
        print(f"building: {staff:,} staff, {participants:,} participants, {events:,} events", flush=True)
        prefix, built, mentees = kept_build(args, pg, history, events, prefix)
        analytics_dsn = pg.dsn_for(f"{prefix}_analytics")
        server_line = asyncio.run(durability(analytics_dsn))
        asyncio.run(publish_profiles(broker.bootstrap, built["profiles_messages"]))
        logs = Path(f"/tmp/{prefix}")
        logs.mkdir(exist_ok=True)
        with start_services(
            pg,
            broker.bootstrap,
            logs,
            names=("analytics", "matching"),
            database_prefix=prefix,
            extra_env={"MENTORSHIP_LOG_LEVEL": "WARNING"},
        ) as running:
            directory_seconds = asyncio.run(
                wait_for_directory(pg.dsn_for(running["matching"].database), built["mentors"], 1800)
            )
            headers = {"Authorization": f"Bearer {token}"}
            cohorts = sorted({f"{START.year + y}-{m:02}" for y in range(2) for m in range(1, 13)})
            reads = {name: ("analytics", "dashboard", paths) for name, paths in dashboard_reads(cohorts).items()}
            reads |= {
                "participant timeline": (
                    "analytics",
                    "timeline",
                    [f"/timelines/participants/{p}" for p in rng.sample(mentees, min(50, len(mentees)))],
                ),
                "mentor directory page": (
                    "matching",
                    "directory",
                    [
                        f"/directory/mentors?limit=50&offset={rng.randrange(max(built['mentors'] - 50, 1))}"
                        for _ in range(50)
                    ],
                ),
            }
            if args.hashes is not None:
                with httpx.Client(base_url=running["analytics"].url, headers=headers, timeout=300) as client:
                    write_hashes(client, args.hashes, cohorts)
                return  # the figures are kept now: timed reads would not compute them
            results, computed = [], []
            analytics = running["analytics"]
            meter = CpuMeter(analytics.process.pid, analytics_dsn, analytics.database)
            cpu = [0.0, 0.0]
            for name, (service, kind, paths) in reads.items():
                with httpx.Client(base_url=running[service].url, headers=headers, timeout=300) as client:
                    first, spent, used = timed(client, paths, args.samples, meter if kind == "dashboard" else None)
                results.append((name, kind, percentile(spent, 50), percentile(spent, 95)))
                if kind == "dashboard":
                    computed += first
                    cpu = [cpu[0] + used[0], cpu[1] + used[1]]
            meter.close()
            results.append(
                (
                    "dashboard, first read of its filters (computed)",
                    "dashboard",
                    percentile(computed, 50),
                    percentile(computed, 95),
                )
            )
    print()
    print(
        "The dashboard keeps its figures per filters until the projector moves on: the repeated reads are"
        " served from them, the first read of each filter computes them."
    )
    print(
        f"scale {args.scale:g}: {staff:,} staff, {participants:,} participants, {built['events']:,} events"
        f" ({built['mentors']:,} mentors); {args.samples} requests per read, one at a time"
    )
    print(server_line)
    print(
        f"computed dashboards ({len(computed)}): CPU per read {cpu[0] / len(computed) * 1000:.0f} ms in analytics,"
        f" {cpu[1] / len(computed) * 1000:.0f} ms in Postgres (its backends and their parallel workers)"
    )
    print(
        f"build: projected in {built['projected_seconds']:.0f} s"
        f" ({per_second(built['events'] / built['projected_seconds'])}), indexes {built['index_seconds']:.0f} s;"
        f" matching's directory filled in {directory_seconds:.0f} s"
    )
    print(
        table(
            ["read", "p50 ms", "p95 ms", "limit ms"],
            [(name, f"{p50:.1f}", f"{p95:.1f}", LIMITS_MS[kind]) for name, kind, p50, p95 in results],
        )
    )
    for name, kind, _, p95 in results:
        limit = LIMITS_MS[kind]
        verdict = "met" if p95 < limit else "MISSED"
        print(f"{name} p95 / limit {p95 / limit:.2f} (target < 1: {verdict})")


if __name__ == "__main__":
    main()
