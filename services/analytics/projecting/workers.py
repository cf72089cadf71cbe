"""Where a batch is prepared (a worker thread or worker processes), and the interpreter tuned for big batches.

Preparing (decoding the records, turning them into rows: ``batches.prepare_batch``) is pure Python, so it
can run beside the event loop that talks to Postgres. The live projector uses one worker thread. A replay
or a rebuild uses two worker *processes* taking every other batch: Python's work is spread over two cores
instead of taking turns under one GIL.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Literal

PrepareIn = Literal["thread", "process"]
PREPARE_PROCESSES = 2  # a replay's worker processes: each prepares every other batch
GC_GEN0_THRESHOLD = 50_000
SWITCH_INTERVAL_S = 0.001
_projecting = 0
_settings_before = (gc.get_threshold(), sys.getswitchinterval())


def preparing_in(where: PrepareIn) -> Executor:
    """The executor batches are prepared in: one thread, or ``PREPARE_PROCESSES`` processes that end with
    this one (``start_worker_process``)."""
    if where == "process":
        return ProcessPoolExecutor(
            PREPARE_PROCESSES,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=start_worker_process,
            initargs=(os.getpid(),),
        )
    return ThreadPoolExecutor(1, thread_name_prefix="projector-prepare")


@contextmanager
def tuned_for_batches() -> Iterator[None]:
    """Interpreter settings for projecting big batches with a worker thread. They are process-wide, so
    they are restored when the last running projector stops.

    - Collect young objects less often. A batch holds tens of thousands of live objects (records,
      envelopes, payload dicts, rows), and with the default gen-0 threshold (700 allocations) the cycle
      collector ran hundreds of times per batch, re-scanning them: about 45% of the projector's CPU in a
      replay. They are freed by reference counting; collecting every 50,000 allocations still finds cycles.
    - Hand the GIL to the event loop sooner. While the worker thread prepares the next batch, the loop
      waits for the interpreter each time Postgres answers one of the batch's few dozen statements; with
      the default 5 ms switch interval Postgres sat idle for much of that. Measured in the replay
      benchmark (500,000 events, three runs each, alternating): 5 ms 26,900 events/s, 1 ms 30,900.
    """
    global _projecting, _settings_before
    if _projecting == 0:
        _settings_before = (gc.get_threshold(), sys.getswitchinterval())
        threshold = _settings_before[0]
        gc.set_threshold(max(threshold[0], GC_GEN0_THRESHOLD), *threshold[1:])
        sys.setswitchinterval(min(_settings_before[1], SWITCH_INTERVAL_S))
    _projecting += 1
    try:
        yield
    finally:
        _projecting -= 1
        if _projecting == 0:
            gc.set_threshold(*_settings_before[0])
            sys.setswitchinterval(_settings_before[1])


def start_worker_process(parent: int) -> None:
    """A worker process collects young objects as rarely as the projector does (see ``tuned_for_batches``),
    and ends when its parent does: after a ``kill -9`` of the service it would otherwise wait forever."""
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    threading.Thread(target=_exit_with, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)
