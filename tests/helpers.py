"""Small helpers the tests share: consume a topic to the end, wait for a condition, publish envelopes, and
builders of envelopes and HR records that unit and integration tests both use."""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

from aiokafka import ConsumerRecord

from shared.bus import Broker, new_consumer, new_producer, topic_for
from shared.envelope import Envelope
from shared.events import Event
from shared.events.hr import Worker, WorkerHired, WorkerUpdated
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields


async def consume_all(bootstrap: Broker, topic: str, expected: int, timeout: float = 20.0) -> list[ConsumerRecord]:
    """Read a topic from the beginning until ``expected`` records arrived (or the timeout passed)."""
    consumer = new_consumer(
        bootstrap,
        topic,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < expected and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def eventually(check: Callable[[], Awaitable[bool] | bool], timeout: float = 20.0, interval: float = 0.1) -> None:
    """Poll ``check`` (a coroutine function, or a plain condition such as ``lambda: stats.done``) until it holds."""
    deadline = time.monotonic() + timeout
    while not await _result(check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {check.__name__}")
        await asyncio.sleep(interval)


async def _result(value: Awaitable[bool] | bool) -> bool:
    return await value if inspect.isawaitable(value) else value


E = TypeVar("E", bound=Event)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def envelope_of(
    event: Event, subject: str = "s", source: str | None = None, *, time: datetime, sequence: int = 1
) -> Envelope:
    """``event`` as its owner would publish it (``source`` defaults to ``/services/<owner>``)."""
    return Envelope(
        id=uuid.uuid4(),
        source=source or f"/services/{event.owner}",
        type=event.type_name(),
        time=time,
        subject=subject,
        correlationid=uuid.uuid4(),
        sequence=sequence,
        schemaversion=event.schema_version,
        data=event.model_dump(mode="json"),
    )


def topic_of(envelope: Envelope) -> str:
    """The topic of the service named in the envelope's source (``/services/<name>``)."""
    return topic_for(envelope.source.rsplit("/", 1)[-1])


async def send(bootstrap: Broker, messages: Iterable[tuple[str, Envelope]]) -> None:
    """Send each ``(topic, envelope)`` in order, keyed by the envelope's subject, and wait for every one."""
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        for topic, envelope in messages:
            await producer.send_and_wait(topic, value=envelope.to_bytes(), key=envelope.subject.encode())
    finally:
        await producer.stop()


async def publish(bootstrap: Broker, *envelopes: Envelope, topic: str | None = None) -> None:
    """Send each envelope on ``topic`` or else on its source service's topic."""
    await send(bootstrap, ((topic or topic_of(envelope), envelope) for envelope in envelopes))


# --- registrations ---


def cardiologist_profile(**overrides: Any) -> dict[str, Any]:
    """A senior cardiologist's profile (Dr Ada Okafor's) as the profiles API takes it; ``overrides`` win."""
    return {
        "biography": "Cardiologist; mentors early-career clinician scientists.",
        "specialty": "cardiology",
        "interests": ["heart failure", "grant writing"],
        "career_stage": "senior",
        "time_zone": "America/Chicago",
        "languages": ["en", "yo"],
        **overrides,
    }


def doctor(
    mentor_id: str, profile: ProfileFields, capacity: int = 2, employee_id: str | None = None
) -> MentorRegistered:
    """Mentor ``Dr <id>`` registered with ``<id>@example.edu``."""
    return MentorRegistered(capacity=capacity, **_registration(mentor_id, f"Dr {mentor_id}", profile, employee_id))


def fellow(mentee_id: str, profile: ProfileFields, employee_id: str | None = None) -> MenteeRegistered:
    """Mentee ``Fellow <id>`` registered with ``<id>@example.edu``."""
    return MenteeRegistered(**_registration(mentee_id, f"Fellow {mentee_id}", profile, employee_id))


def _registration(participant_id: str, name: str, profile: ProfileFields, employee_id: str | None) -> dict[str, Any]:
    email = f"{participant_id}@example.edu"
    return {
        "participant_id": participant_id,
        "name": name,
        "email": email,
        "employee_id": employee_id,
        "profile": profile,
    }


# --- HR records ---


def worker_fields(employee_id: str, **overrides: Any) -> dict[str, Any]:
    """A worker record as HR sends it: a professor in department D1 (Medicine) since 2020; ``overrides`` win."""
    fields: dict[str, Any] = {
        "employee_id": employee_id,
        "legal_name": f"Worker {employee_id}",
        "work_email": f"{employee_id.lower()}@example.edu",
        "title": "Professor",
        "job_function": "faculty",
        "department_id": "D1",
        "department_name": "Medicine",
        "country": "US",
        "original_hire_date": date(2020, 1, 1),
        "last_hire_date": date(2020, 1, 1),
    }
    return {**fields, **overrides}


def import_row(employee_id: str, **overrides: Any) -> dict[str, Any]:
    """A row of a bulk HR import (dates as text), in Surgery, effective 2025-01-01; ``overrides`` win."""
    row = {
        "department_name": "Surgery",
        "original_hire_date": "2020-01-01",
        "last_hire_date": "2020-01-01",
        "effective_date": "2025-01-01",
    }
    return worker_fields(employee_id, **{**row, **overrides})


class HrFacts:
    """Builders of the facts the HR system puts on ``hr.events``, all recorded at ``recorded_at``: Grace Hopper,
    a professor of Computer Science on the main campus since 2024."""

    def __init__(self, recorded_at: datetime) -> None:
        self.recorded_at = recorded_at

    def worker(self, employee_id: str = "E100", **overrides: Any) -> Worker:
        grace = {
            "legal_name": "Grace Hopper",
            "preferred_name": "Grace",
            "department_name": "Computer Science",
            "location": "Main campus",
            "original_hire_date": date(2024, 1, 1),
            "last_hire_date": date(2024, 1, 1),
        }
        return Worker(**worker_fields(employee_id, **{**grace, **overrides}))

    def fact(self, kind: type[E], employee_id: str = "E100", effective: date = date(2024, 6, 1), **fields: Any) -> E:
        return kind(employee_id=employee_id, effective_date=effective, recorded_at=self.recorded_at, **fields)

    def hired(self, employee_id: str = "E100", effective: date = date(2024, 1, 1), **overrides: Any) -> WorkerHired:
        return self.fact(WorkerHired, employee_id, effective, worker=self.worker(employee_id, **overrides))

    def updated(self, employee_id: str = "E100", effective: date = date(2024, 6, 1), **overrides: Any) -> WorkerUpdated:
        worker, changed = self.worker(employee_id, **overrides), sorted(overrides) or ["title"]
        return self.fact(WorkerUpdated, employee_id, effective, worker=worker, changed_fields=changed)

    def envelope(self, event: Event, subject: str | None = None) -> Envelope:
        """As the HR system (``/hr/workday``) sends a fact, by default about the fact's employee."""
        return envelope_of(event, subject or event.employee_id, "/hr/workday", time=self.recorded_at)
