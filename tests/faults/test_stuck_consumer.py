"""A consumer stuck mid-stream: a member of matching's group stops polling; its watchdog recovers it.

matching runs as its usual process plus a second member in this test's own process (its app on the
cluster's database and broker), so that the test can reach into it.  With the workload flowing, that
member's poll loop is cancelled: it still heartbeats, so the group leaves its partitions with it, and
the records there (mentee registrations, mentor answers) pile up while ``POST /requests`` answers "not a
registered mentee", the state issue 19 saw.  Nobody touches it: its watchdog must notice (records
waiting, none handled for twice the session timeout), make it leave the group and join again, and the
end state must equal the clean run's.  The row's "caught up" column: seconds from the stop until the
member was back and nothing waited on matching's topics.  A ``long_fault`` case: CI covers the watchdog with
``tests/integration/test_consumer_watchdog.py`` in seconds.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from services.matching.bootstrap import build_app
from shared.runtime import ServiceRuntime
from shared.settings import ServiceSettings
from tests.faults.cluster import FAULT_ENV, Cluster, start_cluster, wait_until
from tests.faults.scenario import CleanRun, exercise, group_lag


def second_member(cluster: Cluster):
    """matching's app on the cluster's database and broker, as the process replicas are configured."""
    settings = ServiceSettings(
        service_name="matching",
        pg_dsn=cluster.dsn("matching"),
        kafka_bootstrap=cluster.broker.bootstrap,
        consumer_session_timeout_ms=int(FAULT_ENV["MENTORSHIP_CONSUMER_SESSION_TIMEOUT_MS"]),
        topic_partitions=int(FAULT_ENV["MENTORSHIP_TOPIC_PARTITIONS"]),
        dev_mode=True,
    )
    return build_app(settings)


@pytest.mark.long_fault
async def test_a_member_stops_polling_mid_stream(postgres, tmp_path: Path, clean_run: CleanRun, fault_rows) -> None:
    with start_cluster(postgres, tmp_path) as cluster:
        app = second_member(cluster)
        runtime: ServiceRuntime = app.state.runtime
        async with app.router.lifespan_context(app):
            watchdog = runtime.watchdog

            async def holds_partitions() -> bool:
                consumer = watchdog.subscription.consumer
                return consumer is not None and bool(consumer.assignment())

            await wait_until(holds_partitions, timeout=60)

            async def stop_polling(_: Cluster) -> float:
                for task in watchdog.subscription.subscriber.tasks:
                    task.cancel()
                return time.monotonic()

            async def back(_: Cluster) -> bool:
                """Recovered, and nothing waits on matching's topics any more."""
                if not (watchdog.recoveries >= 1 and watchdog.ready and await holds_partitions()):
                    return False
                lag = [await group_lag(cluster, ["matching"], topic) for topic in runtime.consumes]
                return all(n == 0 for by_group in lag for n in by_group.values())

            row, problems = await exercise(
                cluster, clean_run, "matching member stops polling", stop_polling, caught_up=back
            )
        fault_rows.append(row)
        print(f"matching's stuck member back after {row.caught_up_seconds} s ({watchdog.recoveries} recovery)")
        assert (row.lost, row.duplicated, problems) == (0, 0, []), problems
        assert watchdog.recoveries == 1
