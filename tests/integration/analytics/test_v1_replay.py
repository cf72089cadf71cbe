"""The history recorded with the catalog's first event versions, replayed into the code of the day.

``tests/fixtures/history_v1.jsonl.gz`` holds every record the platform published in a realistic run with the
version-1 events (``tests/fixtures/record_history_v1.py``), and ``history_v1.figures.json`` the dashboard figures
analytics computed from it then.  Published as it was (topic, partition, key, headers, value) to a broker of its
own, it must give the same figures today, and no consumer of any service may dead-letter a record of it: every
version-1 payload is read through the catalog's upcasters (``program_id`` → ``"default"`` and the like).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
from aiokafka import TopicPartition

from mentorship.devstack.broker import start_tansu
from mentorship.devstack.demo.settle import Settler
from mentorship.stack import start_services
from shared.auth import Role, mint_token
from shared.bus import all_event_topics, dead_letter_topic, ensure_topics, new_consumer, new_producer, topic_for
from shared.settings import DEV_JWT_SECRET
from tests.fixtures.history import figures_v1, history_v1
from tests.helpers import eventually

pytestmark = pytest.mark.integration

ANALYST = {"Authorization": f"Bearer {mint_token(DEV_JWT_SECRET, 'replay-analyst', [Role.analyst])}"}
CONSUMERS = {
    "profiles": ["hr.events"],
    "matching": [topic_for("profiles"), "hr.events", topic_for("relationships")],
    "relationships": [topic_for("matching"), topic_for("profiles")],
    "notifications": [topic_for("profiles"), topic_for("matching"), topic_for("relationships")],
}
"""What each service consumes (docs/architecture.md, section 2): its consumer group is named after it."""


async def publish_history(bootstrap: str, records: list[dict]) -> dict[TopicPartition, int]:
    """Every record onto its own topic and partition, in offset order; returns the records per partition."""
    partitions = Counter()
    for record in records:
        partitions[record["topic"]] = max(partitions[record["topic"]], record["partition"] + 1)
    for topic in all_event_topics():
        await ensure_topics(bootstrap, [topic], partitions=max(partitions[topic], 1))
    producer = new_producer(bootstrap)
    await producer.start()
    sent: Counter[TopicPartition] = Counter()
    try:
        for record in sorted(records, key=lambda r: (r["topic"], r["partition"], r["offset"])):
            await producer.send_and_wait(
                record["topic"],
                json.dumps(record["value"]).encode(),
                key=record["key"].encode() if record["key"] is not None else None,
                partition=record["partition"],
                headers=[(name, value.encode()) for name, value in record["headers"]],
            )
            sent[TopicPartition(record["topic"], record["partition"])] += 1
    finally:
        await producer.stop()
    return dict(sent)


async def dead_letters(bootstrap: str, groups: list[str]) -> list[tuple[str, str, str]]:
    """(group, reason, error) of every record on the groups' dead-letter topics."""
    consumer = new_consumer(bootstrap, enable_auto_commit=False, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    found = []
    try:
        topics = await consumer.topics()
        partitions = [
            TopicPartition(dead_letter_topic(g), p)
            for g in groups
            if dead_letter_topic(g) in topics
            for p in consumer.partitions_for_topic(dead_letter_topic(g)) or ()
        ]
        if partitions:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            for _ in range(6):  # empty topics answer at once; a few fetches see any record there is
                batch = await consumer.getmany(timeout_ms=300)
                for tp, items in batch.items():
                    for item in items:
                        headers = {k: v.decode(errors="replace") for k, v in item.headers}
                        found.append((tp.topic, headers.get("x-dlq-reason", "?"), headers.get("x-dlq-error", "")[:300]))
    finally:
        await consumer.stop()
    return found


NEWER_BLOCKS = ("evaluation", "surveys")
"""Figures added after the recording (issue 18): the recorded file has none of them, and is kept as recorded."""


async def dashboard(url: str, evaluation: bool = False, **params: str) -> dict | None:
    """The figures; without the blocks newer than the recording unless asked (``evaluation``: all of them)."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.get(f"{url}/dashboard.json", params=params, headers=ANALYST)
    if response.status_code != 200:
        return None
    figures = response.json()
    return figures if evaluation else {k: v for k, v in figures.items() if k not in NEWER_BLOCKS}


async def test_the_v1_history_gives_the_recorded_figures_and_nothing_is_dead_lettered(postgres, tmp_path: Path) -> None:
    records, recorded = history_v1(), figures_v1()
    assert {r["value"]["schemaversion"] for r in records} == {1}
    prefix = f"v1_{uuid.uuid4().hex[:8]}"
    try:
        await _replay(postgres, tmp_path, prefix, records, recorded)
    finally:  # the services' databases, which start_services leaves behind
        for name in ("analytics", *(f"c_{service}" for service in CONSUMERS)):
            postgres.drop_database(f"{prefix}_{name}")


async def _replay(postgres, tmp_path: Path, prefix: str, records: list[dict], recorded: dict) -> None:
    with start_tansu(log_dir=tmp_path) as broker:
        sent = await publish_history(broker.bootstrap, records)
        with start_services(postgres, broker.bootstrap, tmp_path, names=("analytics",), database_prefix=prefix) as up:
            url = up["analytics"].url
            submitted = recorded["dashboard"]["requests"]["submitted"]

            async def projected_all() -> bool:
                figures = await dashboard(url)
                return figures is not None and figures["requests"]["submitted"] >= submitted

            await eventually(projected_all, timeout=120, interval=0.5)
            await eventually(lambda: _same(url, recorded["dashboard"]), timeout=30, interval=0.5)
            assert await dashboard(url) == recorded["dashboard"]
            for department, figures in recorded["by_department"].items():
                assert await dashboard(url, department=department) == figures
            # every request and relationship of version 1 belongs to the built-in program
            default = await dashboard(url, program="default")
            assert default["requests"] == recorded["dashboard"]["requests"]
            assert default["relationships"] == recorded["dashboard"]["relationships"]
            newer = await dashboard(url, evaluation=True)
            evaluation = newer["evaluation"]
            # A version-1 history opened no survey of issue 18's kinds (its closing feedback is FeedbackSubmitted).
            assert (newer["surveys"]["response_rates"], newer["surveys"]["results"]) == ([], [])
            assert {p["program"] for p in evaluation["fast_starts"]["by_program"]} == {"default"}

        # every service's consumers read the same history with today's code: nothing dead-lettered
        with start_services(
            postgres, broker.bootstrap, tmp_path, names=tuple(CONSUMERS), database_prefix=f"{prefix}_c"
        ) as running:
            assert set(running) == set(CONSUMERS)
            async with Settler({}, broker.bootstrap, CONSUMERS, ()) as settler:
                await eventually(lambda: _caught_up(settler, sent), timeout=300, interval=0.5)
        assert await dead_letters(broker.bootstrap, list(CONSUMERS)) == []


async def _same(url: str, expected: dict) -> bool:
    return await dashboard(url) == expected


async def _caught_up(settler: Settler, sent: dict[TopicPartition, int]) -> bool:
    return await settler.behind(sent) == 0
