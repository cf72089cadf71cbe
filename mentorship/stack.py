"""Starts services as separate OS processes, each with its own database, and waits until ready.

Used by ``mentorship dev up``, the end-to-end tests and the fault-injection suite.  A service may
run as several replicas: OS processes sharing its database and consumer group, each with its own
port and log file (``<name>.log`` for the first, ``<name>-<i>.log`` for the others).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from mentorship.devstack.postgres import Postgres
from mentorship.devstack.processes import ManagedProcess, free_port
from shared.bus import SERVICES

DEFAULT_PORTS = {
    "profiles": 8001,
    "matching": 8002,
    "relationships": 8003,
    "notifications": 8004,
    "analytics": 8005,
    "portal": 8006,
}
PORTAL = "portal"
"""The people's pages: started after the services whose APIs it calls (it needs their URLs), with no broker."""
PORTAL_CALLS = ("profiles", "matching", "relationships", "notifications")


def portal_settings(services: Mapping[str, RunningService], dev_mail_url: str | None = None) -> dict[str, str]:
    """The portal's own settings for a running stack: the APIs it calls, the dashboard it links to, and (development
    only) the mail sink it shows at ``/dev/mail``."""
    env = {f"MENTORSHIP_PORTAL_{name.upper()}_URL": services[name].url for name in PORTAL_CALLS if name in services}
    if "analytics" in services:
        env["MENTORSHIP_PORTAL_DASHBOARD_URL"] = f"{services['analytics'].url}/dashboard"
    if dev_mail_url:
        env["MENTORSHIP_PORTAL_DEV_MAIL_URL"] = dev_mail_url
    return env


KEY_SOURCES = {"matching": ("profiles",), "notifications": ("profiles", "matching")}
"""The consumers entitled to open personal fields on the bus, and whose (``MENTORSHIP_KEY_SOURCES``,
``shared.keysource``): matching's directory needs profiles' names and biographies, notifications' mails need
profiles' names and addresses and matching's request biography.  Every other consumer sees placeholders."""


def key_sources_env(name: str, urls: Mapping[str, list[str]]) -> dict[str, str]:
    """``MENTORSHIP_KEY_SOURCES`` of ``name``: the URLs of every replica of the producers it may open."""
    sources = {producer: ",".join(urls[producer]) for producer in KEY_SOURCES.get(name, ()) if producer in urls}
    return {"MENTORSHIP_KEY_SOURCES": json.dumps(sources)} if sources else {}


AGGREGATE_SOURCES = {"analytics": ("profiles",)}
"""The services that ask another for aggregates over HTTP as their own client (analytics: profiles' counts of
consented demographics); like ``KEY_SOURCES``, they need a service client and a way through the network policies."""

SERVICE_CALLS = {
    s: (*KEY_SOURCES.get(s, ()), *AGGREGATE_SOURCES.get(s, ())) for s in (*KEY_SOURCES, *AGGREGATE_SOURCES)
}
"""Every service-to-service call made as the calling service's own client: the caller → the services it calls."""


def aggregate_sources_env(name: str, urls: Mapping[str, list[str]]) -> dict[str, str]:
    """Analytics asks profiles for demographic aggregates (``MENTORSHIP_ANALYTICS_PROFILES_URL``): its first replica."""
    if "profiles" not in AGGREGATE_SOURCES.get(name, ()) or not urls.get("profiles"):
        return {}
    return {"MENTORSHIP_ANALYTICS_PROFILES_URL": urls["profiles"][0]}


class Replica:
    """One process of a service; it can be killed (``SIGKILL``, no clean-up) and started again."""

    def __init__(self, name: str, index: int, url: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.index = index
        self.url = url
        self._argv = argv
        self._env = env
        self.log_path = log_path
        self.process = ManagedProcess(argv, env=env, log_path=log_path, name=self.label)

    @property
    def label(self) -> str:
        return self.name if self.index == 0 else f"{self.name}-{self.index}"

    def kill(self) -> None:
        """``kill -9`` the replica's whole process group: no shutdown hooks, no goodbyes to the broker."""
        self.signal(signal.SIGKILL)
        self.process.stop(timeout=0)  # reaps it

    def signal(self, sig: signal.Signals) -> None:
        if self.process.is_running():
            os.killpg(self.process.pid, sig)  # type: ignore[arg-type]

    def restart(self, timeout: float = 60.0) -> None:
        """Start a fresh process on the same port, database and log file; wait until it is ready."""
        if self.process.is_running():
            raise RuntimeError(f"{self.label} is still running")
        self.process = ManagedProcess(self._argv, env=self._env, log_path=self.log_path, name=self.label)
        self.process.start()
        wait_ready(self, timeout)


@dataclass(frozen=True)
class RunningService:
    name: str
    url: str
    database: str
    process: ManagedProcess
    replicas: tuple[Replica, ...] = field(default=())


def service_env(
    name: str, *, dsn: str, bootstrap: str, port: int, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORSHIP_")}
    env.update(
        MENTORSHIP_PG_DSN=dsn,
        MENTORSHIP_KAFKA_BOOTSTRAP=bootstrap,
        MENTORSHIP_HTTP_HOST="127.0.0.1",
        MENTORSHIP_HTTP_PORT=str(port),
        # Processes of the local stack (`mentorship dev up`, the tests): development defaults are accepted,
        # with a warning line (shared/startup_checks.py). `extra` may turn it off to see a refusal.
        MENTORSHIP_DEV_MODE="1",
        PYTHONUNBUFFERED="1",
    )
    for key in ("MENTORSHIP_JWT_SECRET", "MENTORSHIP_TOPIC_PARTITIONS", "MENTORSHIP_LOG_LEVEL", "MENTORSHIP_DEV_MODE"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


def wait_ready(service: RunningService | Replica, timeout: float = 60.0) -> None:
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
    replicas: int | Mapping[str, int] = 1,
    service_env_overrides: Mapping[str, Mapping[str, str]] | None = None,
    started: Callable[[], None] | None = None,
) -> Iterator[dict[str, RunningService]]:
    """Start ``names`` in parallel, wait until every one answers ``/readyz``; stop them all on exit.

    ``replicas`` is a count for every service or per service name; ``url`` and ``process`` of a
    ``RunningService`` are its first replica's.  Fixed ports apply to the first replica only.
    ``service_env_overrides`` adds environment variables for one service's processes.
    ``started`` is called once every process is started, before they are waited for.
    """
    with ExitStack() as stack:
        running: dict[str, RunningService] = {}
        ports: dict[str, list[int]] = {}
        for name in names:  # every port first: a consumer is told where its key sources listen
            count = replicas if isinstance(replicas, int) else replicas.get(name, 1)
            if count < 1:
                raise ValueError(f"replicas of {name} must be at least 1, got {count}")
            ports[name] = [DEFAULT_PORTS[name] if fixed_ports and i == 0 else free_port() for i in range(count)]
        urls = {name: [f"http://127.0.0.1:{port}" for port in numbers] for name, numbers in ports.items()}
        for name in names:
            database = f"{database_prefix}_{name}"
            dsn = postgres.create_database(database)
            extra = {
                **key_sources_env(name, urls),
                **aggregate_sources_env(name, urls),
                **(extra_env or {}),
                **((service_env_overrides or {}).get(name, {})),
            }
            members = []
            for index, port in enumerate(ports[name]):
                replica = Replica(
                    name,
                    index,
                    f"http://127.0.0.1:{port}",
                    [sys.executable, "-m", f"services.{name}"],
                    service_env(name, dsn=dsn, bootstrap=bootstrap, port=port, extra=extra),
                    log_dir / (f"{name}.log" if index == 0 else f"{name}-{index}.log"),
                )
                replica.process.start()
                stack.callback(lambda r=replica: r.process.stop())
                members.append(replica)
            first = members[0]
            running[name] = RunningService(name, first.url, database, first.process, tuple(members))
        if started is not None:
            started()
        for service in running.values():
            for replica in service.replicas:
                wait_ready(replica)
        yield running
