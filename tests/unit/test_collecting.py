"""shared.collecting: the cycle collector is off while bulk work runs and back as it was after the last one."""

from __future__ import annotations

import gc
import weakref

import pytest

from shared import collecting
from shared.collecting import bulk_work


@pytest.fixture(autouse=True)
def _collector_restored():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_off_during_bulk_work_and_back_after() -> None:
    gc.enable()
    with bulk_work():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert collecting.running() == 0


def test_overlapping_work_keeps_it_off_until_the_last_one_ends() -> None:
    gc.enable()
    first, second = bulk_work(), bulk_work()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_back_after_an_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), bulk_work():
        raise RuntimeError("boom")
    assert gc.isenabled()
    assert collecting.running() == 0


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with bulk_work():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_work_past_the_pause_limit_collects_young_cycles(monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    monkeypatch.setattr(collecting, "MAX_PAUSE_SECONDS", 0.0)
    first, second = bulk_work(), bulk_work()
    first.__enter__()
    second.__enter__()

    class Cycle:
        pass

    cycle = Cycle()
    cycle.me = cycle  # type: ignore[attr-defined]
    alive = __import__("weakref").ref(cycle)
    del cycle
    first.__exit__(None, None, None)  # past the limit while the second still runs: young cycles collected
    assert alive() is None
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_collect_young_frees_the_cycles_made_during_bulk_work() -> None:
    """The CLI's HTTP client makes cyclic garbage with each request: collected between chunks, not kept."""

    class Node:
        pass

    gc.enable()
    with bulk_work():
        node = Node()
        node.me = node  # a cycle: reference counting alone never frees it
        alive = weakref.ref(node)
        del node
        assert alive() is not None
        collecting.collect_young()
        assert alive() is None
        assert not gc.isenabled()
