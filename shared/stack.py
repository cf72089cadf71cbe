"""Starts services as separate OS processes, each with its own database, and waits until ready.

Used by ``mentorship dev up`` and by the end-to-end tests.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

import httpx

from shared.bus import SERVICES
from shared.devstack.postgres import Postgres
from shared.devstack.processes import ManagedProcess, free_port

DEFAULT_PORTS = {"profiles": 8001, "matching": 8002, "relationships": 8003, "notifications": 8004, "analytics": 8005}


@dataclass(frozen=True)
class RunningService:
    name: str
    url: str
    database: str
    process: ManagedProcess


def service_env(
    name: str, *, dsn: str, bootstrap: str, port: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIP_")}
    env.update(
        MENTORSHIP_PG_DSN=dsn,
        MENTORSHIP_KAFKA_BOOTSTRAP=bootstrap,
        MENTORSHIP_HTTP_HOST="127.0.0.1",
        MENTORSHIP_HTTP_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    for key in ("MENTORSHIP_JWT_SECRET", "MENTORSHIP_TOPIC_PARTITIONS", "MENTORSHIP_LOG_LEVEL"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


def wait_ready(service: RunningService, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not service.process.is_running():
            raise RuntimeError(f"{service.name} exited during start-up:\n{service.process.log_tail()}")
        try:
            response = httpx.get(f"{service.url}/readyz", timeout=2)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{service.name} not ready after {timeout}s ({last}):\n{service.process.log_tail()}")


@contextmanager
def start_services(
    postgres: Postgres,
    bootstrap: str,
    log_dir: Path,
    *,
    names: tuple[str, ...] = SERVICES,
    database_prefix: str = "mentorship",
    fixed_ports: bool = False,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[dict[str, RunningService]]:
    """Start ``names`` in parallel, wait until every one answers ``/readyz``; stop them all on exit."""
    with ExitStack() as stack:
        running: dict[str, RunningService] = {}
        for name in names:
            database = f"{database_prefix}_{name}"
            dsn = postgres.create_database(database)
            port = DEFAULT_PORTS[name] if fixed_ports else free_port()
            process = ManagedProcess(
                [sys.executable, "-m", f"services.{name}"],
                env=service_env(name, dsn=dsn, bootstrap=bootstrap, port=port, extra=extra_env),
                log_path=log_dir / f"{name}.log",
                name=name,
            )
            stack.enter_context(process)
            running[name] = RunningService(name, f"http://127.0.0.1:{port}", database, process)
        for service in running.values():
            wait_ready(service)
        yield running
