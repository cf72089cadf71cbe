"""Bulk HR import: a deterministic synthetic file through ``mentorship hr import`` into profiles.

Starts Postgres (``MENTORSHIP_PG_DSN`` or an embedded, durable one), Tansu and the
profiles service as its own process, then times, with the CLI as a user runs it:
the first import (every row a new participant), the same file again (every row a
no-op), the same file as a nightly full snapshot (nothing changed), a dry run of a
file with 10% of rows changed, and that file for real.  Beside them, the limit: a raw
COPY of the same rows (the file read and parsed, the rows copied into a table of
their columns) on the same Postgres.  Each CLI run's peak RSS is measured; a first
import of a file a tenth the size shows whether memory grows with the file.

    python -m bench.hr_import [--rows 100000] [--batch-size 1000] [--parallel 2] [--seed 7] [--skip-changed]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from bench.common import durability, per_second, postgres_server, ratio, table
from mentorship.devstack.broker import start_broker
from mentorship.stack import start_services

DEPARTMENTS = ["Surgery", "Medicine", "Pediatrics", "Oncology", "Radiology", "Nursing", "Research", "Library"]
FUNCTIONS = ["faculty", "research", "clinical", "administration"]
SITES = ["Main campus", "North site", "South clinic", "Downtown"]


FIRST_IMPORT_TARGET = 10_000  # rows/s
SNAPSHOT_TARGET = 50_000  # rows/s
RSS_GROWTH_LIMIT = 1.25  # peak RSS at the full file over a tenth of it
COLUMNS = (
    "employee_id",
    "legal_name",
    "work_email",
    "title",
    "job_function",
    "department_id",
    "department_name",
    "location",
    "country",
    "original_hire_date",
    "last_hire_date",
    "effective_date",
)


def synthetic_rows(count: int, seed: int, prefix: str = "W") -> Iterator[dict]:
    rng = random.Random(seed)
    for n in range(count):
        hired = f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        department = rng.randrange(len(DEPARTMENTS))
        yield (
            {
                "employee_id": f"{prefix}{n:07}",
                "legal_name": f"Worker {n}",
                "work_email": f"{prefix.lower()}{n}@example.edu",
                "title": rng.choice(["Lecturer", "Professor", "Nurse", "Analyst", "Coordinator"]),
                "job_function": rng.choice(FUNCTIONS),
                "department_id": f"D{department}",
                "department_name": DEPARTMENTS[department],
                "location": rng.choice(SITES),
                "country": "US",
                "original_hire_date": hired,
                "last_hire_date": hired,
                "effective_date": "2025-01-01",
            }
        )


def changed(rows: Iterator[dict], seed: int) -> Iterator[dict]:
    rng = random.Random(seed + 1)
    for row in rows:
        if rng.random() < 0.1:
            row = {**row, "department_name": rng.choice(DEPARTMENTS), "effective_date": "2025-02-01"}
        yield row


def write_jsonl(path: Path, rows: Iterator[dict]) -> Path:
    with path.open("w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


@dataclass(frozen=True)
class Run:
    name: str
    rows: int
    seconds: float
    peak_rss_mb: float
    cli_cpu: float = 0.0  # seconds of CPU (user + system) of the CLI process
    server_cpu: float = 0.0  # of the profiles process
    postgres_cpu: float = 0.0  # of the Postgres server's processes

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    def per_row_ms(self, cpu: float) -> str:
        return f"{cpu / self.rows * 1000:.3f}"


class CpuMeter:
    """CPU seconds (user + system) the profiles process and the Postgres server spent: the machine is shared, so
    CPU per row says more than wall time.  Postgres counts its live backends and those it has reaped."""

    def __init__(self, profiles_pid: int, postgres: list[psutil.Process]) -> None:
        self.profiles = psutil.Process(profiles_pid)
        self.postgres = postgres

    @classmethod
    def find(cls, profiles_pid: int, dsn: str) -> CpuMeter:
        async def postmaster() -> psutil.Process | None:
            conn = await asyncpg.connect(dsn)
            try:  # the backend serving this connection is a child of the server's postmaster
                return psutil.Process(await conn.fetchval("SELECT pg_backend_pid()")).parent()
            except psutil.Error:
                return None  # a remote server: its CPU is not ours to see
            finally:
                await conn.close()

        parent = asyncio.run(postmaster())
        return cls(profiles_pid, [parent] if parent is not None else [])

    def read(self) -> tuple[float, float]:
        times = self.profiles.cpu_times()
        server = times.user + times.system
        pg = 0.0
        for root in self.postgres:
            try:
                own = root.cpu_times()
                pg += own.user + own.system + own.children_user + own.children_system
                for child in root.children():
                    try:
                        t = child.cpu_times()
                        pg += t.user + t.system
                    except psutil.Error:
                        continue
            except psutil.Error:
                continue
        return server, pg


def drained(dsn: str, timeout: float = 600) -> None:
    """Wait until profiles' relay has published every event of the runs before: each run is then measured on
    its own, not with the last one's publishing still going on."""

    async def wait() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            deadline = time.monotonic() + timeout
            while await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox)") and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
        finally:
            await conn.close()

    asyncio.run(wait())


def run_import(
    name: str,
    rows: int,
    url: str,
    file: Path,
    batch_size: int,
    parallel: int,
    *options: str,
    cpu: CpuMeter | None,
    outbox_of: str | None = None,
) -> Run:
    """The CLI as its own process; its wall time, its peak RSS and CPU (from ``wait4``), the server's CPU.
    ``outbox_of``: profiles' database, whose outbox is drained first."""
    if outbox_of is not None:
        drained(outbox_of)
    before = cpu.read() if cpu else (0.0, 0.0)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mentorship.cli",
                "hr",
                "import",
                str(file),
                "--url",
                url,
                "--quiet",
                "--batch-size",
                str(batch_size),
                "--parallel",
                str(parallel),
                *options,
            ],
            stdout=out,
            stderr=err,
            text=True,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"{name}: import failed ({process.returncode}):\n{stdout}\n{stderr}")
    print(f"{name}: {stdout.strip().splitlines()[0]}", flush=True)
    after = cpu.read() if cpu else (0.0, 0.0)
    return Run(
        name,
        rows,
        elapsed,
        usage.ru_maxrss / 1024,
        usage.ru_utime + usage.ru_stime,
        after[0] - before[0],
        after[1] - before[1],
    )


async def raw_copy(dsn: str, file: Path) -> float:
    """The limit: the same file read, each line parsed, and the rows COPYed into a table of their columns."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE IF EXISTS raw_workers")
        await conn.execute(f"CREATE TABLE raw_workers ({', '.join(f'{c} text' for c in COLUMNS)})")
        started = time.perf_counter()
        with file.open() as f:
            records = (tuple(row.get(c) for c in COLUMNS) for row in map(json.loads, f))
            await conn.copy_records_to_table("raw_workers", records=records, columns=COLUMNS)
        elapsed = time.perf_counter() - started
        await conn.execute("DROP TABLE raw_workers")
    finally:
        await conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=2, help="batches in flight (the CLI's --parallel)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--skip-changed", action="store_true", help="leave out the two runs of the file with 10%% changed rows"
    )
    args = parser.parse_args()
    small_rows = max(args.rows // 10, 1)
    with (
        tempfile.TemporaryDirectory(prefix="bench-hr-import-") as tmp,
        postgres_server() as pg,
        start_broker() as broker,
        start_services(
            pg,
            broker.bootstrap,
            Path(tmp),
            names=("profiles",),
            database_prefix=f"bench_{uuid.uuid4().hex[:6]}",
            extra_env={"MENTORSHIP_LOG_LEVEL": "WARNING"},
        ) as running,
    ):
        url, n, size, parallel = running["profiles"].url, args.rows, args.batch_size, args.parallel
        first = write_jsonl(Path(tmp) / "workers.jsonl", synthetic_rows(n, args.seed))
        small = write_jsonl(Path(tmp) / "others.jsonl", synthetic_rows(small_rows, args.seed, prefix="S"))
        second = write_jsonl(Path(tmp) / "workers-changed.jsonl", changed(synthetic_rows(n, args.seed), args.seed))
        copy_db = pg.create_database(f"bench_copy_{uuid.uuid4().hex[:6]}")
        copy_seconds = asyncio.run(raw_copy(copy_db, first))
        server = asyncio.run(durability(copy_db))
        cpu = CpuMeter.find(running["profiles"].process.pid, copy_db)
        measure = {"cpu": cpu, "outbox_of": pg.dsn_for(running["profiles"].database)}
        runs = [
            run_import("first import (all created)", n, url, first, size, parallel, **measure),
            run_import(f"first import, {small_rows:,} other rows", small_rows, url, small, size, parallel, **measure),
            run_import("same file again (no-op)", n, url, first, size, parallel, **measure),
        ]
        second_small = write_jsonl(Path(tmp) / "snapshot.jsonl", _both(first, small))
        runs.append(
            run_import(
                "nightly snapshot, nothing changed",
                n + small_rows,
                url,
                second_small,
                size,
                parallel,
                "--snapshot",
                **measure,
            )
        )
        if not args.skip_changed:
            runs += [
                run_import("10% changed, dry run", n, url, second, size, parallel, "--dry-run", **measure),
                run_import("10% changed, applied", n, url, second, size, parallel, **measure),
            ]
    print()
    print(f"{n:,} rows, batches of {size}, {parallel} in flight; wall time of the CLI process (parse + HTTP + apply)")
    print(server)
    copy_rate = n / copy_seconds
    print(
        table(
            ["run", "rows", "seconds", "rows/s", "peak RSS MB", "CPU ms/row: CLI", "profiles", "Postgres"],
            [
                (
                    r.name,
                    f"{r.rows:,}",
                    f"{r.seconds:.1f}",
                    per_second(r.rate, "rows/s"),
                    f"{r.peak_rss_mb:.0f}",
                    r.per_row_ms(r.cli_cpu),
                    r.per_row_ms(r.server_cpu),
                    r.per_row_ms(r.postgres_cpu),
                )
                for r in runs
            ]
            + [
                (
                    "raw COPY of the same rows (the limit)",
                    f"{n:,}",
                    f"{copy_seconds:.1f}",
                    per_second(copy_rate, "rows/s"),
                    "",
                    "",
                    "",
                    "",
                )
            ],
        )
    )
    first_run, small_run, snapshot_run = runs[0], runs[1], runs[3]
    print(ratio("first import / raw COPY", first_run.rate, copy_rate, 0.0).replace(" (target >= 0: met)", ""))
    print(ratio(f"first import / {FIRST_IMPORT_TARGET:,} rows/s", first_run.rate, FIRST_IMPORT_TARGET, 1))
    print(
        ratio(f"nightly snapshot, nothing changed / {SNAPSHOT_TARGET:,} rows/s", snapshot_run.rate, SNAPSHOT_TARGET, 1)
    )
    growth = first_run.peak_rss_mb / small_run.peak_rss_mb
    print(
        f"peak RSS at {n:,} rows / at {small_rows:,} rows {growth:.2f}"
        f" (limit <= {RSS_GROWTH_LIMIT:g}: {'met' if growth <= RSS_GROWTH_LIMIT else 'MISSED'})"
    )


def _both(*files: Path) -> Iterator[dict]:
    for file in files:
        with file.open() as f:
            yield from map(json.loads, f)


if __name__ == "__main__":
    main()
