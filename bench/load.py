"""Load: the whole platform driven through its HTTP APIs at a rising rate, to find the knee.

Starts Tansu (or ``MENTORSHIP_KAFKA_BOOTSTRAP``), Postgres, every service as its own process and an
SMTP sink, registers mentors, then offers commands open-loop at each step's rate (httpx, async).
Each command is the next step of some mentee's journey — register, submit a ranked request, director
approval, the mentor's acceptance, the agreement, both signatures, a meeting — or a new mentee when
no journey is ready (a journey waits while the bus carries its last event to the next service).
Per step it prints the offered rate, the commands/s sustained, p50/p99 latency, errors, and the
consumer lag (records behind per consumer group, plus analytics' projector) and outbox backlog at
the end of the step, then the errors by HTTP status (or by the client's exception: a timeout, a reset
connection), so a service shedding load (503 with ``Retry-After``) shows apart from one that fails.
The knee: the last step that sustained ≥ 90 % of its offered rate without errors while its p99
stayed under ``--p99-limit-ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import asyncpg
import httpx
from aiokafka import TopicPartition
from aiosmtpd.controller import Controller

from bench.common import postgres_server, table
from mentorship.devstack.broker import start_broker
from mentorship.devstack.processes import free_port
from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import all_event_topics, new_consumer
from shared.settings import DEV_JWT_SECRET

GROUPS = {  # consumer group → the topics it reads
    "matching": ["profiles.events", "hr.events", "relationships.events"],
    "relationships": ["matching.events", "profiles.events"],
    "notifications": ["matching.events", "relationships.events", "profiles.events"],
}
SPECIALTIES = ("cardiology", "oncology", "neurology", "pediatrics")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--steps",
        type=_rates,
        default=[5.0, 10.0, 20.0, 40.0, 80.0],
        help="offered commands/s per step, comma-separated (default 5,10,20,40,80)",
    )
    parser.add_argument("--step-seconds", type=_positive, default=20.0)
    parser.add_argument("--mentors", type=int, default=100)
    parser.add_argument("--max-in-flight", type=int, default=200, help="commands outstanding at once")
    parser.add_argument("--replicas", type=int, default=1, help="processes per service")
    parser.add_argument("--p99-limit-ms", type=_positive, default=1000.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="two 5 s steps (2 and 5 commands/s): a smoke run")
    parser.add_argument(
        "--service-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for every service process, e.g. MENTORSHIP_HTTP_MAX_IN_FLIGHT=16 (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.step_seconds, args.mentors = [2.0, 5.0], 5.0, 10
    if args.mentors < 2 or args.max_in_flight < 1 or args.replicas < 1:
        parser.error("--mentors must be >= 2, --max-in-flight and --replicas >= 1")
    if any("=" not in item for item in args.service_env):
        parser.error("--service-env takes NAME=VALUE")
    return args


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _rates(text: str) -> list[float]:
    try:
        rates = [_positive(part) for part in text.split(",")]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected rates like 5,10,20: {exc}") from exc
    if rates != sorted(rates):
        raise argparse.ArgumentTypeError("steps must rise")
    return rates


def token(subject: str, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, subject, [role])}"}


def profile(n: int) -> dict:
    return {
        "biography": f"Person {n}.",
        "specialty": SPECIALTIES[n % 4],
        "interests": ["grant writing"],
        "career_stage": "senior" if n % 2 else "mid_career",
        "time_zone": "UTC",
        "languages": ["en"],
    }


@dataclass
class Journey:
    """One mentee's way through the platform; ``step`` names the next command."""

    mentee: str
    mentors: list[str]
    step: str = "register"
    request_id: str | None = None
    relationship_id: str | None = None
    revision: int = 1
    not_before: float = 0.0
    failure: str = ""  # why its last command failed: the HTTP status, or the client's exception
    failure_text: str = ""  # and the first words of the answer (or of the exception)


@dataclass
class StepResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    late: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # errors by HTTP status (or exception name)
    examples: dict[str, str] = field(default_factory=dict)  # the first answer seen per status

    def failures_text(self) -> str:
        return ", ".join(f"{cause} x{n}" for cause, n in sorted(self.failures.items())) or "none"


class Driver:
    def __init__(self, urls: dict[str, list[str]], mentors: int, seed: int, max_in_flight: int) -> None:
        self.urls = urls
        self.rng = random.Random(seed)
        self.mentors = [f"load-mentor-{j:04d}" for j in range(mentors)]
        self.admin = token("load-director", Role.admin)
        self.ready: deque[Journey] = deque()
        self.count = 0
        self.gate = asyncio.Semaphore(max_in_flight)
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=max_in_flight))

    def url(self, service: str, path: str) -> str:
        return self.rng.choice(self.urls[service]) + path

    async def setup(self) -> None:
        for j, mentor in enumerate(self.mentors):
            body = {
                "participant_id": mentor,
                "name": f"Mentor {j}",
                "email": f"{mentor}@example.edu",
                "capacity": 20,
                "profile": profile(j),
            }
            response = await self.client.post(self.url("profiles", "/mentors"), json=body, headers=self.admin)
            response.raise_for_status()
        while True:
            page = (
                await self.client.get(
                    self.url("matching", "/directory/mentors"), headers=self.admin, params={"limit": 1}
                )
            ).json()
            if page["total"] >= len(self.mentors):
                return
            await asyncio.sleep(0.2)

    def next_journey(self) -> Journey:
        now = time.monotonic()
        for _ in range(len(self.ready)):
            journey = self.ready.popleft()
            if journey.not_before <= now:
                return journey
            self.ready.append(journey)
        self.count += 1
        return Journey(f"load-mentee-{self.count:06d}", self.rng.sample(self.mentors, 2))

    async def run_step(self, rate: float, seconds: float) -> StepResult:
        result = StepResult()
        tasks = set()
        start = time.monotonic()
        n = 0
        while (due := start + n / rate) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            n += 1
            if self.gate.locked():
                result.late += 1  # the platform is not keeping up: the offer is not sent
                continue
            task = asyncio.create_task(self.command(self.next_journey(), result))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks)
        return result

    async def command(self, j: Journey, result: StepResult) -> None:
        async with self.gate:
            outcome, elapsed = await self._timed(j)
            if outcome == "wait":  # the event it needs is still on its way: retry later; a new mentee instead
                j.not_before = time.monotonic() + 0.5
                self.ready.append(j)
                self.count += 1
                j = Journey(f"load-mentee-{self.count:06d}", self.rng.sample(self.mentors, 2))
                outcome, elapsed = await self._timed(j)
        if outcome == "error":
            result.errors += 1
            result.failures[j.failure] += 1
            result.examples.setdefault(j.failure, j.failure_text)
        else:
            result.latencies.append(elapsed)
        if j.step != "finished":
            self.ready.append(j)

    async def _timed(self, j: Journey) -> tuple[str, float]:
        started = time.perf_counter()
        try:
            outcome = await self._advance(j)
        except httpx.HTTPError as exc:
            outcome, j.failure, j.failure_text = "error", type(exc).__name__, f"{j.step}: {exc!r}"[:160]
        return outcome, time.perf_counter() - started

    async def _advance(self, j: Journey) -> str:
        """Send ``j``'s next command; "done", "wait" (eventual consistency) or "error"."""
        mentee, first = token(j.mentee, Role.mentee), j.mentors[0]
        c = self.client
        if j.step == "register":
            body = {
                "participant_id": j.mentee,
                "name": "Mentee",
                "email": f"{j.mentee}@example.edu",
                "profile": profile(self.count),
            }
            r = await c.post(self.url("profiles", "/mentees"), json=body, headers=self.admin)
            return self._next(j, r, "submit")
        if j.step == "submit":
            body = {"biography": "b", "motivation": "m", "ranked_mentor_ids": j.mentors}
            r = await c.post(self.url("matching", "/requests"), json=body, headers=mentee)
            if r.status_code == 409 and "not a registered mentee" in r.text:
                return "wait"
            if r.status_code == 201:
                j.request_id = r.json()["request_id"]
            return self._next(j, r, "review")
        if j.step == "review":
            r = await c.post(
                self.url("matching", f"/requests/{j.request_id}/review"), json={"approved": True}, headers=self.admin
            )
            return self._next(j, r, "respond")
        if j.step == "respond":
            r = await c.post(
                self.url("matching", f"/requests/{j.request_id}/response"),
                json={"accepted": True},
                headers=token(first, Role.mentor),
            )
            return self._next(j, r, "agreement")
        if j.step == "agreement":
            if j.relationship_id is None:
                page = (await c.get(self.url("relationships", "/relationships"), headers=mentee)).json()
                if not page.get("items"):
                    return "wait"
                j.relationship_id = page["items"][0]["relationship_id"]
            r = await c.put(
                self.url("relationships", f"/relationships/{j.relationship_id}/agreement"),
                json={"format": "video"},
                headers=token(first, Role.mentor),
            )
            if r.status_code == 200:
                j.revision = r.json()["revision"]
            return self._next(j, r, "sign-mentee")
        if j.step in ("sign-mentee", "sign-mentor"):
            who = mentee if j.step == "sign-mentee" else token(first, Role.mentor)
            body = {"revision": j.revision, "confidentiality_accepted": True, "no_fault_termination_acknowledged": True}
            r = await c.post(
                self.url("relationships", f"/relationships/{j.relationship_id}/agreement/signatures"),
                json=body,
                headers=who,
            )
            return self._next(j, r, "sign-mentor" if j.step == "sign-mentee" else "meeting")
        body = {"held_on": date.today().isoformat(), "duration_minutes": 30, "format": "video"}
        r = await c.post(
            self.url("relationships", f"/relationships/{j.relationship_id}/meetings"),
            json=body,
            headers=token(first, Role.mentor),
        )
        return self._next(j, r, "finished")

    @staticmethod
    def _next(j: Journey, response: httpx.Response, step: str) -> str:
        if response.status_code >= 300:
            j.step = "finished"  # a refused command ends this journey; it is counted as an error
            j.failure = str(response.status_code)
            j.failure_text = f"{response.request.method} {response.request.url.path}: {response.text}"[:160]
            return "error"
        j.step = step
        return "done"


async def lag(bootstrap: str, analytics_dsn: str, dsns: list[str]) -> tuple[int, int]:
    """(records behind, summed over consumer groups and analytics' projector; events in outboxes)."""
    consumer = new_consumer(bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        existing = await consumer.topics()
        partitions = [
            TopicPartition(t, p)
            for t in all_event_topics()
            if t in existing
            for p in consumer.partitions_for_topic(t) or ()
        ]
        ends = await consumer.end_offsets(partitions)
        behind = 0
        for group, topics in GROUPS.items():
            behind += await _group_lag(bootstrap, group, {tp: end for tp, end in ends.items() if tp.topic in topics})
        conn = await asyncpg.connect(analytics_dsn)
        try:
            generation = await conn.fetchval("SELECT generation FROM projection_generations WHERE state = 'live'")
            rows = (
                await conn.fetch(f"SELECT topic, partition, next_offset FROM gen_{generation}.checkpoints")
                if generation
                else []
            )
        finally:
            await conn.close()
        done = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        behind += sum(max(end - done.get(tp, 0), 0) for tp, end in ends.items())
        backlog = 0
        for dsn in dsns:
            conn = await asyncpg.connect(dsn)
            try:
                backlog += await conn.fetchval("SELECT count(*) FROM outbox")
            finally:
                await conn.close()
        return behind, backlog
    finally:
        await consumer.stop()


async def _group_lag(bootstrap: str, group: str, ends: dict[TopicPartition, int]) -> int:
    """Records between the group's committed offsets and the ends (a member-less reader of the group's
    offsets: it never joins, so it moves no partition)."""
    reader = new_consumer(bootstrap, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        behind = 0
        for tp, end in ends.items():
            committed = await reader.committed(tp)
            behind += max(end - (committed or 0), 0)  # ends were read a moment earlier
        return behind
    finally:
        await reader.stop()


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class _Sink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 OK"


async def drive(args: argparse.Namespace, urls: dict[str, list[str]], bootstrap: str, dsns: dict[str, str]) -> None:
    driver = Driver(urls, args.mentors, args.seed, args.max_in_flight)
    try:
        await driver.setup()
        rows, knee, breakdown = [], None, []
        for rate in args.steps:
            started = time.monotonic()
            result = await driver.run_step(rate, args.step_seconds)
            elapsed = time.monotonic() - started
            behind, backlog = await lag(bootstrap, dsns["analytics"], [d for s, d in dsns.items() if s != "analytics"])
            sustained = len(result.latencies) / elapsed
            p50, p99 = percentile(result.latencies, 50) * 1000, percentile(result.latencies, 99) * 1000
            rows.append(
                [
                    f"{rate:g}",
                    f"{sustained:.1f}",
                    f"{p50:.0f}",
                    f"{p99:.0f}",
                    result.errors,
                    result.late,
                    behind,
                    backlog,
                ]
            )
            print(
                table(
                    ["offered/s", "sustained/s", "p50 ms", "p99 ms", "errors", "not sent", "consumer lag", "outbox"],
                    rows[-1:],
                ),
                flush=True,
            )
            print(f"errors by status at {rate:g}/s: {result.failures_text()}", flush=True)
            for cause, example in sorted(result.examples.items()):
                print(f"  first {cause}: {example}", flush=True)
            breakdown.append((rate, result.failures_text()))
            if sustained >= 0.9 * rate and result.errors == 0 and p99 < args.p99_limit_ms:
                knee = rate
        print()
        print(
            table(
                ["offered/s", "sustained/s", "p50 ms", "p99 ms", "errors", "not sent", "consumer lag", "outbox"], rows
            )
        )
        print(table(["offered/s", "errors by status"], breakdown))
        print(
            f"knee: {knee:g} commands/s offered (the last step sustained at >= 90 % with no errors and p99 < "
            f"{args.p99_limit_ms:g} ms)"
            if knee
            else "knee: below the first step"
        )
    finally:
        await driver.client.aclose()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sink = Controller(_Sink(), hostname="127.0.0.1", port=free_port())
    sink.start()
    try:
        with postgres_server() as pg, start_broker() as broker, tempfile.TemporaryDirectory(prefix="load-") as logs:
            env = {
                "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(sink.port),
                "MENTORSHIP_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            }
            every = dict(item.split("=", 1) for item in args.service_env)
            prefix = f"load_{int(time.time())}"
            try:
                with start_services(
                    pg,
                    broker.bootstrap,
                    Path(logs),
                    database_prefix=prefix,
                    replicas=args.replicas,
                    extra_env=every,
                    service_env_overrides={"notifications": env},
                ) as services:
                    print(
                        f"platform up: {args.replicas} replica(s) per service, broker {broker.kind}, Postgres"
                        f" {pg.kind}; steps of {args.step_seconds:g} s",
                        flush=True,
                    )
                    urls = {name: [r.url for r in s.replicas] for name, s in services.items()}
                    dsns = {name: pg.dsn_for(s.database) for name, s in services.items()}
                    asyncio.run(drive(args, urls, broker.bootstrap, dsns))
            finally:
                for name in ("profiles", "matching", "relationships", "notifications", "analytics"):
                    pg.drop_database(f"{prefix}_{name}")
    finally:
        sink.stop()


if __name__ == "__main__":
    sys.exit(main())
