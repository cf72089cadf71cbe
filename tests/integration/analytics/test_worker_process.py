"""The replay's worker processes end with the service: after a ``kill -9`` they would otherwise wait forever."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SERVICE = """
import sys
from services.analytics.projecting import batches, workers
worker = workers.preparing_in("process")
batch = worker.submit(batches.prepare_elsewhere, [(("t", 0), [b"not an event"], 1)], None).result()
print(batch.skipped_invalid, *[p.pid for p in worker._processes.values()], flush=True)
sys.stdin.read()
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_the_worker_processes_exit_when_the_service_is_killed() -> None:
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    )
    try:
        skipped_invalid, *workers = map(int, service.stdout.readline().split())
        assert skipped_invalid == 1  # a worker prepared a batch: a record that is not an event
        assert workers and all(alive(worker) for worker in workers)
        service.send_signal(signal.SIGKILL)
        service.wait()
        deadline = time.monotonic() + 5
        while any(alive(worker) for worker in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(worker) for worker in workers)
    finally:
        service.kill()
