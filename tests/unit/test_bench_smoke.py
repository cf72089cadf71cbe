from __future__ import annotations

import pytest

from bench import append, relay, replay
from bench.common import pg_params, ratio, spread_cell, table

pytestmark = pytest.mark.unit


def test_append_arguments() -> None:
    assert append.parse_args([]).concurrency == [1, 8]
    quick = append.parse_args(["--quick", "--concurrency", "8"])
    assert (quick.seconds, quick.rounds, quick.concurrency) == (1.0, 1, [8])


def test_relay_arguments() -> None:
    assert relay.parse_args(["--batch-size", "2000"]).events == 50_000
    assert relay.parse_args(["--quick"]).events == 5_000


def test_replay_arguments() -> None:
    assert (replay.parse_args([]).events, replay.parse_args([]).batch_size) == (1_000_000, 10_000)
    assert replay.parse_args(["--quick"]).events == 50_000
    assert replay.parse_args(["--events", "2000", "--batch-size", "500"]).batch_size == 500
    with pytest.raises(SystemExit):
        replay.parse_args(["--events", "0"])


def test_replay_history_is_seeded_and_spans_every_topic() -> None:
    first, again = list(replay.messages(3000)), list(replay.messages(3000))
    assert first == again and len(first) == 3000
    assert {owner for owner, _, _ in first} == set(replay.OWNERS)


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


def test_load_arguments() -> None:
    from bench import load

    default = load.parse_args([])
    assert (default.steps, default.step_seconds, default.replicas) == (None, 10.0, 1)  # None: climb to the knee
    assert (default.start_rate, default.factor, default.no_peer) == (20.0, 1.5, False)
    quick = load.parse_args(["--quick"])
    assert (quick.steps, quick.step_seconds) == ([2.0, 5.0], 5.0)
    assert load.parse_args(["--steps", "1,2.5,4", "--replicas", "2"]).steps == [1.0, 2.5, 4.0]
    for bad in (
        ["--steps", "10,5"],
        ["--steps", "0,5"],
        ["--steps", "a"],
        ["--replicas", "0"],
        ["--step-seconds", "-1"],
        ["--factor", "1"],
    ):
        with pytest.raises(SystemExit):
            load.parse_args(bad)


def test_load_percentiles() -> None:
    from bench.load import percentile

    assert percentile([0.1] * 99 + [2.0], 50) == 0.1
    assert percentile(list(range(1, 101)), 99) > 98
    assert percentile([3.0], 99) == 3.0


def test_consumer_arguments_and_records() -> None:
    from bench import consumer
    from shared.envelope import Envelope

    assert consumer.parse_args([]).batches == [1, 10, 100]
    assert consumer.parse_args(["--batch", "5"]).batches == [5]
    with pytest.raises(SystemExit):
        consumer.parse_args(["--records", "10"])
    records = consumer.deliveries(3)
    envelopes = [Envelope.from_bytes(r.value) for r in records]
    assert [e.type for e in envelopes] == ["MentorRegistered"] * 3 and len({e.id for e in envelopes}) == 3
    assert [r.key.decode() for r in records] == [e.subject for e in envelopes]
