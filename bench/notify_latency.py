"""MatchApproved → introduction accepted by SMTP: latency at a steady rate through the real broker.

Drives ``MatchApproved`` events at ``--rate`` per second for ``--seconds`` into
``matching.events`` on the broker (Tansu or ``MENTORSHIP_KAFKA_BOOTSTRAP``), with
the notifications service running in-process (consumer + delivery worker on
Postgres) and a real SMTP server (aiosmtpd) on loopback.  Each event gives two
introductions; a message's latency runs from the moment its event was handed to
the producer to the moment the SMTP server accepted its DATA.  Target:
p99 < 250 ms at 200 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bench.common import durability, fresh_database, postgres_server, table
from mentorship.devstack.broker import start_broker
from services.notifications.bootstrap import build_app
from services.notifications.settings import NotificationsSettings
from shared.bus import new_producer, topic_for
from shared.envelope import Envelope
from shared.events import Event
from shared.events.matching import MatchApproved
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.settings import ServiceSettings

TARGET_P99_MS = 250.0
PEOPLE = 200


SMTP_SERVER = """
import sys, time, re
from aiosmtpd.controller import Controller
pattern = re.compile(rb"Match: (\\S+)")
out = open(sys.argv[2], "a", buffering=1)
class Handler:
    async def handle_DATA(self, server, session, envelope):
        found = pattern.search(envelope.content)
        out.write(f"{found.group(1).decode() if found else '-'} {time.monotonic()}\\n")
        return "250 2.0.0 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


class SmtpProcess:
    """The SMTP server in its own process, as it would be on its own machine; it logs acceptance times
    (CLOCK_MONOTONIC is one clock for every process on the host)."""

    def __init__(self, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SMTP_SERVER, str(self.port), str(log)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def accepted(self) -> list[tuple[str, float]]:
        if not self.log.exists():
            return []
        return [(m, float(t)) for m, t in (line.split() for line in self.log.read_text().splitlines() if line)]

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def envelope_of(event: Event, subject: str) -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source=f"/services/{event.owner}",
        type=event.type_name(),
        time=datetime.now(UTC),
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


def registrations() -> list[Envelope]:
    profile = ProfileFields(biography="", specialty="medicine", career_stage="mid_career")
    envelopes = []
    for i in range(PEOPLE):
        for pid, cls in ((f"bench-mentor-{i}", MentorRegistered), (f"bench-mentee-{i}", MenteeRegistered)):
            extra = {"capacity": 3} if cls is MentorRegistered else {}
            envelopes.append(
                envelope_of(
                    cls(
                        participant_id=pid, name=f"Person {pid}", email=f"{pid}@bench.example", profile=profile, **extra
                    ),
                    pid,
                )
            )
    return envelopes


async def measure(dsn: str, bootstrap: str, rate: float, seconds: float, smtp: SmtpProcess) -> list[float]:
    settings = ServiceSettings(
        service_name="notifications",
        pg_dsn=dsn,
        kafka_bootstrap=bootstrap,
        consumer_session_timeout_ms=6_000,
        log_level="WARNING",
    )
    options = NotificationsSettings(smtp_port=smtp.port, delivery_poll_seconds=0.5)
    app = build_app(settings, options=options)
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        async with app.router.lifespan_context(app):
            pool = app.state.runtime.pool
            for envelope in registrations():
                await producer.send(topic_for("profiles"), value=envelope.to_bytes(), key=envelope.subject.encode())
            await producer.flush()
            while await pool.fetchval("SELECT count(*) FROM contacts") < 2 * PEOPLE:
                await asyncio.sleep(0.2)
            published: dict[str, float] = {}
            total = int(rate * seconds)
            start = time.monotonic()
            for i in range(total):
                await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                match_id = f"bench-match-{i}"
                event = MatchApproved(
                    match_id=match_id,
                    mentee_id=f"bench-mentee-{i % PEOPLE}",
                    mentor_id=f"bench-mentor-{(i * 7 + 3) % PEOPLE}",
                    mode="admin",
                )
                value = envelope_of(event, match_id).to_bytes()
                published[match_id] = time.monotonic()
                await producer.send(topic_for("matching"), value=value, key=match_id.encode())
            deadline = time.monotonic() + 30
            while len(smtp.accepted()) < 2 * total and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            latencies = [(t - published[m]) * 1000 for m, t in smtp.accepted() if m in published]
            missing = 2 * total - len(latencies)
            if missing:
                print(f"warning: {missing} introductions not accepted within 30 s after the last event")
            return latencies
    finally:
        await producer.stop()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1] if len(values) > 1 else values[0]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.notify_latency", description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=200.0, help="MatchApproved events per second")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--quick", action="store_true", help="2 seconds instead of 10")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    seconds = 2.0 if args.quick else args.seconds
    workdir = Path(tempfile.mkdtemp(prefix="bench-notify-"))
    smtp = SmtpProcess(workdir / "accepted.log")
    try:
        with postgres_server() as pg, start_broker() as broker, fresh_database(pg, "bench_notify") as dsn:
            print(
                f"{pg.kind} {asyncio.run(durability(dsn))} | broker {broker.kind} at {broker.bootstrap}"
                f" | {args.rate:g} MatchApproved/s for {seconds:g} s, 2 introductions each"
            )
            latencies = asyncio.run(measure(dsn, broker.bootstrap, args.rate, seconds, smtp))
    finally:
        smtp.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(
        table(
            ["messages", "p50 ms", "p99 ms", "max ms", f"p99 < {TARGET_P99_MS:g} ms"],
            [
                [
                    len(latencies),
                    f"{p50:.1f}",
                    f"{p99:.1f}",
                    f"{max(latencies):.1f}",
                    "met" if p99 < TARGET_P99_MS else "NOT met",
                ]
            ],
        )
    )


if __name__ == "__main__":
    main()
