"""Each relationship commit writes its cadence, review, nudge and survey timers together: one statement."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY

from shared import db
from tests.integration.relationships.conftest import MENTEE, days

TIMER_WRITE = re.compile(r"\bINSERT INTO timers\b|\bUPDATE timers SET cancelled_at\b")  # not the wheel's fired_at


def _statements_sent() -> float:
    return REGISTRY.get_sample_value("mentorship_db_statements_total") or 0.0


@pytest.fixture
def timer_writes(monkeypatch) -> list[str]:
    """The statements the service's connections send that schedule or cancel timers (each one a round trip)."""
    seen: list[str] = []
    original = db.Connection._get_statement

    async def noted(self, query: str, timeout, **kwargs):
        if TIMER_WRITE.search(query):
            seen.append(query)
        return await original(self, query, timeout, **kwargs)

    monkeypatch.setattr(db.Connection, "_get_statement", noted)
    return seen


async def test_each_command_writes_its_timers_in_one_statement(service, timer_writes) -> None:
    """Per command: (timer statements, events appended to the relationship, all statements); each commit appends
    event to the relationship's stream, so timer statements <= events appended means at most one per commit."""
    per_command: dict[str, tuple[int, int, float]] = {}
    rid = ""

    async def counted(name: str, command):
        events = len(await service.event_types(rid)) if rid else 0
        timer_writes.clear()
        statements = _statements_sent()
        result = await command()
        sent = _statements_sent() - statements
        per_command[name] = (len(timer_writes), len(await service.event_types(rid)) - events, sent)
        return result

    async def start() -> None:
        nonlocal rid
        rid = await service.start_one_to_one()

    async def meet() -> None:
        held_on = str(service.clock.now().date())
        body = {"held_on": held_on, "duration_minutes": 45, "format": "phone", "topic_tags": ["goals"]}
        met = await service.client.post(f"/relationships/{rid}/meetings", headers=MENTEE, json=body)
        assert met.status_code == 201, met.text

    async def close() -> None:
        body = {"reason": "no_fault_mentee"}
        closed = await service.client.post(f"/relationships/{rid}/closure", headers=MENTEE, json=body)
        assert closed.status_code == 200, closed.text

    await counted("start", start)
    await counted("agree (propose and two signatures)", lambda: service.agree(rid))
    service.clock.advance(days(20))
    await counted("log a meeting", meet)
    service.clock.advance(days(70))  # every 6-8 weeks and 14 days' grace: the nudge (day 63) and lagging (day 70)
    assert await counted("nudge and lagging (two timers fire)", service.fire_timers) == 2
    await counted("close", close)
    print("timer statements, relationship events, all statements per command:", per_command)

    assert all(0 < writes <= appended for writes, appended, _ in per_command.values()), per_command
    pending = await service.runtime.pool.fetchval(
        "SELECT count(*) FROM timers WHERE subject = $1 AND fired_at IS NULL AND cancelled_at IS NULL", rid
    )
    assert pending == 0  # closing cancelled them all
