from __future__ import annotations

import pytest

from bench import append, relay
from bench.common import pg_params, ratio, spread_cell, table

pytestmark = pytest.mark.unit


def test_append_arguments() -> None:
    assert append.parse_args([]).concurrency == [1, 8]
    quick = append.parse_args(["--quick", "--concurrency", "8"])
    assert (quick.seconds, quick.rounds, quick.concurrency) == (1.0, 1, [8])


def test_relay_arguments() -> None:
    assert relay.parse_args(["--batch-size", "2000"]).events == 50_000
    assert relay.parse_args(["--quick"]).events == 5_000


def test_ratio_says_whether_the_target_is_met() -> None:
    assert ratio("ours/peer", 5123, 1800, 2) == "ours/peer 2.85 (target >= 2: met)"
    assert ratio("ours/raw", 6, 10, 0.7) == "ours/raw 0.60 (target >= 0.7: MISSED)"
    assert ratio("relay/raw", 4975, 10_000, 0.5) == "relay/raw 0.497 (target >= 0.5: MISSED)"


def test_spread_cell_and_table() -> None:
    assert spread_cell([3300, 2800, 3042]) == "3,042 (2,800-3,300)"
    assert table(["c", "ours"], [[8, "5,123"]]).splitlines() == ["c   ours", "-  -----", "8  5,123"]


def test_socket_dsn_becomes_libpq_parameters() -> None:
    params = pg_params("postgresql://postgres@/bench?host=/tmp/pg-sock&port=5433")
    assert (params.host, params.port, params.user, params.dbname) == ("/tmp/pg-sock", 5433, "postgres", "bench")
