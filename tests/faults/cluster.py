"""The whole platform on real processes, with the levers the fault tests pull.

A ``Cluster`` is a private Tansu broker, every service as OS processes (optionally several replicas)
on its own databases, and an SMTP sink that counts deliveries by Message-ID.  Levers: pause the
broker (SIGSTOP/SIGCONT), ``kill -9`` and restart a replica, restart Postgres, publish raw bytes.
"""

from __future__ import annotations

import asyncio
import inspect
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from aiosmtpd.controller import Controller

from mentorship.devstack.broker import Broker, start_tansu
from mentorship.devstack.postgres import Postgres
from mentorship.devstack.processes import free_port
from mentorship.stack import Replica, RunningService, start_services
from tests.faults.workload import DIRECTOR_EMAIL

SERVICES = ("profiles", "matching", "relationships", "notifications", "analytics")


@dataclass
class SmtpSink:
    """Accepts every message; counts each Message-ID so a second copy of one cause shows up."""

    message_ids: Counter[str] = field(default_factory=Counter)

    async def handle_DATA(self, server, session, envelope) -> str:
        for line in envelope.content.decode(errors="replace").splitlines():
            if line.lower().startswith("message-id:"):
                self.message_ids[line.split(":", 1)[1].strip()] += 1
                break
        return "250 2.0.0 OK"

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.message_ids.values() if n > 1)

    @property
    def most_copies(self) -> int:
        return max(self.message_ids.values(), default=0)


@dataclass
class Cluster:
    postgres: Postgres
    broker: Broker
    services: dict[str, RunningService]
    smtp: SmtpSink
    log_dir: Path
    prefix: str
    poison_ids: set[str] = field(default_factory=set)  # envelope ids of poison a test sent on purpose

    def dsn(self, service: str) -> str:
        return self.postgres.dsn_for(self.services[service].database)

    def urls(self) -> dict[str, list[str]]:
        return {name: [r.url for r in s.replicas] for name, s in self.services.items()}

    def replica(self, service: str, index: int = 0) -> Replica:
        return self.services[service].replicas[index]

    def broker_process(self) -> psutil.Process:
        [tansu] = [
            p
            for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"]
            and "tansu" in p.info["cmdline"][0]
            and self.broker.bootstrap in " ".join(p.info["cmdline"])
        ]
        return tansu

    @contextmanager
    def broker_paused(self) -> Iterator[None]:
        tansu = self.broker_process()
        tansu.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            tansu.send_signal(signal.SIGCONT)


FAULT_ENV = {
    "MENTORSHIP_DEV_MODE": "1",  # development secrets and keys, a PLAINTEXT broker: accepted, with a warning
    # Short enough that a killed member's partitions move on quickly; Tansu admits a joiner after ~half.
    "MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS": "4000",
    "MENTORSHIP_TOPIC_PARTITIONS": "3",
    "MENTORSHIP_LOG_LEVEL": "INFO",
}


def notifications_env(smtp_port: int) -> dict[str, str]:
    return {
        "MENTORSHIP_NOTIFICATIONS_DIRECTOR_EMAILS": f'["{DIRECTOR_EMAIL}"]',
        "MENTORSHIP_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "MENTORSHIP_NOTIFICATIONS_SMTP_PORT": str(smtp_port),
        "MENTORSHIP_NOTIFICATIONS_SMTP_TIMEOUT_SECONDS": "3",
        # A sender killed mid-send leaves a 'sending' claim: lease it out soon (still > the SMTP timeout).
        "MENTORSHIP_NOTIFICATIONS_CLAIM_LEASE_SECONDS": "8",
        "MENTORSHIP_NOTIFICATIONS_RETRY_FIRST_SECONDS": "1",
        "MENTORSHIP_NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.5",
    }


@contextmanager
def start_cluster(
    postgres: Postgres,
    log_dir: Path,
    *,
    replicas: int | dict[str, int] = 1,
    names: tuple[str, ...] = SERVICES,
    env: dict[str, str] | None = None,
) -> Iterator[Cluster]:
    """``env``: settings for every service process on top of ``FAULT_ENV``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        sink = SmtpSink()
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        stack.callback(controller.stop)
        broker = stack.enter_context(start_tansu(log_dir=log_dir))
        prefix = f"f_{uuid.uuid4().hex[:8]}"
        services = stack.enter_context(
            start_services(
                postgres,
                broker.bootstrap,
                log_dir,
                names=names,
                database_prefix=prefix,
                extra_env={**FAULT_ENV, **(env or {})},
                replicas=replicas,
                service_env_overrides={"notifications": notifications_env(port)},
            )
        )
        try:
            yield Cluster(postgres, broker, services, sink, log_dir, prefix)
        finally:
            for service in services.values():
                for replica in service.replicas:
                    replica.process.stop()
            for service in services.values():
                postgres.drop_database(service.database)


async def wait_until(check, timeout: float, interval: float = 0.5):
    """Poll ``check`` (async, or a plain condition) until it returns something truthy; return it (or raise on
    timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"{getattr(check, '__name__', 'condition')} not met within {timeout}s")
        await asyncio.sleep(interval)
