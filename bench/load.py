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
import contextlib
import functools
import os
import pstats
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import asyncpg
import httpx
import psutil
from aiokafka import TopicPartition
from aiosmtpd.controller import Controller

from bench.common import postgres_server, ratio, table
from mentorship.devstack.broker import start_broker
from mentorship.devstack.processes import ManagedProcess, free_port
from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import all_event_topics, new_admin, new_consumer
from shared.settings import DEV_JWT_SECRET
from shared.watchdog import records_after

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
        default=None,
        help="fixed offered commands/s per step, comma-separated (default: climb from --start-rate until the knee)",
    )
    parser.add_argument("--start-rate", type=_positive, default=20.0, help="the climb's first step (commands/s)")
    parser.add_argument("--factor", type=float, default=1.5, help="each step of the climb offers this much more")
    parser.add_argument("--max-rate", type=_positive, default=4000.0, help="the climb stops here at the latest")
    parser.add_argument("--refine", type=int, default=1, help="steps halving the gap between knee and failure")
    parser.add_argument("--step-seconds", type=_positive, default=10.0)
    parser.add_argument("--mentors", type=int, default=100)
    parser.add_argument("--max-in-flight", type=int, default=200, help="commands outstanding at once")
    parser.add_argument("--replicas", type=int, default=1, help="processes per service")
    parser.add_argument("--p99-limit-ms", type=_positive, default=1000.0)
    parser.add_argument(
        "--lag-limit-seconds",
        type=_positive,
        default=5.0,
        help="a step passes only while every consumer group stays within this many seconds of offered commands",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-peer", action="store_true", help="skip the bare FastAPI + asyncpg peer")
    parser.add_argument("--peer-only", action="store_true", help="only the peer (a check of the load generator)")
    parser.add_argument(
        "--profile", metavar="DIR", help="cProfile every service process (MENTORSHIP_PROFILE_DIR), print top costs"
    )
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=0.0,
        help="before the steps, measure each service's CPU this long with no load (its fixed cost per second)",
    )
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
    if args.factor <= 1:
        parser.error("--factor must be > 1")
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


@functools.cache
def token(subject: str, role: Role) -> dict[str, str]:
    """A client's bearer header, minted once and sent with each of its requests (as a real client does)."""
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
    wall: float = 0.0  # seconds from the step's first offer to its last answer (the drain included)

    def failures_text(self) -> str:
        return ", ".join(f"{cause} x{n}" for cause, n in sorted(self.failures.items())) or "none"


class OpenLoop:
    """Offers ``one`` open-loop at a rate: an offer is sent on time whatever the answers before it, unless
    ``max_in_flight`` offers are outstanding (then it is counted as not sent).

    A latency runs from the moment the offer was due, not from when it was sent: an offer the client itself
    could not send on time (its event loop busy) counts the delay (no coordinated omission). The outstanding
    offers are counted when they are made, not when their task first runs, so a saturated client cannot queue
    more than ``max_in_flight`` unseen."""

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.gate = asyncio.Semaphore(max_in_flight)
        self.client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=max_in_flight))

    async def one(self, result: StepResult, due: float) -> None:
        raise NotImplementedError

    async def run_step(self, rate: float, seconds: float) -> StepResult:
        result = StepResult()
        tasks: set[asyncio.Task] = set()
        start = time.monotonic()
        n = 0
        while (due := start + n / rate) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            n += 1
            if len(tasks) >= self.max_in_flight:
                result.late += 1  # the target is not keeping up: the offer is not sent
                continue
            task = asyncio.create_task(self.one(result, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(set(tasks))
        result.wall = time.monotonic() - start
        return result


class PeerDriver(OpenLoop):
    """The bare peer (``bench/peer_app.py``): one POST of a mentee-sized body per offer."""

    def __init__(self, url: str, max_in_flight: int) -> None:
        super().__init__(max_in_flight)
        self.url = url
        self.count = 0

    async def one(self, result: StepResult, due: float) -> None:
        async with self.gate:
            self.count += 1
            body = {
                "participant_id": f"peer-{self.count:07d}",
                "name": "Mentee",
                "email": f"peer-{self.count:07d}@example.edu",
                "profile": profile(self.count),
            }
            try:
                response = await self.client.post(self.url + "/rows", json=body)
                failure = "" if response.status_code < 300 else str(response.status_code)
                text = response.text
            except httpx.HTTPError as exc:
                failure, text = type(exc).__name__, repr(exc)
            elapsed = time.monotonic() - due
        if failure:
            result.errors += 1
            result.failures[failure] += 1
            result.examples.setdefault(failure, text[:160])
        else:
            result.latencies.append(elapsed)


class Driver(OpenLoop):
    def __init__(self, urls: dict[str, list[str]], mentors: int, seed: int, max_in_flight: int) -> None:
        super().__init__(max_in_flight)
        self.urls = urls
        self.rng = random.Random(seed)
        self.mentors = [f"load-mentor-{j:04d}" for j in range(mentors)]
        self.admin = token("load-director", Role.admin)
        self.ready: deque[Journey] = deque()
        self.count = 0

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

    async def one(self, result: StepResult, due: float) -> None:
        await self.command(self.next_journey(), result, due)

    async def command(self, j: Journey, result: StepResult, due: float | None = None) -> None:
        async with self.gate:
            outcome, elapsed = await self._timed(j)
            if outcome == "wait":  # the event it needs is still on its way: retry later; a new mentee instead
                j.not_before = time.monotonic() + 0.5
                self.ready.append(j)
                self.count += 1
                j = Journey(f"load-mentee-{self.count:06d}", self.rng.sample(self.mentors, 2))
                outcome, elapsed = await self._timed(j)
        if due is not None:  # from the moment the offer was due (see OpenLoop)
            elapsed = time.monotonic() - due
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


class LagProbe:
    """Records behind, per consumer group and for analytics' projector, sampled while a step runs.

    Committed offsets come from the admin client (no member joins a group, so no partition moves); the ends
    from a fetch's high watermark (``shared.watchdog.records_after``: Tansu's ListOffsets answers too low)."""

    def __init__(self, bootstrap: str, analytics_dsn: str) -> None:
        self.bootstrap = bootstrap
        self.analytics_dsn = analytics_dsn
        self.admin = new_admin(bootstrap)
        self.probe = new_consumer(bootstrap, enable_auto_commit=False)
        self.ends: dict[TopicPartition, int] = {}

    async def start(self) -> None:
        await self.admin.start()
        await self.probe.start()

    async def stop(self) -> None:
        await self.probe.stop()
        await self.admin.close()

    async def sample(self) -> dict[str, int]:
        existing = await self.probe.topics()
        partitions = [
            TopicPartition(t, p)
            for t in all_event_topics()
            if t in existing
            for p in self.probe.partitions_for_topic(t) or ()
        ]
        after = await records_after(self.probe, {tp: self.ends.get(tp, 0) for tp in partitions}, 5.0)
        if after is None:
            return {}
        self.ends = {tp: self.ends.get(tp, 0) + n for tp, n in after.items()}
        behind = {}
        for group, topics in GROUPS.items():
            mine = [tp for tp in partitions if tp.topic in topics]
            committed = await self.admin.list_consumer_group_offsets(group, partitions=mine)
            behind[group] = sum(max(self.ends[tp] - max(getattr(committed.get(tp), "offset", 0), 0), 0) for tp in mine)
        conn = await asyncpg.connect(self.analytics_dsn)
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
        behind["analytics"] = sum(max(end - done.get(tp, 0), 0) for tp, end in self.ends.items())
        return behind

    async def watch(self, stop: asyncio.Event, every: float = 2.0) -> dict[str, int]:
        """The largest lag of each group seen until ``stop`` (sampled every ``every`` seconds, and once after)."""
        worst: dict[str, int] = {}
        while True:
            for group, n in (await self.sample()).items():
                worst[group] = max(worst.get(group, 0), n)
            if stop.is_set():
                return worst
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)


async def outbox_backlog(dsns: list[str]) -> int:
    backlog = 0
    for dsn in dsns:
        conn = await asyncpg.connect(dsn)
        try:
            backlog += await conn.fetchval("SELECT count(*) FROM outbox")
        finally:
            await conn.close()
    return backlog


def percentile(values: list[float], q: int) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class _Sink:
    async def handle_DATA(self, server, session, envelope) -> str:
        return "250 2.0.0 OK"


@dataclass
class Step:
    rate: float
    sustained: float
    p50: float
    p99: float
    result: StepResult
    lag: dict[str, int] = field(default_factory=dict)
    backlog: int = 0
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU per command, per service

    def passed(self, p99_limit_ms: float, lag_limit_seconds: float | None) -> bool:
        ok = self.sustained >= 0.9 * self.rate and self.result.errors == 0 and self.p99 < p99_limit_ms
        if lag_limit_seconds is not None:
            ok = ok and max(self.lag.values(), default=0) <= self.rate * lag_limit_seconds
        return ok

    def row(self) -> list[object]:
        lag = " ".join(f"{g[:5]}={n}" for g, n in self.lag.items()) or "-"
        return [
            f"{self.rate:g}",
            f"{self.sustained:.1f}",
            f"{self.p50:.0f}",
            f"{self.p99:.0f}",
            self.result.errors,
            self.result.late,
            lag,
            self.backlog,
        ]


HEADER = ["offered/s", "sustained/s", "p50 ms", "p99 ms", "errors", "not sent", "max consumer lag in step", "outbox"]
PEER_HEADER = ["offered/s", "sustained/s", "p50 ms", "p99 ms", "errors", "not sent"]


class CpuMeter:
    """CPU seconds of each service's processes (every replica, with its children), and of a local broker's."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.processes = {name: [psutil.Process(pid) for pid in ids] for name, ids in pids.items()}

    def read(self) -> dict[str, float]:
        totals = {}
        for name, processes in self.processes.items():
            total = 0.0
            for process in processes:
                with contextlib.suppress(psutil.Error):
                    for p in (process, *process.children(recursive=True)):
                        times = p.cpu_times()
                        total += times.user + times.system
            totals[name] = total
        return totals


async def climb(
    args: argparse.Namespace,
    target: OpenLoop,
    label: str,
    measure: Callable[[float, StepResult, float], Awaitable[Step]],
) -> tuple[list[Step], float | None]:
    """Raise the rate until a step fails (``Step.passed``), then halve the gap ``--refine`` times; when the first
    step fails, lower the rate by the factor until one passes."""
    steps: list[Step] = []
    knee: float | None = None
    failed: float | None = None
    fixed = list(args.steps) if args.steps else None
    rate = fixed.pop(0) if fixed else args.start_rate
    refinements = 0
    while True:
        step = await measure(rate, await target.run_step(rate, args.step_seconds), args.step_seconds)
        steps.append(step)
        ok = step.passed(args.p99_limit_ms, args.lag_limit_seconds if label == "platform" else None)
        print(f"{label}: " + "  ".join(f"{h}={v}" for h, v in zip(HEADER, step.row(), strict=False))
              + f"  {'pass' if ok else 'FAIL'}; errors: {step.result.failures_text()}"
              + "".join(f"; {s} {ms:.1f} ms CPU/command" for s, ms in step.cpu_ms.items()), flush=True)  # fmt: skip
        for cause, example in sorted(step.result.examples.items()):
            print(f"  first {cause}: {example}", flush=True)
        if ok:
            knee = rate if knee is None or rate > knee else knee
        else:
            failed = rate if failed is None or rate < failed else failed
        if fixed is not None:
            if not fixed:
                break
            rate = fixed.pop(0)
            continue
        if ok and failed is None:
            rate *= args.factor
            if rate > args.max_rate:
                break
            continue
        if knee is None:  # the first step failed already: come down until one passes
            rate = round(rate / args.factor, 1)
            if rate < 1:
                break
            continue
        if knee is None or failed is None or refinements >= args.refine:
            break
        refinements += 1
        rate = round((knee + failed) / 2, 1)
    return steps, knee


async def drive(
    args: argparse.Namespace,
    urls: dict[str, list[str]],
    bootstrap: str,
    dsns: dict[str, str],
    pids: dict[str, list[int]],
    peer_url: str | None,
) -> None:
    platform_steps: list[Step] = []
    platform_knee: float | None = None
    if not args.peer_only:
        driver = Driver(urls, args.mentors, args.seed, args.max_in_flight)
        probe = LagProbe(bootstrap, dsns["analytics"])
        cpu = CpuMeter(pids)
        await probe.start()
        try:
            await driver.setup()
            publishers = [d for s, d in dsns.items() if s != "analytics"]
            idle = await _idle_cpu(cpu, args.idle_seconds) if args.idle_seconds else {}

            platform_steps, platform_knee = await _platform_climb(args, driver, probe, cpu, publishers, idle)
        finally:
            await driver.client.aclose()
            await probe.stop()
    peer_steps: list[Step] = []
    peer_knee: float | None = None
    if peer_url is not None:
        peer = PeerDriver(peer_url, args.max_in_flight)
        try:
            peer_steps, peer_knee = await climb(args, peer, "peer", _plain_measure)
        finally:
            await peer.client.aclose()
    print()
    if platform_steps:
        print("platform (every command through the HTTP APIs, its events through the bus to every consumer):")
        print(table(HEADER, [s.row() for s in platform_steps]))
        services = list(platform_steps[0].cpu_ms)
        cpu_rows = [[f"{s.rate:g}", *[f"{s.cpu_ms.get(n, 0):.2f}" for n in services]] for s in platform_steps]
        print(table(["offered/s", *[f"{s} ms CPU/cmd" for s in services]], cpu_rows))
        errors = [[f"{s.rate:g}", s.result.failures_text()] for s in platform_steps]
        print(table(["offered/s", "errors by status"], errors))
        print(f"knee: {platform_knee:g} commands/s offered" if platform_knee else "knee: below the first step")
    if peer_steps:
        print("peer (bare FastAPI + asyncpg, one single-row transaction per request, same Postgres and client):")
        print(table(PEER_HEADER, [s.row()[:6] for s in peer_steps]))
        print(f"peer knee: {peer_knee:g} requests/s offered" if peer_knee else "peer knee: below the first step")
    print(
        f"(a step passes when it sustained >= 90 % of its offered rate with no errors and p99 <"
        f" {args.p99_limit_ms:g} ms, and, for the platform, every consumer group's lag stayed <="
        f" {args.lag_limit_seconds:g} s of offered commands)"
    )
    if platform_knee and peer_knee:
        print(ratio("platform knee / bare knee", platform_knee, peer_knee, 0.5))


async def statements_sent(client: httpx.AsyncClient, urls: dict[str, list[str]]) -> dict[str, float]:
    """Each service's SQL statements so far (``mentorship_db_statements_total`` on every replica's /metrics);
    a service that does not count them is left out."""
    sent: dict[str, float] = {}
    for name, replicas in urls.items():
        for url in replicas:
            with contextlib.suppress(httpx.HTTPError):
                for line in (await client.get(url + "/metrics")).text.splitlines():
                    if line.startswith("mentorship_db_statements_total "):
                        sent[name] = sent.get(name, 0.0) + float(line.split()[1])
    return sent


async def _idle_cpu(cpu: CpuMeter, seconds: float) -> dict[str, float]:
    """Each service's CPU while no command is offered (its consumers polling, relays and timers waiting): the part of
    a step's CPU per command that does not grow with the commands."""
    await asyncio.sleep(2)  # the setup's last events settle
    before = cpu.read()
    await asyncio.sleep(seconds)
    after = cpu.read()
    idle = {n: (after[n] - before[n]) * 1000 / seconds for n in after}
    print(f"idle for {seconds:g} s: " + "; ".join(f"{n} {ms:.1f} ms CPU/s" for n, ms in idle.items()), flush=True)
    return idle


async def _plain_measure(rate: float, result: StepResult, seconds: float) -> Step:
    return _step(rate, result, seconds)


def _step(rate: float, result: StepResult, seconds: float) -> Step:
    sustained = len(result.latencies) / max(seconds, result.wall)  # answers per second of the step and its drain
    p50, p99 = percentile(result.latencies, 50) * 1000, percentile(result.latencies, 99) * 1000
    return Step(rate, sustained, p50, p99, result)


async def _platform_climb(
    args: argparse.Namespace,
    driver: Driver,
    probe: LagProbe,
    cpu: CpuMeter,
    publishers: list[str],
    idle: dict[str, float] | None = None,
) -> tuple[list[Step], float | None]:
    class Measured(OpenLoop):
        """The driver, with the lag watched and the CPU counted while each step runs."""

        def __init__(self) -> None:
            self.gate, self.client = driver.gate, driver.client
            self.last: tuple[dict[str, int], dict[str, float], float] | None = None
            self.statements: dict[str, float] = {}

        async def run_step(self, rate: float, seconds: float) -> StepResult:
            stop = asyncio.Event()
            sent_before = await statements_sent(driver.client, driver.urls)
            before, started = cpu.read(), time.monotonic()
            watching = asyncio.create_task(probe.watch(stop))
            result = await driver.run_step(rate, seconds)
            elapsed = time.monotonic() - started
            after = cpu.read()
            sent_after = await statements_sent(driver.client, driver.urls)
            stop.set()
            worst = await watching
            done = max(len(result.latencies), 1)
            self.last = (worst, {n: (after[n] - before[n]) * 1000 / done for n in after}, elapsed)
            self.statements = {n: (sent_after[n] - sent_before[n]) / done for n in sent_after if n in sent_before}
            return result

    measured = Measured()

    async def measure(rate: float, result: StepResult, seconds: float) -> Step:
        worst, cpu_ms, elapsed = measured.last
        step = _step(rate, result, elapsed)
        step.lag, step.cpu_ms = worst, cpu_ms
        if idle:  # what the commands cost beyond the services' idle CPU (ms per second, measured before the steps)
            done = max(len(result.latencies), 1)
            print(
                "  CPU per command beyond idle: "
                + "; ".join(f"{n} {ms - idle.get(n, 0.0) * elapsed / done:.2f} ms" for n, ms in cpu_ms.items()),
                flush=True,
            )
        if measured.statements:
            print(
                "  SQL statements per command (round trips, the step's commands and what they set off): "
                + "; ".join(f"{n} {v:.1f}" for n, v in measured.statements.items()),
                flush=True,
            )
        step.backlog = await outbox_backlog(publishers)
        return step

    return await climb(args, measured, "platform", measure)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    sink = Controller(_Sink(), hostname="127.0.0.1", port=free_port())
    sink.start()
    profile_dir = Path(args.profile).resolve() if args.profile else None
    try:
        with postgres_server() as pg, start_broker() as broker, tempfile.TemporaryDirectory(prefix="load-") as logs:
            env = {
                "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(sink.port),
                "MENTORSHIP_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            }
            every = dict(item.split("=", 1) for item in args.service_env)
            if profile_dir is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
                every["MENTORSHIP_PROFILE_DIR"] = str(profile_dir)
            prefix = f"load_{int(time.time())}"
            try:
                with (
                    start_services(
                        pg,
                        broker.bootstrap,
                        Path(logs),
                        database_prefix=prefix,
                        replicas=args.replicas,
                        extra_env=every,
                        service_env_overrides={"notifications": env},
                    ) as services,
                    _peer(pg, prefix, Path(logs), skip=args.no_peer) as peer_url,
                ):
                    print(
                        f"platform up: {args.replicas} replica(s) per service, broker {broker.kind}, Postgres"
                        f" {pg.kind}; steps of {args.step_seconds:g} s",
                        flush=True,
                    )
                    urls = {name: [r.url for r in s.replicas] for name, s in services.items()}
                    dsns = {name: pg.dsn_for(s.database) for name, s in services.items()}
                    pids = {name: [r.process.pid for r in s.replicas] for name, s in services.items()}
                    # The broker's CPU beside the services' when it is a process of this bench (Tansu): it shares
                    # the machine, and every fetch, offset commit and produce costs it (shared/subscription.py).
                    metered = {**pids, "broker": [broker.pid]} if broker.pid is not None else pids
                    asyncio.run(drive(args, urls, broker.bootstrap, dsns, metered, peer_url))
                    if profile_dir is not None:  # each service writes its profile so far (shared/serve.py)
                        for pid in (p for ids in pids.values() for p in ids):
                            os.kill(pid, signal.SIGUSR2)
                        time.sleep(3)
            finally:
                for name in ("profiles", "matching", "relationships", "notifications", "analytics", "peer"):
                    pg.drop_database(f"{prefix}_{name}")
    finally:
        sink.stop()
    if profile_dir is not None:
        print_profiles(profile_dir)


@contextlib.contextmanager
def _peer(pg, prefix: str, logs: Path, *, skip: bool) -> Iterator[str | None]:
    """The bare peer as its own process, on its own database of the same Postgres."""
    if skip:
        yield None
        return
    port = free_port()
    dsn = pg.create_database(f"{prefix}_peer")
    env = {**os.environ, "PEER_PG_DSN": dsn, "PEER_HTTP_PORT": str(port), "PYTHONUNBUFFERED": "1"}
    process = ManagedProcess([sys.executable, "-m", "bench.peer_app"], env=env, log_path=logs / "peer.log")
    process.start()
    try:
        process.wait_for_port("127.0.0.1", port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def print_profiles(directory: Path, top: int = 25) -> None:
    """The functions with the most CPU of their own (tottime) in each profiled process."""
    for path in sorted(directory.glob("*.prof")):
        print(f"\n--- {path.name}: top {top} by own time ---")
        stats = pstats.Stats(str(path))
        stats.sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    sys.exit(main())
