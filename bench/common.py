"""Shared plumbing for the benchmarks: servers, fresh databases, payloads, timing, printing."""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import asyncpg

from mentorship.devstack.postgres import DSN_ENV, Postgres, start_postgres
from mentorship.devstack.processes import die_with_this_process
from shared.db import create_pool, migrate, shared_migrations
from shared.events.profiles import MentorCapacityChanged, MentorRegistered

SERVICE = "profiles"


# --- servers and databases -------------------------------------------------------------------


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    """The server in ``MENTORSHIP_PG_DSN``, else an embedded one with durable commits.

    ``start_postgres()`` turns fsync off for a throwaway data dir; here commits must wait
    for the disk like in production, so the embedded server gets a data dir of ours instead.

    Every bench starts its stack here first: from now on what it starts (this server, the broker, the
    services) dies with the bench, however the bench dies (``die_with_this_process``).
    """
    die_with_this_process()
    if os.environ.get(DSN_ENV):
        with start_postgres() as pg:
            yield pg
        return
    tmp = Path(tempfile.mkdtemp(prefix="mentorship-bench-pg-"))
    try:
        with start_postgres(data_dir=tmp / "pgdata") as pg:
            yield pg
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def service_logs_kept_out() -> Iterator[None]:
    """The service code's log lines, as a service writes them (JSON to stderr, at INFO), kept out of the terminal
    while a bench runs that code in its own process; stderr is given back after."""
    from shared.logging import configure_logging

    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
    try:
        configure_logging("bench", "INFO", True)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def fresh_database(pg: Postgres, prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    dsn = pg.create_database(name)
    try:
        yield dsn
    finally:
        pg.drop_database(name)


async def migrated(dsn: str) -> None:
    """Give a fresh database the event store, outbox, inbox and timer tables."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        await migrate(pool, shared_migrations())
    finally:
        await pool.close()


async def durability(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit') ORDER BY name"
        )
        version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return f"PostgreSQL {version}, " + ", ".join(f"{r['name']}={r['setting']}" for r in rows)


@dataclass(frozen=True)
class PgParams:
    """A DSN split into the keyword arguments libpq-style clients (psycopg) take."""

    host: str
    port: int
    user: str
    password: str
    dbname: str


def pg_params(dsn: str) -> PgParams:
    """Also handles the UNIX-socket form ``postgresql://user@/db?host=/socket/dir``."""
    parts = urlsplit(dsn)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return PgParams(
        host=query.get("host") or parts.hostname or "localhost",
        port=int(query.get("port") or parts.port or 5432),
        user=parts.username or query.get("user") or "postgres",
        password=parts.password or query.get("password") or "",
        dbname=parts.path.lstrip("/") or "postgres",
    )


# --- payloads ------------------------------------------------------------------------------


def mentor_registered(participant_id: str) -> MentorRegistered:
    return MentorRegistered(
        participant_id=participant_id,
        employee_id="E204518",
        name="Dr. Imani Okafor",
        email="imani.okafor@example.edu",
        profile={
            "biography": "Cardiologist running a heart-failure outcomes lab; mentors early-career"
            " clinician-scientists on K awards, first R01s and balancing clinic with research.",
            "specialty": "cardiology",
            "interests": ["heart failure", "outcomes research", "K awards", "work-life balance"],
            "career_stage": "senior",
            "job_function": "faculty",
            "department": "Internal Medicine",
            "location": "Main campus",
            "time_zone": "America/Chicago",
            "languages": ["en", "fr"],
        },
        demographics={"consented": True, "gender": "woman", "first_generation": True},
        capacity=4,
        training_status="workshop_completed",
        availability={"accepting_requests": True, "hours_per_month": 4, "formats": ["video", "in_person"]},
    )


def capacity_changed(participant_id: str, step: int) -> MentorCapacityChanged:
    old, new = (3, 4) if step % 2 else (4, 3)
    return MentorCapacityChanged(participant_id=participant_id, old_capacity=old, new_capacity=new)


# --- timing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


class _Window:
    """Counts completions inside ``[start, end)``; the time before ``start`` is warm-up."""

    def __init__(self, warmup: float, seconds: float) -> None:
        self.start = time.perf_counter() + warmup
        self.end = self.start + seconds
        self.seconds = seconds

    def open(self) -> bool:
        return time.perf_counter() < self.end

    def counts(self) -> bool:
        return self.start <= time.perf_counter() < self.end


async def measure_tasks(steps: Sequence[Callable[[], Awaitable[object]]], warmup: float, seconds: float) -> Rate:
    """Run each step in a loop on its own task; rate of steps completed after the warm-up."""
    window = _Window(warmup, seconds)

    async def drive(step: Callable[[], Awaitable[object]]) -> int:
        done = 0
        while window.open():
            await step()
            done += window.counts()
        return done

    counts = await asyncio.gather(*(drive(step) for step in steps))
    return Rate(sum(counts), window.seconds)


def measure_threads(steps: Sequence[Callable[[], object]], warmup: float, seconds: float) -> Rate:
    """Like :func:`measure_tasks` for blocking steps, one thread each."""

    def drive(step: Callable[[], object]) -> int:
        done = 0
        while window.open():
            step()
            done += window.counts()
        return done

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        window = _Window(warmup, seconds)
        counts = list(pool.map(drive, steps))
    return Rate(sum(counts), window.seconds)


# --- printing --------------------------------------------------------------------------------


def per_second(value: float, unit: str = "ev/s") -> str:
    return f"{value:,.0f} {unit}".rstrip()


def spread_cell(figures: Sequence[float]) -> str:
    """``3,042 (2,800-3,300)``: the median and the range of repeated measurements."""
    ordered = sorted(figures)
    median = f"{statistics.median(ordered):,.0f}"
    return median if len(ordered) == 1 else f"{median} ({ordered[0]:,.0f}-{ordered[-1]:,.0f})"


def ratio(name: str, numerator: float, denominator: float, target: float) -> str:
    """``ours/peer 2.85 (target >= 2: met)``."""
    value = numerator / denominator if denominator else float("inf")
    met = value >= target
    shown = f"{value:.2f}" if met or round(value, 2) < target else f"{value:.3f}"  # no "0.50 MISSED"
    return f"{name} {shown} (target >= {target:g}: {'met' if met else 'MISSED'})"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(map(str, header))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=False)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
