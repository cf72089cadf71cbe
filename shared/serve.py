"""Process entry point shared by every service's ``__main__``."""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from shared.logging import configure_logging, get_logger
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from shared.startup_checks import Finding, UnsafeSettings, enforce, service_findings

log = get_logger(__name__)


def serve(
    build_app: Callable[[ServiceSettings], FastAPI],
    *,
    service_name: str,
    default_port: int,
    checks: Callable[[], list[Finding]] | None = None,
    uses_broker: bool = True,
) -> None:
    """``python -m services.<name>`` serves; ``--migrate-only`` applies migrations and exits.
    ``uses_broker=False``: the service reaches no broker (the portal), so the broker's settings are not checked.

    Before serving, the start-up checks (``shared.startup_checks``, and the service's own ``checks``)
    run: outside development mode a finding ends the process with status 2. Migrating needs only the
    database, so ``--migrate-only`` is not held up by them."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{service_name}")
    parser.add_argument("--migrate-only", action="store_true", help="apply database migrations, then exit")
    args = parser.parse_args()
    os.environ.setdefault("MENTORSHIP_HTTP_PORT", str(default_port))
    try:
        settings = ServiceSettings(service_name=service_name)
    except ValidationError as exc:
        problems = "; ".join(f"MENTORSHIP_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        parser.exit(2, f"{parser.prog}: invalid settings: {problems}\n")
    if not args.migrate_only:
        _check_or_exit(parser, settings, checks, uses_broker)
    if args.migrate_only:
        runtime: ServiceRuntime = build_app(settings).state.runtime
        applied = asyncio.run(runtime.migrate_only())
        print(f"{service_name}: {len(applied)} migration(s) applied" + "".join(f"\n  {name}" for name in applied))
        return
    with _profiled(service_name):
        _run(build_app(settings), settings)


def _run(app: FastAPI, settings: ServiceSettings) -> None:
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        # uvloop's event loop and httptools' HTTP parser (uvicorn[standard]) rather than asyncio's and h11: the
        # loop also runs asyncpg, aiokafka and the consumers, and both cut the CPU of every request and round trip
        # (bench/load.py, CPU per command).
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=10,
        # Longer than any client's or proxy's idle keep-alive (httpx 5 s, ingress-nginx upstream 60 s): the client
        # closes an idle connection first, so a request is never sent on one the server is closing (a reset).
        timeout_keep_alive=75,
    )


@contextmanager
def _profiled(service_name: str) -> Iterator[None]:
    """With ``MENTORSHIP_PROFILE_DIR`` set (benchmarks only: ``bench/load.py --profile``), the whole process
    runs under cProfile; ``SIGUSR2`` (and the end of the process) writes its statistics so far to
    ``DIR/<service>-<pid>.prof``. Unset, nothing.

    The profile counts the process's CPU time (``time.process_time``), not wall time: on a busy machine a wall
    clock charges a function for the time the process waited to be scheduled (a socket ``send`` looked like a
    top cost), and the figure the bench reports is CPU per command."""
    directory = os.environ.get("MENTORSHIP_PROFILE_DIR")
    if not directory:
        yield
        return
    profiler = cProfile.Profile(time.process_time)
    path = os.path.join(directory, f"{service_name}-{os.getpid()}.prof")

    def dump(*_: object) -> None:  # runs in the main thread, the one profiled
        profiler.disable()
        profiler.dump_stats(path)
        profiler.enable()

    signal.signal(signal.SIGUSR2, dump)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def _check_or_exit(
    parser: argparse.ArgumentParser,
    settings: ServiceSettings,
    checks: Callable[[], list[Finding]] | None,
    uses_broker: bool = True,
) -> None:
    """Exit 2 naming every unsafe setting (outside development mode); in it, log the one warning line."""
    try:
        findings = service_findings(settings, uses_broker=uses_broker) + (checks() if checks else [])
        warning = enforce(findings, dev_mode=settings.dev_mode)
    except UnsafeSettings as exc:
        lines = "".join(f"\n  {finding}" for finding in exc.findings)
        parser.exit(2, f"{parser.prog}: refusing to start outside development mode (MENTORSHIP_DEV_MODE):{lines}\n")
    except (ValidationError, ValueError) as exc:  # a service's own settings (MENTORSHIP_<SERVICE>_*) are invalid
        parser.exit(2, f"{parser.prog}: invalid settings: {_reason(exc)}\n")
    if warning:
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        log.warning(warning)


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):  # a service's own settings (MENTORSHIP_<SERVICE>_*)
        return "; ".join(f"{exc.title}.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)
