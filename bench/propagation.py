"""Propagation: a command's commit in one service → its effect committed in the consuming service.

Starts the platform (every service its own process, Tansu or ``MENTORSHIP_KAFKA_BOOTSTRAP``, Postgres),
then registers mentors through profiles' API one at a time and times each from the commit of its
``MentorRegistered`` in profiles to the commit of its row in matching's mentor directory. Both moments are
taken by the database itself: the bench adds an ``AFTER INSERT`` trigger to each of the two tables (observers
only) that sends a ``NOTIFY``, which Postgres delivers at commit, to a connection of the bench listening on
each database. Measured at idle, then with the load of ``bench/load.py`` running at half the knee (``--knee``,
by default the one ``bench/load.py`` measured last on this machine; the line names the rate and why; in a process
of its own, so that it does not delay the moments the bench notes), beside raw aiokafka produce → consume on the
same broker at the same moments (a producer with ``linger_ms=0`` and a consumer with ``fetch_max_wait_ms=10``: what
the broker itself takes). Before the samples, it prints the CPU each service and the broker take at idle (waiting
for records costs each consumer a fetch every ``consumer_fetch_max_wait_ms``).

Per phase it also prints each hop by the wall clock: commit → sent by profiles' relay (the record's timestamp),
sent → fetched by a consumer of the bench's own, and from there → matching's row committed; and matching's key
requests to profiles, as matching timed them and as profiles served them (histograms of their ``/metrics``).

Target: platform p99 <= 2 x raw p99 + 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import psutil
from aiosmtpd.controller import Controller

from bench.common import postgres_server, table
from bench.load import Driver, _Sink, profile, token
from mentorship.devstack.broker import start_broker
from mentorship.devstack.processes import ManagedProcess, free_port
from mentorship.stack import start_services
from shared.auth import Role
from shared.bus import ensure_topics, new_consumer, new_producer, topic_for
from shared.keysource import KEYS_PATH

PREFIX = "prop-mentor-"
LAST_KNEE = 84.4
"""``bench/load.py``'s knee measured last on this machine (README, issue 20's figures): half of it is the load."""
RAW_TOPIC = "bench.propagation"

TRIGGER = """
CREATE OR REPLACE FUNCTION bench_propagation_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bench_propagation', NEW.{column});
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER bench_propagation AFTER INSERT ON {table}
    FOR EACH ROW WHEN (NEW.{column} LIKE '{prefix}%') EXECUTE FUNCTION bench_propagation_notify();
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, help="mentors registered per phase")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between two registrations")
    parser.add_argument(
        "--knee",
        type=float,
        default=LAST_KNEE,
        help=f"the knee bench/load.py found on this machine, commands/s (default {LAST_KNEE:g}, the last measured;"
        " 0: idle only): the second phase runs its journeys at half of it, as issue 20 defines the loaded measurement",
    )
    parser.add_argument(
        "--load-rate",
        type=float,
        help="commands/s of the load beside the second phase, instead of half the knee (a different measurement)",
    )
    parser.add_argument("--service-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--drive-load", help=argparse.SUPPRESS)  # the load's own process (LoadProcess)
    args = parser.parse_args(argv)
    if args.samples < 10 or args.interval < 0 or args.knee < 0 or (args.load_rate or 0) < 0:
        parser.error("--samples must be >= 10, --interval, --knee and --load-rate >= 0")
    if args.load_rate is None:
        args.load_rate = round(args.knee / 2, 1)
        args.load_why = f"half the knee of {args.knee:g} commands/s"
    else:
        args.load_why = "--load-rate" + (f", not half the knee of {args.knee:g}" if args.knee else "")
    return args


class Commits:
    """Commit moments (``time.perf_counter``) of rows whose key starts with ``PREFIX``, from a NOTIFY the
    trigger sends (Postgres delivers it when the inserting transaction commits)."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.wall: dict[str, float] = {}  # the same moments by the wall clock, beside the broker's timestamps
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.conn: asyncpg.Connection | None = None

    async def start(self, dsn: str, table_name: str, column: str) -> None:
        self.conn = await asyncpg.connect(dsn)
        await self.conn.execute(TRIGGER.format(table=table_name, column=column, prefix=PREFIX))
        await self.conn.add_listener("bench_propagation", self._notified)

    def _notified(self, _conn: object, _pid: int, _channel: str, key: str) -> None:
        at = time.perf_counter()
        self.seen[key] = at
        self.wall[key] = time.time()
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(at)

    async def wait(self, key: str, timeout: float = 30.0) -> float:
        if key in self.seen:
            return self.seen[key]
        future = self.waiting.setdefault(key, asyncio.get_running_loop().create_future())
        return await asyncio.wait_for(future, timeout)

    async def stop(self) -> None:
        if self.conn is not None:
            await self.conn.close()


class Published:
    """When each registration's record left profiles' relay (the producer's timestamp, ms) and reached a consumer of
    the bench's own (``fetch_max_wait_ms=10``, as the raw one): the hops between the two commits."""

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self.consumer = new_consumer(
            bootstrap,
            topic_for("profiles"),
            group_id=f"bench-hops-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="latest",
            fetch_max_wait_ms=10,
            enable_auto_commit=False,
        )
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        while not self.consumer.assignment():
            await self.consumer.getmany(timeout_ms=100)
        await self.consumer.getmany(timeout_ms=200)  # positions resolved before the first registration
        self.task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            batches = await self.consumer.getmany(timeout_ms=1000)
            now = time.time()
            for record in (r for records in batches.values() for r in records):
                key = (record.key or b"").decode(errors="replace")
                if key.startswith(PREFIX) and key not in self.seen:
                    self.sent[key], self.seen[key] = record.timestamp / 1000, now

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        await self.consumer.stop()


class Scrape:
    """A histogram of a service's ``/metrics`` between two moments: how a phase's key requests went."""

    def __init__(self, url: str, metric: str, match: str) -> None:
        self.url, self.metric, self.match = url, metric, match
        self.before: dict[float, float] = {}

    async def read(self, client: httpx.AsyncClient) -> dict[float, float]:
        """Cumulative count per bucket's upper bound (``inf`` included), ``-1``: the sum of seconds, ``-2``: the
        requests answered with another status than 200."""
        text = (await client.get(f"{self.url}/metrics")).text
        counts: dict[float, float] = {}
        for line in text.splitlines():
            if not line.startswith(self.metric) or self.match not in line:
                continue
            name, value = line.rsplit(" ", 1)
            if name.startswith(f"{self.metric}_bucket"):
                bound = name.split('le="', 1)[1].split('"', 1)[0]
                counts[float(bound)] = counts.get(float(bound), 0.0) + float(value)
            elif name.startswith(f"{self.metric}_sum"):
                counts[-1.0] = counts.get(-1.0, 0.0) + float(value)
            elif name.startswith(f"{self.metric}_count") and 'status="' in name and 'status="200"' not in name:
                counts[-2.0] = counts.get(-2.0, 0.0) + float(value)  # answered otherwise (503: shed)
        return counts

    async def begin(self, client: httpx.AsyncClient) -> None:
        self.before = await self.read(client)

    async def summary(self, client: httpx.AsyncClient) -> str:
        after = await self.read(client)
        delta = {b: after[b] - self.before.get(b, 0.0) for b in after}
        bounds = sorted(b for b in delta if b >= 0)
        total = delta.get(float("inf"), 0.0)
        if not total:
            return "none"

        def under(q: float) -> str:
            bound = next(b for b in bounds if delta[b] >= q * total)
            return f"<= {bound * 1000:g} ms" if bound != float("inf") else "over the last bucket"

        mean = delta.get(-1.0, 0.0) / total * 1000
        refused = f", {delta[-2.0]:.0f} not answered 200" if delta.get(-2.0) else ""
        return f"{total:.0f} requests, mean {mean:.1f} ms, p50 {under(0.5)}, p99 {under(0.99)}{refused}"


def hops(commands: Commits, published: Published, effects: Commits, mentors: list[str]) -> str:
    """p50/p99 of each hop, by the wall clock (a producer's timestamp has ms resolution)."""
    parts = {"commit → relay sent": [], "sent → a consumer has it": [], "has it → matching committed": []}
    for m in mentors:
        if m in published.sent and m in commands.wall and m in effects.wall:
            parts["commit → relay sent"].append(published.sent[m] - commands.wall[m])
            parts["sent → a consumer has it"].append(published.seen[m] - published.sent[m])
            parts["has it → matching committed"].append(effects.wall[m] - published.seen[m])
    if len(parts["commit → relay sent"]) < 10:
        return "too few records seen by the bench's consumer"
    return "; ".join(f"{name} p50 {quantile(v, 50):.1f}, p99 {quantile(v, 99):.1f} ms" for name, v in parts.items())


async def platform_samples(
    client: httpx.AsyncClient,
    profiles_url: str,
    commands: Commits,
    effects: Commits,
    n: int,
    interval: float,
    mentors: list[str] | None = None,
) -> list[float]:
    admin = token("propagation-director", Role.admin)
    latencies = []
    for _ in range(n):
        mentor = f"{PREFIX}{uuid.uuid4().hex[:12]}"
        body = {
            "participant_id": mentor,
            "name": "Mentor",
            "email": f"{mentor}@example.edu",
            "capacity": 2,
            "profile": profile(len(latencies)),
        }
        response = await client.post(f"{profiles_url}/mentors", json=body, headers=admin)
        response.raise_for_status()
        committed = await commands.wait(mentor)
        effect = await effects.wait(mentor)
        latencies.append(effect - committed)
        if mentors is not None:
            mentors.append(mentor)
        await asyncio.sleep(interval)
    return latencies


async def raw_samples(bootstrap: str, n: int, interval: float) -> list[float]:
    """aiokafka produce → consume of a message the size of an event, one at a time."""
    producer = new_producer(bootstrap, linger_ms=0)
    group = f"bench-raw-{uuid.uuid4().hex[:8]}"
    consumer = new_consumer(
        bootstrap,
        RAW_TOPIC,
        group_id=group,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=10,
        enable_auto_commit=False,
    )
    await producer.start()
    await consumer.start()
    try:
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=100)
        await consumer.getmany(timeout_ms=500)  # positions resolved before the first send
        latencies = []
        value = b"x" * 900
        for _ in range(n):
            key = uuid.uuid4().hex.encode()
            started = time.perf_counter()
            await producer.send_and_wait(RAW_TOPIC, value=value, key=key)
            got = False
            while not got and time.perf_counter() - started < 30:
                batches = await consumer.getmany(timeout_ms=1000)
                got = any(r.key == key for records in batches.values() for r in records)
            if got:
                latencies.append(time.perf_counter() - started)
            else:
                print("  raw: a record not received within 30 s (the group rebalanced?); left out", flush=True)
            await asyncio.sleep(interval)
        return latencies
    finally:
        await consumer.stop()
        await producer.stop()


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


async def phase(
    name: str,
    args: argparse.Namespace,
    client: httpx.AsyncClient,
    urls: dict[str, list[str]],
    bootstrap: str,
    commands: Commits,
    effects: Commits,
) -> list[object]:
    published, mentors = Published(bootstrap), []
    asked = Scrape(urls["matching"][0], "mentorship_key_fetch_seconds", 'producer="profiles"')
    served = Scrape(urls["profiles"][0], "mentorship_http_request_seconds", f'route="{KEYS_PATH}"')
    await published.start()
    await asked.begin(client)
    await served.begin(client)
    try:
        platform = await platform_samples(
            client, urls["profiles"][0], commands, effects, args.samples, args.interval, mentors
        )
    finally:
        await published.stop()
    raw = await raw_samples(bootstrap, args.samples, args.interval)
    p50, p99, raw50, raw99 = quantile(platform, 50), quantile(platform, 99), quantile(raw, 50), quantile(raw, 99)
    limit = 2 * raw99 + 20
    verdict = "met" if p99 <= limit else "MISSED"
    line = f"{name}: platform p99 / (2 x raw p99 + 20 ms) {p99 / limit:.2f} (target <= 1: {verdict})"
    print(
        f"{name}: register mentor → in matching's directory p50 {p50:.1f} ms, p99 {p99:.1f} ms;"
        f" raw aiokafka p50 {raw50:.1f} ms, p99 {raw99:.1f} ms",
        flush=True,
    )
    print(f"  per hop: {hops(commands, published, effects, mentors)}", flush=True)
    print(f"  matching's key requests to profiles (its /metrics): {await asked.summary(client)}", flush=True)
    print(f"  profiles' key route, served (its /metrics): {await served.summary(client)}", flush=True)
    print(line, flush=True)
    return [name, f"{p50:.1f}", f"{p99:.1f}", f"{raw50:.1f}", f"{raw99:.1f}", f"{limit:.1f}", line.split(": ", 1)[1]]


async def drive(
    args: argparse.Namespace, urls: dict[str, list[str]], bootstrap: str, dsns: dict[str, str], logs: Path
) -> None:
    await ensure_topics(bootstrap, [RAW_TOPIC], 3)
    commands, effects = Commits(), Commits()
    await commands.start(dsns["profiles"], "events", "stream_id")
    await effects.start(dsns["matching"], "mentor_directory", "mentor_id")
    rows = []
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            await platform_samples(client, urls["profiles"][0], commands, effects, 10, args.interval)  # warm-up
            rows.append(await phase("idle", args, client, urls, bootstrap, commands, effects))
            if args.load_rate > 0:
                with LoadProcess(urls, args.load_rate, logs / "load.log") as load:
                    await load.started()
                    await asyncio.sleep(5)  # the load under way
                    name = f"at {args.load_rate:g} commands/s ({args.load_why})"
                    rows.append(await phase(name, args, client, urls, bootstrap, commands, effects))
                    load.report()
    finally:
        await commands.stop()
        await effects.stop()
    print()
    print(table(["load", "p50 ms", "p99 ms", "raw p50 ms", "raw p99 ms", "limit ms", "ratio"], rows))


class LoadProcess:
    """``bench/load.py``'s journeys at a rate, in a process of their own (``--drive-load``).

    In the bench's own event loop, the load's requests delayed the moments the bench notes (a commit's NOTIFY
    waited for the loop) and the raw samples beside them: the figures under load were partly the bench's."""

    def __init__(self, urls: dict[str, list[str]], rate: float, log_path: Path) -> None:
        argv = [sys.executable, "-m", "bench.propagation", "--drive-load", json.dumps(urls), "--load-rate", str(rate)]
        self.log_path = log_path
        self.process = ManagedProcess(argv, log_path=log_path, name="load")

    def __enter__(self) -> LoadProcess:
        self.process.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.process.stop()

    async def started(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while "load: " not in self.log_path.read_text(errors="replace"):
            if not self.process.is_running() or time.monotonic() > deadline:
                raise RuntimeError(f"the load did not start\n{self.process.log_tail()}")
            await asyncio.sleep(0.2)

    def report(self) -> None:
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("load: "):
                print(f"  {line}", flush=True)


async def drive_load(urls: dict[str, list[str]], rate: float) -> None:
    """The load's own process: journeys at ``rate`` in steps of 5 s until stopped."""
    driver = Driver(urls, 100, 7, 200)
    try:
        await driver.setup()
        while True:
            result = await driver.run_step(rate, 5.0)
            sustained = len(result.latencies) / 5.0
            print(f"load: {sustained:.1f}/s sustained, errors: {result.failures_text()}", flush=True)
    finally:
        await driver.client.aclose()


async def idle_cpu(services: dict[str, object], broker_pid: int | None, seconds: float = 10.0) -> None:
    """Each process's CPU over ``seconds`` with nothing to do: what waiting for records costs."""
    procs = {name: psutil.Process(s.process.pid) for name, s in services.items()}
    if broker_pid is not None:
        procs["broker"] = psutil.Process(broker_pid)
    before = {name: _cpu(p) for name, p in procs.items()}
    await asyncio.sleep(seconds)
    shares = {name: (_cpu(p) - before[name]) / seconds * 100 for name, p in procs.items()}
    print("idle CPU, % of a core: " + ", ".join(f"{name} {share:.1f}" for name, share in shares.items()), flush=True)


def _cpu(proc: psutil.Process) -> float:
    """CPU seconds of a process and its children (a service's own, the broker's)."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.drive_load:
        asyncio.run(drive_load(json.loads(args.drive_load), args.load_rate))
        return
    sink = Controller(_Sink(), hostname="127.0.0.1", port=free_port())
    sink.start()
    try:
        with postgres_server() as pg, start_broker() as broker, tempfile.TemporaryDirectory(prefix="prop-") as logs:
            notifications = {
                "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(sink.port),
                "MENTORSHIP_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
            }
            every = dict(item.split("=", 1) for item in args.service_env)
            prefix = f"prop_{int(time.time())}"
            try:
                with start_services(
                    pg,
                    broker.bootstrap,
                    Path(logs),
                    database_prefix=prefix,
                    extra_env=every,
                    service_env_overrides={"notifications": notifications},
                ) as services:
                    print(f"platform up: broker {broker.kind}, Postgres {pg.kind}", flush=True)
                    urls = {name: [r.url for r in s.replicas] for name, s in services.items()}
                    dsns = {name: pg.dsn_for(s.database) for name, s in services.items()}
                    asyncio.run(idle_cpu(services, broker.pid))
                    asyncio.run(drive(args, urls, broker.bootstrap, dsns, Path(logs)))
            finally:
                for name in ("profiles", "matching", "relationships", "notifications", "analytics"):
                    with contextlib.suppress(Exception):
                        pg.drop_database(f"{prefix}_{name}")
    finally:
        sink.stop()


if __name__ == "__main__":
    sys.exit(main())
