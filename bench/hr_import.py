"""Bulk HR import: a deterministic synthetic file through ``mentorship hr import`` into profiles.

Starts Postgres (``MENTORSHIP_PG_DSN`` or an embedded, durable one), Tansu and the
profiles service as its own process, then times, with the CLI as a user runs it:
the first import (every row a new participant), the same file again (every row a
no-op), a dry run of a file with 10% of rows changed, and that file for real.

    python -m bench.hr_import [--rows 100000] [--batch-size 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import per_second, postgres_server, table
from mentorship.devstack.broker import start_broker
from mentorship.stack import start_services

DEPARTMENTS = ["Surgery", "Medicine", "Pediatrics", "Oncology", "Radiology", "Nursing", "Research", "Library"]
FUNCTIONS = ["faculty", "research", "clinical", "administration"]
SITES = ["Main campus", "North site", "South clinic", "Downtown"]


def synthetic_rows(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        hired = f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        department = rng.randrange(len(DEPARTMENTS))
        rows.append(
            {
                "employee_id": f"W{n:07}",
                "legal_name": f"Worker {n}",
                "work_email": f"w{n}@example.edu",
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
    return rows


def changed(rows: list[dict], seed: int) -> list[dict]:
    rng = random.Random(seed + 1)
    out = []
    for row in rows:
        if rng.random() < 0.1:
            row = {**row, "department_name": rng.choice(DEPARTMENTS), "effective_date": "2025-02-01"}
        out.append(row)
    return out


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def run_import(url: str, file: Path, batch_size: int, *options: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
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
            *options,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"import failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    print(result.stdout.strip(), flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows = synthetic_rows(args.rows, args.seed)
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
        url = running["profiles"].url
        first = write_jsonl(Path(tmp) / "workers.jsonl", rows)
        second = write_jsonl(Path(tmp) / "workers-changed.jsonl", changed(rows, args.seed))
        timings = [
            ("first import (all created)", run_import(url, first, args.batch_size)),
            ("same file again (no-op)", run_import(url, first, args.batch_size)),
            ("10% changed, dry run", run_import(url, second, args.batch_size, "--dry-run")),
            ("10% changed, applied", run_import(url, second, args.batch_size)),
        ]
    print()
    print(f"{args.rows:,} rows, batches of {args.batch_size}, wall time of the CLI process (parse + HTTP + apply)")
    print(
        table(
            ["run", "seconds", "rows/s"],
            [(name, f"{s:.1f}", per_second(args.rows / s, "rows/s")) for name, s in timings],
        )
    )


if __name__ == "__main__":
    main()
