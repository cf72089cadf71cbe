"""What HR's reporting line costs a request submit, at institution scale, beside no reporting line at all.

Starts Postgres (``MENTORSHIP_PG_DSN`` or an embedded, durable one) and builds matching's composition root on
it (no broker: the submits' outbox rows stay unpublished).  Two fresh databases: one with ``--staff`` employees
in ``hr_supervisors`` (a tree, ``--fan-out`` reports per manager) and every ``--participant-every``-th of them
linked to a participant, the other with both line tables empty.  In each, the same mentees and three mentors
(linked to leaf employees in the first, so no mentor is above a mentee) and the same ``--submits`` requests
through ``submit_request.handle``.  Per submit: CPU of this process and of its Postgres backend (``/proc``), and
statements sent; the line's share is the ratio of the two databases' figures (target: at most 1.5).

    python -m bench.reporting_line [--staff 100000] [--submits 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from bench.common import fresh_database, mentor_registered, postgres_server, table
from services.matching.application import follow_profiles, submit_request
from services.matching.application.commands import SubmitRequest
from services.matching.bootstrap import build_app
from shared.db import create_pool, migrate, shared_migrations
from shared.envelope import Envelope
from shared.events.profiles import MenteeRegistered
from shared.settings import ServiceSettings

TICK = os.sysconf("SC_CLK_TCK")
TARGET = 1.5  # the reporting line a small part of a submit, whatever the institution's size


@dataclass(frozen=True)
class Figures:
    client_ms: float
    backend_ms: float
    statements: float

    @property
    def total_ms(self) -> float:
        return self.client_ms + self.backend_ms


def backend_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def envelope(subject: str, type_: str) -> Envelope:
    now = datetime.now(UTC)
    return Envelope(
        id=uuid.uuid4(), source="/services/profiles", type=type_, time=now, subject=subject,
        correlationid=uuid.uuid4(), sequence=1, schemaversion=1, data={},
    )  # fmt: skip


async def scenario(dsn: str, args: argparse.Namespace, with_line: bool) -> Figures:
    app = build_app(ServiceSettings(service_name="matching", pg_dsn=dsn))
    runtime, deps = app.state.runtime, app.state.container
    runtime.pool = pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        await migrate(pool, shared_migrations() + runtime.migrations)
        staff = args.staff
        leaves = [f"E{i}" for i in range(staff - 1, staff - 1 - (args.submits + 3), -1)]  # nobody reports to them
        async with pool.acquire() as conn:
            if with_line:
                hired, now = date(2020, 1, 1), datetime.now(UTC)
                await conn.copy_records_to_table(
                    "hr_supervisors",
                    records=[(f"E{i}", f"E{(i - 1) // args.fan_out}" if i else None, hired, now) for i in range(staff)],
                )
                await conn.copy_records_to_table(
                    "participant_employees",
                    records=[(f"S{i}", f"E{i}") for i in range(0, staff, args.participant_every)],
                )
            for n, employee in enumerate(leaves[:3]):
                event = mentor_registered(f"M{n}").model_copy(update={"employee_id": employee if with_line else None})
                event = event.model_copy(update={"capacity": 100})
                async with conn.transaction():
                    await follow_profiles.mentor_registered(deps, conn, event, envelope(f"M{n}", "MentorRegistered"))
            for n, employee in enumerate(leaves[3:]):
                mentor = mentor_registered(f"m{n}")
                event = MenteeRegistered(
                    participant_id=f"T{n}", employee_id=employee if with_line else None,
                    name=f"Fellow {n}", email=f"t{n}@example.edu", profile=mentor.profile,
                )  # fmt: skip
                async with conn.transaction():
                    await follow_profiles.mentee_registered(deps, conn, event, envelope(f"T{n}", "MenteeRegistered"))
            await conn.execute("ANALYZE")
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            sent = [0]
            conn.add_query_logger(lambda _record: sent.__setitem__(0, sent[0] + 1))
        commands = [
            SubmitRequest(f"T{n}", "Cardiology fellow", "Grant writing", ("M0", "M1", "M2"))
            for n in range(args.submits)
        ]
        await submit_request.handle(deps, commands[0])  # warm: statements prepared, plans cached
        sent[0], backend, client = 0, backend_seconds(pid), time.process_time()
        for command in commands[1:]:
            await submit_request.handle(deps, command)
        client, backend = time.process_time() - client, backend_seconds(pid) - backend
        count = len(commands) - 1
        return Figures(client * 1000 / count, backend * 1000 / count, sent[0] / count)
    finally:
        await pool.close()


async def run(args: argparse.Namespace) -> None:
    with postgres_server() as pg:
        results = {}
        for with_line in (True, False):
            with fresh_database(pg, "bench_line") as dsn:
                results[with_line] = await scenario(dsn, args, with_line)
    line, empty = results[True], results[False]
    rows = [
        (f"{args.staff:,} staff", f"{line.client_ms:.2f}", f"{line.backend_ms:.2f}", f"{line.statements:.1f}"),
        ("empty line tables", f"{empty.client_ms:.2f}", f"{empty.backend_ms:.2f}", f"{empty.statements:.1f}"),
    ]
    print(table(("submit", "client CPU ms", "Postgres CPU ms", "statements"), rows))
    print(
        f"ratio: a submit at {args.staff:,} staff costs {line.total_ms / empty.total_ms:.2f}x the CPU of one with"
        f" no reporting line ({line.total_ms:.2f} ms vs {empty.total_ms:.2f} ms, client + Postgres backend);"
        f" target <= {TARGET}: {'met' if line.total_ms / empty.total_ms <= TARGET else 'NOT met'}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--staff", type=int, default=100_000)
    parser.add_argument("--fan-out", type=int, default=8, help="reports per manager")
    parser.add_argument("--participant-every", type=int, default=5, help="every n-th employee is a participant")
    parser.add_argument("--submits", type=int, default=200)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
