"""Child processes that always die with their owner.

Each ``ManagedProcess`` leads a process group of its own, stopped group-wide on ``stop()``, at context exit
and at interpreter exit.  None of those runs when the owner itself is killed (``kill`` of a bench: Python dies
of SIGTERM without unwinding; ``kill -9``), so an owner that calls ``die_with_this_process()`` also starts a
**reaper**: a small process of its own session that reads, on a pipe only the owner holds, which process
groups (and embedded Postgres servers) are alive.  When the owner is gone the kernel closes the pipe; the
reaper reads end-of-file and stops whatever is still registered.  A group stopped by its owner is
unregistered first, so the reaper never signals a process group id that was reused since.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

import psutil

# Strong references on purpose: a forgotten ManagedProcess must still be stopped at exit.
_LIVE: set[ManagedProcess] = set()


PORTS_ENV = "MENTORSHIP_DEV_PORTS"
"""``LOW-HIGH``: where ``free_port`` looks (the tests give each pytest-xdist worker a slice of its own)."""
_GIVEN: set[int] = set()


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def port_range() -> tuple[int, int]:
    """The ports ``free_port`` hands out: ``MENTORSHIP_DEV_PORTS``, else 20000 up to the kernel's ephemeral range."""
    if spec := os.environ.get(PORTS_ENV):
        low, _, high = spec.partition("-")
        return int(low), int(high)
    return 20000, _ephemeral_low() - 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` right now, below the kernel's ephemeral range and not handed out before by this
    process.

    Bind-to-0 gave a port from the ephemeral range, which every outgoing connection also draws from: a service
    killed and restarted on its port (the fault cases, a pilot's restart) found it taken by some process's
    connection to Postgres or the broker and could not bind. Ports below that range are never given to
    connections, and a port this process handed out once is not handed out again while it may come back.
    """
    low, high = port_range()
    span = high - low + 1
    start = int.from_bytes(os.urandom(4), "big") % span
    for step in range(span):
        port = low + (start + step) % span
        if port in _GIVEN:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
        _GIVEN.add(port)
        return port
    raise RuntimeError(f"no free TCP port on {host} in {low}-{high}")


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# The reaper (see the module's doc).  It imports nothing of ours: it must run whatever the owner's path was.
# Lines: "+ group <pgid>", "- group <pgid>" (a process group: SIGTERM, then SIGKILL after 5 s), "+ postmaster <pid>"
# (a Postgres server: SIGINT, its fast shutdown, then SIGQUIT), "+ directory <path>" (removed last).
_REAPER = r"""
import os, shutil, signal, sys, time
live = {}
for line in sys.stdin:
    sign, kind, what = line.rstrip("\n").split(" ", 2)
    if sign == "+":
        live[(kind, what)] = None
    else:
        live.pop((kind, what), None)
def alive(kind, what):
    try:
        (os.killpg if kind == "group" else os.kill)(int(what), 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False
first = {"group": signal.SIGTERM, "postmaster": signal.SIGINT}
last = {"group": signal.SIGKILL, "postmaster": signal.SIGQUIT}
for stage in (first, last):
    for kind, what in live:
        if kind in stage and alive(kind, what):
            try:
                (os.killpg if kind == "group" else os.kill)(int(what), stage[kind])
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(k, w) for k, w in live if k in stage):
        time.sleep(0.05)
for kind, what in live:
    if kind == "directory":
        shutil.rmtree(what, ignore_errors=True)
"""
_reaper_pipe: int | None = None
_reaper_lock = threading.Lock()


def die_with_this_process() -> None:
    """From now on, what this process starts (``ManagedProcess``, an embedded Postgres) is stopped by a reaper
    when this process dies, however it dies: a bench killed or interrupted leaves nothing running.  Idempotent.

    Not the default: ``dev up --data`` killed alone leaves its stack running, and its next start stops it
    (``mentorship.devstack.datadir``)."""
    global _reaper_pipe
    with _reaper_lock:
        if _reaper_pipe is not None:
            return
        read, write = os.pipe()  # not inheritable: no other child keeps the owner's end open
        try:
            subprocess.Popen(
                [sys.executable, "-c", _REAPER], stdin=read, stdout=subprocess.DEVNULL, start_new_session=True
            )
        finally:
            os.close(read)
        _reaper_pipe = write
    for proc in list(_LIVE):
        if proc.pid is not None:
            reap_with_this_process("group", proc.pid)


def reap_with_this_process(kind: str, what: object, *, alive: bool = True) -> None:
    """Tell the reaper (if ``die_with_this_process`` started one) that ``what`` lives or no longer needs it."""
    if _reaper_pipe is None:
        return
    with _reaper_lock, contextlib.suppress(OSError):
        os.write(_reaper_pipe, f"{'+' if alive else '-'} {kind} {what}\n".encode())


def _killpg(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


class ManagedProcess:
    """A subprocess in its own process group, stopped (group-wide) on ``stop()`` or context exit."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.argv = [str(a) for a in argv]
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.log_path = Path(log_path) if log_path is not None else None
        self.name = name or Path(self.argv[0]).name
        self.popen: subprocess.Popen[bytes] | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def start(self) -> ManagedProcess:
        if self.popen is not None:
            raise RuntimeError(f"{self.name} already started")
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # The child holds its own copy of the descriptor; ours is closed when the block ends.
        with open(self.log_path or os.devnull, "ab") as out:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _LIVE.add(self)
        reap_with_this_process("group", self.popen.pid)
        return self

    def is_running(self) -> bool:
        return self.popen is not None and not self._leader_exited()

    def _leader_exited(self) -> bool:
        """Check for exit *without reaping*: an unreaped (zombie) leader keeps its pid, and so
        the process-group id, from being reused, which makes ``killpg`` safe."""
        assert self.popen is not None
        if self.popen.returncode is not None:
            return True
        try:
            return os.waitid(os.P_PID, self.popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
        except ChildProcessError:
            return True

    def stop(self, timeout: float = 10) -> int | None:
        """SIGTERM the whole group, SIGKILL it after ``timeout`` seconds; return the exit code."""
        if self.popen is None:
            return None
        if not self._stopped and self.popen.returncode is None:
            pgid = self.popen.pid  # start_new_session=True: the child leads its own group
            deadline = time.monotonic() + timeout
            if not self._leader_exited():
                _killpg(pgid, signal.SIGTERM)
                while not self._leader_exited() and time.monotonic() < deadline:
                    time.sleep(0.02)
            # Also reaches grandchildren that ignored SIGTERM or outlived the leader.
            _killpg(pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(5)
        self._stopped = True
        _LIVE.discard(self)
        reap_with_this_process("group", self.popen.pid, alive=False)
        return self.popen.returncode

    def wait_for_port(self, host: str, port: int, timeout: float = 30) -> None:
        """Block until ``host:port`` accepts connections; fail early if the process dies."""
        deadline = time.monotonic() + timeout
        while True:
            if port_open(host, port):
                return
            if not self.is_running():
                raise RuntimeError(f"{self.name} exited before {host}:{port} opened\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: {host}:{port} not open after {timeout}s\n{self.log_tail()}")
            time.sleep(0.05)

    def owns_listener(self, port: int) -> bool:
        """True if this process (or a descendant) has a TCP socket listening on ``port``.

        A bare connect check cannot tell our server from another one that holds the port.
        """
        if not self.is_running():
            return False
        try:
            root = psutil.Process(self.popen.pid)  # type: ignore[union-attr]
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return False
        for proc in procs:
            try:
                conns = proc.net_connections(kind="tcp")
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in conns):
                return True
        return False

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def __enter__(self) -> ManagedProcess:
        if self.popen is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ManagedProcess({self.name!r}, pid={self.pid}, running={self.is_running()})"


@atexit.register
def _stop_all() -> None:
    for proc in list(_LIVE):
        proc.stop(timeout=3)
