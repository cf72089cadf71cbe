"""Cyclic garbage collection held off while bulk work runs in this process.

A bulk batch (1,000 rows of a first HR import) keeps tens of thousands of objects alive until it ends: rows,
events, payloads, sealed values, read-model rows. With the default gen-0 threshold (700 allocations) the cycle
collector ran about a hundred times per batch, re-scanning them, and every thousand rows one full collection
scanned the whole heap as well: a third of profiles' CPU per new row (bench/hr_import.py, first import:
0.347 → 0.230 ms/row). The batch's objects are freed by reference counting when it ends (it makes no cyclic
garbage), so collecting cycles after it, not during it, finds the same.

The CLI's ``hr import`` streams its file the same way (two chunks of 5,000 decoded rows alive at a time), and
calls ``collect_young`` between chunks: its HTTP client makes cyclic garbage with each request, which a
whole import without collection kept (peak RSS 85 -> 114 MB at 100,000 rows, bench/hr_import.py).

The collector is process-wide: it is off while any bulk work runs and back as it was when the last one ends.
Batches that overlap without a gap (a CLI sending two at once) collect the young generations every
``MAX_PAUSE_SECONDS`` as one ends, so cycles made meanwhile elsewhere in the process do not pile up.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE_SECONDS = 5.0

_running = 0
_enabled_before = True
_paused_since = 0.0


@contextmanager
def bulk_work() -> Iterator[None]:
    """No automatic cycle collection while the block runs (nor while other bulk work of the process does)."""
    global _running, _enabled_before, _paused_since
    if _running == 0:
        _enabled_before, _paused_since = gc.isenabled(), time.monotonic()
        gc.disable()
    _running += 1
    try:
        yield
    finally:
        _running -= 1
        if _running == 0:
            if _enabled_before:
                gc.enable()
        elif time.monotonic() - _paused_since > MAX_PAUSE_SECONDS:
            gc.collect(1)
            _paused_since = time.monotonic()


def collect_young() -> None:
    """Between the chunks of long bulk work: the cyclic garbage made since the last call, without scanning the
    old generation (what lives on is scanned once or twice, not at every allocation threshold)."""
    gc.collect(1)


def running() -> int:
    """How many blocks of bulk work are running now (for tests)."""
    return _running
