"""``mentorship hr import`` against the profiles service running as its own process."""

from __future__ import annotations

import csv
import json
import subprocess
import uuid
from pathlib import Path

import asyncpg
import pytest

from mentorship.devstack.broker import start_tansu
from mentorship.stack import start_services
from tests.e2e import cli
from tests.e2e.cli import WIDE_TERMINAL, mentorship

pytestmark = pytest.mark.e2e

FIELDS = (
    "employee_id",
    "legal_name",
    "preferred_name",
    "work_email",
    "title",
    "job_function",
    "department_id",
    "department_name",
    "location",
    "country",
    "employment_status",
    "original_hire_date",
    "last_hire_date",
    "effective_date",
)


def worker(n: int, **overrides: str) -> dict[str, str]:
    fields = {
        "employee_id": f"E{n:03}",
        "legal_name": f"Worker {n}",
        "preferred_name": "",
        "work_email": f"w{n}@example.edu",
        "title": "Lecturer",
        "job_function": "faculty",
        "department_id": "D1",
        "department_name": "Surgery",
        "location": "Main campus",
        "country": "US",
        "employment_status": "active",
        "original_hire_date": "2020-01-01",
        "last_hire_date": "2020-01-01",
        "effective_date": "2024-01-01",
    }
    return {**fields, **overrides}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def hr_import(url: str, file: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return mentorship("hr", "import", str(file), "--url", url, *options, env=WIDE_TERMINAL)


def plain(text: str) -> str:
    return cli.plain(text.replace("┃", " "))


@pytest.fixture(scope="module")
def profiles(postgres, tmp_path_factory):
    """Profiles on a broker of its own: the session broker carries other tests' HR events, which profiles would
    take in as people and so change what this test counts."""
    prefix = f"e2e_{uuid.uuid4().hex[:8]}"
    logs = Path(tmp_path_factory.mktemp("logs"))
    with (
        start_tansu(log_dir=logs) as broker,
        start_services(postgres, broker.bootstrap, logs, names=("profiles",), database_prefix=prefix) as running,
    ):
        yield running["profiles"]


async def people(postgres, profiles) -> dict[str, tuple[str, bool]]:
    conn = await asyncpg.connect(postgres.dsn_for(profiles.database))
    try:
        rows = await conn.fetch("SELECT participant_id, profile ->> 'department' AS d, active FROM participants")
    finally:
        await conn.close()
    return {r["participant_id"]: (r["d"], r["active"]) for r in rows}


async def test_import_dry_run_errors_reimport_and_snapshot(profiles, postgres, tmp_path) -> None:
    rows = [worker(n) for n in range(1, 31)]
    rows[4]["work_email"] = "not-an-email"
    file = write_csv(tmp_path / "workers.csv", rows)

    dry = hr_import(profiles.url, file, "--dry-run")
    assert dry.returncode == 1  # one row has an error
    assert "created 29" in plain(dry.stdout) and "dry run" in dry.stdout
    assert "6 work_email" in plain(dry.stderr)  # CSV row 6 (the header is row 1)
    assert await people(postgres, profiles) == {}

    applied = hr_import(profiles.url, file, "--quiet")
    assert "created 29" in plain(applied.stdout) and "Traceback" not in applied.stderr
    assert len(await people(postgres, profiles)) == 29

    rows[4]["work_email"] = "w5@example.edu"
    rows[0]["department_name"] = "Medicine"
    rows[0]["effective_date"] = "2024-02-01"
    write_csv(file, rows)
    fixed = hr_import(profiles.url, file)
    assert fixed.returncode == 0, fixed.stderr
    assert "created 1" in plain(fixed.stdout) and "updated 1" in plain(fixed.stdout)
    again = hr_import(profiles.url, file)
    assert "unchanged 30" in plain(again.stdout)

    jsonl = tmp_path / "snapshot.jsonl"
    jsonl.write_text("\n".join(json.dumps({k: v for k, v in r.items() if v}) for r in rows[:26]) + "\n")
    refused = hr_import(profiles.url, jsonl, "--snapshot")
    assert refused.returncode == 1 and "4 of 30" in plain(refused.stderr)
    forced = hr_import(profiles.url, jsonl, "--snapshot", "--force", "--as-of", "2024-06-30")
    assert forced.returncode == 0, forced.stderr
    assert "leavers 4" in plain(forced.stdout)
    now = await people(postgres, profiles)
    assert now["E001"] == ("Medicine", True)
    assert [pid for pid, (_, active) in sorted(now.items()) if not active] == ["E027", "E028", "E029", "E030"]


def test_unreadable_file_gets_a_message_not_a_traceback(tmp_path) -> None:
    bad = tmp_path / "workers.txt"
    bad.write_text("x")
    result = hr_import("http://127.0.0.1:9", bad)
    assert result.returncode == 2 and "must end in .csv" in plain(result.stderr)
    lines = tmp_path / "workers.jsonl"
    lines.write_text("{not json\n")
    unreachable = hr_import("http://127.0.0.1:9", lines)
    assert unreachable.returncode == 1 and "cannot reach the profiles service" in plain(unreachable.stderr)
    assert "Traceback" not in unreachable.stderr
