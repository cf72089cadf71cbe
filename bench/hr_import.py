"""Bulk HR import: a deterministic synthetic file through ``mentorship hr import`` into profiles.

Starts Postgres (``MENTORSHIP_PG_DSN`` or an embedded, durable one), Tansu and the
profiles service as its own process, then times, with the CLI as a user runs it:
the first import (every row a new participant), the same file again (every row a
no-op), the same file as a nightly full snapshot (nothing changed), a dry run of a
file with 10% of rows changed, and that file for real.  Beside them, the limit: a raw
COPY of the same rows (the file read and parsed, the rows copied into a table of
their columns) on the same Postgres.  Each CLI run's peak RSS is measured; a first
import of a file a tenth the size shows whether memory grows with the file.

Each run's CPU per row is given per process (the CLI, profiles with its relay, Postgres, Tansu) while the CLI
runs, and in all, with the relay's publishing of the run's events after the CLI ended (``+ relay``): the
machine is shared, so CPU per row says more than wall time.  ``--profile DIR`` writes a cProfile of profiles
(``shared.serve``) and of the CLI's main thread per run, and, where the server has pg_stat_statements loaded,
prints each run's top statements by execution time (``--statements``: only those).

    python -m bench.hr_import [--rows 100000] [--batch-size 1000] [--parallel 2] [--seed 7] [--skip-changed]
                              [--profile DIR] [--statements]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pstats
import random
import shutil
import signal
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
class Cpu:
    """CPU seconds (user + system) each process of an import spent."""

    cli: float = 0.0
    profiles: float = 0.0  # the service, its relay included
    postgres: float = 0.0  # the server's processes
    tansu: float = 0.0

    @property
    def total(self) -> float:
        return self.cli + self.profiles + self.postgres + self.tansu

    def __add__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.cli + other.cli,
            self.profiles + other.profiles,
            self.postgres + other.postgres,
            self.tansu + other.tansu,
        )

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.cli - other.cli,
            self.profiles - other.profiles,
            self.postgres - other.postgres,
            self.tansu - other.tansu,
        )


@dataclass(frozen=True)
class Run:
    name: str
    rows: int
    seconds: float
    peak_rss_mb: float
    during: Cpu = Cpu()  # while the CLI ran
    relay: Cpu = Cpu()  # after it, until the relay had published the run's events

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    def per_row_ms(self, cpu: float) -> str:
        return f"{cpu / self.rows * 1000:.3f}"


class CpuMeter:
    """CPU seconds (user + system) the profiles process, the Postgres server and Tansu spent: the machine is
    shared, so CPU per row says more than wall time.  Postgres counts its live backends and those it has reaped."""

    def __init__(self, profiles_pid: int, postgres: list[psutil.Process], tansu_pid: int | None = None) -> None:
        self.profiles = psutil.Process(profiles_pid)
        self.postgres = postgres
        self.tansu = psutil.Process(tansu_pid) if tansu_pid is not None else None

    @classmethod
    def find(cls, profiles_pid: int, dsn: str, tansu_pid: int | None = None) -> CpuMeter:
        async def postmaster() -> psutil.Process | None:
            conn = await asyncpg.connect(dsn)
            try:  # the backend serving this connection is a child of the server's postmaster
                return psutil.Process(await conn.fetchval("SELECT pg_backend_pid()")).parent()
            except psutil.Error:
                return None  # a remote server: its CPU is not ours to see
            finally:
                await conn.close()

        parent = asyncio.run(postmaster())
        return cls(profiles_pid, [parent] if parent is not None else [], tansu_pid)

    def read(self) -> Cpu:
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
        tansu = 0.0
        if self.tansu is not None:
            try:
                t = self.tansu.cpu_times()
                tansu = t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return Cpu(profiles=server, postgres=pg, tansu=tansu)


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


class Profiler:
    """``--profile DIR``: the CLI under cProfile (its main thread) and profiles' own cProfile (``shared.serve``,
    cumulative: each run's share is the difference from the run before), each run's top functions printed;
    with pg_stat_statements loaded in the server, each run's top statements."""

    def __init__(self, directory: Path | None, profiles_pid: int, dsn: str) -> None:
        self.directory, self.profiles_pid, self.dsn = directory, profiles_pid, dsn
        self.before: dict = {}
        self.statements = asyncio.run(self._sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")) is not None

    def cli_prefix(self, run: str) -> list[str]:
        if self.directory is None:
            return []
        return ["-m", "cProfile", "-o", str(self.directory / f"cli-{_slug(run)}.prof")]

    def start(self) -> None:
        if self.statements:
            asyncio.run(self._sql("SELECT pg_stat_statements_reset()"))

    def report(self, run: str) -> None:
        if self.directory is not None:
            self._functions(run)
        if self.statements:
            self._statements(run)

    def _functions(self, run: str) -> None:
        assert self.directory is not None
        path = self.directory / f"profiles-{self.profiles_pid}.prof"
        since = path.stat().st_mtime if path.exists() else 0.0
        os.kill(self.profiles_pid, signal.SIGUSR2)  # profiles writes its statistics so far
        deadline = time.monotonic() + 30
        while (not path.exists() or path.stat().st_mtime == since) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # the file is written whole
        kept = self.directory / f"profiles-{_slug(run)}.prof"
        shutil.copy(path, kept)
        now = pstats.Stats(str(kept)).stats  # type: ignore[attr-defined]
        print(f"\n--- profiles, {run}: top functions by own CPU (this run) ---")
        _print_top(_difference(now, self.before))
        self.before = now
        cli = self.directory / f"cli-{_slug(run)}.prof"
        if cli.exists():
            print(f"\n--- CLI (main thread), {run}: top functions by own time ---")
            _print_top(_difference(pstats.Stats(str(cli)).stats, {}))  # type: ignore[attr-defined]

    def _statements(self, run: str) -> None:
        rows = asyncio.run(
            self._sql(
                "SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 150) AS q"
                " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 15",
                fetch=True,
            )
        )
        print(f"\n--- Postgres, {run}: top statements by execution time ---")
        for r in rows or []:
            print(f"{r['total_exec_time']:9.0f} ms {r['calls']:7} calls {r['rows']:8} rows  {r['q']}")

    async def _sql(self, statement: str, fetch: bool = False) -> list | str | None:
        conn = await asyncpg.connect(self.dsn)
        try:
            return await (conn.fetch(statement) if fetch else conn.execute(statement))
        except asyncpg.PostgresError:
            return None
        finally:
            await conn.close()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-")


def _difference(now: dict, before: dict) -> list[tuple[float, float, int, tuple]]:
    """(own time, cumulative time, calls, function) of each function, less what ``before`` had."""
    out = []
    for func, (_, calls, own, cumulative, _) in now.items():
        _, calls0, own0, cumulative0, _ = before.get(func, (0, 0, 0.0, 0.0, None))
        if own - own0 > 0 or cumulative - cumulative0 > 0:
            out.append((own - own0, cumulative - cumulative0, calls - calls0, func))
    return out


def _print_top(rows: list[tuple[float, float, int, tuple]], top: int = 30) -> None:
    total = sum(own for own, _, _, _ in rows)
    print(f"{'own s':>8} {'cum s':>8} {'calls':>9}  function   (own time in all: {total:.2f} s)")
    for own, cumulative, calls, (file, line, name) in sorted(rows, reverse=True)[:top]:
        where = "/".join(Path(file).parts[-2:]) if file != "~" else ""
        print(f"{own:8.3f} {cumulative:8.3f} {calls:9}  {name} {where}:{line}")


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
    profiler: Profiler | None = None,
) -> Run:
    """The CLI as its own process; its wall time, its peak RSS and CPU (from ``wait4``), the server's CPU, then
    what publishing the run's events took after the CLI ended.  ``outbox_of``: profiles' database, whose
    outbox is drained before and after."""
    if outbox_of is not None:
        drained(outbox_of)
    if profiler is not None:
        profiler.start()
    before = cpu.read() if cpu else Cpu()
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                *(profiler.cli_prefix(name) if profiler else []),
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
    after = cpu.read() if cpu else Cpu()
    if outbox_of is not None:
        drained(outbox_of)
    settled = cpu.read() if cpu else Cpu()
    if profiler is not None:
        profiler.report(name)
    cli = Cpu(cli=usage.ru_utime + usage.ru_stime)
    return Run(name, rows, elapsed, usage.ru_maxrss / 1024, after - before + cli, settled - after)


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
    parser.add_argument("--profile", metavar="DIR", help="cProfile profiles and the CLI, top statements per run")
    parser.add_argument(
        "--statements", action="store_true", help="each run's top statements (pg_stat_statements), no cProfile"
    )
    args = parser.parse_args()
    profile_dir = Path(args.profile).resolve() if args.profile else None
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)
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
            extra_env={"MENTORSHIP_LOG_LEVEL": "WARNING"}
            | ({"MENTORSHIP_PROFILE_DIR": str(profile_dir)} if profile_dir else {}),
        ) as running,
    ):
        url, n, size, parallel = running["profiles"].url, args.rows, args.batch_size, args.parallel
        first = write_jsonl(Path(tmp) / "workers.jsonl", synthetic_rows(n, args.seed))
        small = write_jsonl(Path(tmp) / "others.jsonl", synthetic_rows(small_rows, args.seed, prefix="S"))
        second = write_jsonl(Path(tmp) / "workers-changed.jsonl", changed(synthetic_rows(n, args.seed), args.seed))
        copy_db = pg.create_database(f"bench_copy_{uuid.uuid4().hex[:6]}")
        copy_seconds = asyncio.run(raw_copy(copy_db, first))
        server = asyncio.run(durability(copy_db))
        profiles_pid = running["profiles"].process.pid
        cpu = CpuMeter.find(profiles_pid, copy_db, broker.pid)
        measure = {
            "cpu": cpu,
            "outbox_of": pg.dsn_for(running["profiles"].database),
            "profiler": Profiler(profile_dir, profiles_pid, copy_db) if profile_dir or args.statements else None,
        }
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
            [
                "run",
                "rows",
                "seconds",
                "rows/s",
                "peak RSS MB",
                "CPU ms/row: CLI",
                "profiles",
                "Postgres",
                "Tansu",
                "all",
                "+ relay after",
            ],
            [
                (
                    r.name,
                    f"{r.rows:,}",
                    f"{r.seconds:.1f}",
                    per_second(r.rate, "rows/s"),
                    f"{r.peak_rss_mb:.0f}",
                    r.per_row_ms(r.during.cli),
                    r.per_row_ms(r.during.profiles),
                    r.per_row_ms(r.during.postgres),
                    r.per_row_ms(r.during.tansu),
                    r.per_row_ms(r.during.total),
                    r.per_row_ms(r.relay.total),
                )
                for r in runs
            ]
            + [
                (
                    "raw COPY of the same rows (the limit)",
                    f"{n:,}",
                    f"{copy_seconds:.1f}",
                    per_second(copy_rate, "rows/s"),
                    *[""] * 7,
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
