"""Command path: the CPU one service process spends per HTTP command, in-process, without the client's share.

Builds profiles as ``bootstrap.py`` wires it (its lifespan: pool, migrations, standing cache, relay, consumers) on
a fresh database of the same Postgres and broker the other benches use, then calls the ASGI app directly with the
requests ``bench/load.py`` sends — ``POST /mentees`` (register, a body, the director's token) and
``GET /participants/{id}`` (a read, no body) — at a fixed concurrency, and reports the process's CPU per request
(``time.process_time``: the app, the pool, the relay publishing what the commands appended). Beside it, in the
same process and run, the same requests to a bare FastAPI app (``bench/peer_app.py``'s endpoint: one single-row
INSERT) give the floor of FastAPI + asyncpg; the kinds are interleaved in slices, so both see the same machine, and
the ratio lines (bare / platform) are what to compare between two trees on a shared machine. ``--profile`` prints
the top costs (cProfile, CPU clock) of the platform's requests.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

import asyncpg
from fastapi import FastAPI
from pydantic import BaseModel

from bench.common import fresh_database, postgres_server, service_logs_kept_out, table
from mentorship.devstack.broker import start_broker
from shared.auth import Role, mint_token
from shared.settings import DEV_JWT_SECRET, ServiceSettings

ADMIN = f"Bearer {mint_token(DEV_JWT_SECRET, 'bench-director', [Role.admin])}".encode()


def mentee_body(n: int) -> bytes:
    return json.dumps(
        {
            "participant_id": f"bench-mentee-{n:07d}",
            "name": "Mentee",
            "email": f"bench-mentee-{n:07d}@example.edu",
            "profile": {
                "biography": f"Person {n}.",
                "specialty": "cardiology",
                "interests": ["grant writing"],
                "career_stage": "senior",
                "time_zone": "UTC",
                "languages": ["en"],
            },
        }
    ).encode()


async def call(app: Callable, method: str, path: str, body: bytes = b"") -> int:
    """One request straight into the ASGI app, as uvicorn hands it over; the answer's status."""
    headers = [(b"host", b"bench"), (b"authorization", ADMIN), (b"accept", b"*/*")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def cpu_per_request(
    requests: Callable[[int], Awaitable[int]],
    numbers: range,
    concurrency: int,
    profiler: cProfile.Profile | None,
    settle: float = 0.0,
) -> float:
    """CPU seconds of ``requests`` numbered ``numbers``, ``concurrency`` at once, and of the ``settle`` seconds after
    (the relay publishing what they appended); every answer must be a success."""
    queue = iter(numbers)
    bad: list[int] = []

    async def worker() -> None:
        for n in queue:
            status = await requests(n)
            if status >= 300:
                bad.append(status)

    if profiler is not None:
        profiler.enable()
    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if settle:
        await asyncio.sleep(settle)
    cpu = time.process_time() - started
    if profiler is not None:
        profiler.disable()
    if bad:
        raise SystemExit(f"{len(bad)} requests failed, e.g. status {bad[0]}")
    return cpu


class Row(BaseModel):
    participant_id: str
    name: str
    email: str
    profile: dict


def bare_app(dsn: str) -> tuple[FastAPI, dict]:
    """``bench/peer_app.py``'s endpoint, in this process: one single-row transaction per request."""
    app = FastAPI()
    state: dict = {}

    @app.post("/rows", status_code=201)
    async def add(row: Row) -> dict:
        async with state["pool"].acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO rows (participant_id, body) VALUES ($1, $2)", row.participant_id, row.model_dump_json()
            )
        return {"participant_id": row.participant_id}

    @app.get("/rows/{participant_id}")
    async def one(participant_id: str) -> dict:
        async with state["pool"].acquire() as conn:
            body = await conn.fetchval("SELECT body FROM rows WHERE participant_id = $1", participant_id)
        return {"participant_id": participant_id, "body": body}

    return app, state


def kinds(app: Callable, peer: Callable, base: int) -> list[tuple[str, Callable[[int], Awaitable[int]]]]:
    """The requests of one round, numbered from ``base``: the platform's command and read, the bare app's."""
    return [
        ("platform POST /mentees", lambda n: call(app, "POST", "/mentees", mentee_body(base + n))),
        ("platform GET /participants/{id}", lambda n: call(app, "GET", f"/participants/bench-mentee-{base + n:07d}")),
        ("bare POST /rows", lambda n: call(peer, "POST", "/rows", mentee_body(base + n))),
        ("bare GET /rows/{id}", lambda n: call(peer, "GET", f"/rows/bench-mentee-{base + n:07d}")),
    ]


async def run(args: argparse.Namespace, dsn: str, peer_dsn: str, bootstrap: str) -> None:
    from services.profiles.bootstrap import build_app

    settings = ServiceSettings(service_name="profiles", pg_dsn=dsn, kafka_bootstrap=bootstrap, dev_mode=True)
    app = build_app(settings)
    peer, peer_state = bare_app(peer_dsn)
    peer_state["pool"] = await asyncpg.create_pool(peer_dsn, min_size=2, max_size=10)
    await peer_state["pool"].execute("CREATE TABLE rows (participant_id text PRIMARY KEY, body text NOT NULL)")
    profiler = cProfile.Profile(time.process_time) if args.profile else None
    rows: list[list[object]] = []
    results: dict[str, list[float]] = {}
    async with app.router.lifespan_context(app):
        # Each round interleaves the kinds in ``--slices`` slices, so the platform and the bare app see the same
        # machine (other processes' load changes what a CPU second buys); the first round warms up.
        per_slice = max(args.requests // args.slices, 1)
        for rnd in range(args.rounds):
            cpu: dict[str, float] = {}
            for piece in range(args.slices):
                numbers = range(piece * per_slice, (piece + 1) * per_slice)
                for name, requests in kinds(app, peer, rnd * args.requests):
                    measured = profiler if name.startswith(f"platform {args.profile} ") and rnd > 0 else None
                    settle = 0.05 if name == "platform POST /mentees" else 0.0
                    spent = await cpu_per_request(requests, numbers, args.concurrency, measured, settle)
                    cpu[name] = cpu.get(name, 0.0) + spent
            for name, seconds in cpu.items():
                results.setdefault(name, []).append(seconds * 1000 / (per_slice * args.slices))
        for name, values in results.items():
            kept = values[1:] if len(values) > 1 else values  # the first round warms up
            rows.append([name, f"{statistics.median(kept):.3f}", " ".join(f"{v:.3f}" for v in kept)])
    await peer_state["pool"].close()
    print(table(["requests", "CPU ms/request (median)", "each round"], rows))
    median = {name: statistics.median(values[1:] if len(values) > 1 else values) for name, values in results.items()}
    for kind, platform, bare in (("command", "platform POST /mentees", "bare POST /rows"),
                                 ("read", "platform GET /participants/{id}", "bare GET /rows/{id}")):  # fmt: skip
        print(f"bare CPU / platform CPU per {kind}: {median[bare] / median[platform]:.2f}")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(args.top)
        for name in args.callees:
            stats.print_callees(name)
        for name in args.callers:
            stats.print_callers(name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests of each kind per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds (the first warms up)")
    parser.add_argument("--slices", type=int, default=10, help="interleaved slices of each kind per round")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--profile", choices=("POST", "GET"), help="cProfile the platform's requests of this kind (not round 1)"
    )
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--callees", action="append", default=[], help="also print what these functions call")
    parser.add_argument("--callers", action="append", default=[], help="also print what calls these functions")
    args = parser.parse_args(argv)
    with (
        postgres_server() as pg,
        start_broker() as broker,
        fresh_database(pg, "cmdpath") as dsn,
        fresh_database(pg, "cmdpeer") as peer_dsn,
        service_logs_kept_out(),
    ):
        asyncio.run(run(args, dsn, peer_dsn, broker.bootstrap))


if __name__ == "__main__":
    sys.exit(main())
