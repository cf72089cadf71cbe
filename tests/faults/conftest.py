"""Fault-injection suite: options, the clean reference run, and the fault table.

By default a bounded subset runs (part of ``make test``); ``--all-faults`` (``make faults``) also
runs the cases marked ``long_fault``.  Those are *deselected* by default, not skipped.
``--fault-repeat N`` runs every selected case N times in a row (``make faults CASE=replicas REPEAT=10``):
how a flaky case is told from a broken one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.faults.cluster import start_cluster
from tests.faults.scenario import PLAN, CleanRun, FaultRow, format_table, settle
from tests.faults.table import ROOT, TABLE_PATH, WORKER, save_worker_rows
from tests.faults.workload import Api, Workload

ROWS: list[FaultRow] = []
DESELECTED: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-faults", action="store_true", default=False, help="also run the long fault-injection cases (make faults)"
    )
    parser.addoption(
        "--fault-repeat", type=int, default=1, metavar="N", help="run each selected fault case N times in a row"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    count = metafunc.config.getoption("--fault-repeat")
    if count > 1 and Path(__file__).parent in Path(str(metafunc.definition.fspath)).parents:
        metafunc.fixturenames.append("fault_repeat")
        metafunc.parametrize("fault_repeat", range(1, count + 1), indirect=True, ids=lambda i: f"run{i}of{count}")


@pytest.fixture
def fault_repeat(request: pytest.FixtureRequest) -> int:
    """Which run of ``--fault-repeat`` this is (1 when not repeated)."""
    return getattr(request, "param", 1)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "long_fault: a fault case only `make faults` (--all-faults) runs")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    mine = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in mine:
        item.add_marker(pytest.mark.faults)
    if config.getoption("--all-faults"):
        return
    long = [item for item in mine if item.get_closest_marker("long_fault")]
    if long:
        DESELECTED.extend(item.nodeid for item in long)
        config.hook.pytest_deselected(items=long)
        items[:] = [item for item in items if item not in long]


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    if DESELECTED:
        terminalreporter.write_line(
            f"{len(DESELECTED)} long fault cases deselected (bounded CI subset);"
            " `make faults` (pytest tests/faults --all-faults) runs them all"
        )
    if ROWS:
        terminalreporter.write_sep("=", "fault injection")
        terminalreporter.write_line(format_table(ROWS))
        terminalreporter.write_line(f"(also in {TABLE_PATH.relative_to(ROOT)})")


@pytest.fixture(scope="session")
def fault_rows() -> Iterator[list[FaultRow]]:
    yield ROWS
    if ROWS:
        TABLE_PATH.parent.mkdir(exist_ok=True)
        if WORKER is None:
            TABLE_PATH.write_text(format_table(ROWS) + "\n")
        else:  # joined by the controller (tests/faults/table.py)
            save_worker_rows([asdict(r) for r in ROWS])


@pytest.fixture(scope="session")
def clean_run(postgres, tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    """The same workload with no fault: the end state every faulted run must reach."""
    with start_cluster(postgres, tmp_path_factory.mktemp("clean")) as cluster:

        async def drive() -> CleanRun:
            api = Api(cluster.urls())
            try:
                await Workload(api, PLAN).run()
            finally:
                await api.close()
            return await settle(cluster)

        return asyncio.run(drive())
