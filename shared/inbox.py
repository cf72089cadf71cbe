"""Idempotent consumer: effect and "handled" record commit together; the offset is committed after.

Outcomes of one message:

* unparseable envelope, unknown or invalid payload, or a handler raising
  ``PermanentError``: published to the group's dead-letter topic with the
  error in its headers, then acknowledged; the consumer carries on;
* a payload of a newer ``schemaversion`` than this code's catalog knows (its
  producer was upgraded first): dead-lettered with reason
  ``unknown-schema-version`` and an error naming the type and both versions,
  never read as a shape the handler was not written for;
* event type the group does not handle: acknowledged, nothing recorded; a record whose ``event_type``
  header (``shared.bus.message_headers``) names such a type is not even parsed (a group reads whole
  topics and handles some of their types: ``bench/consumer.py``'s ignored records);
* event id already in the inbox: acknowledged, handler not called (redelivery);
* handler error: retried with exponential back-off; after ``max_attempts``
  tries the message is dead-lettered;
* database or broker unreachable: retried without limit (capped back-off),
  because dead-lettering would turn an outage into lost work.

The method returns only once the message is handled or dead-lettered, so a
later acknowledgement can never commit an offset past an unhandled message.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from shared import tracing
from shared.bus import dead_letter_topic
from shared.envelope import Envelope
from shared.events.base import Event, UnknownEventType, UnknownEventVersion, decode
from shared.logging import bound_contextvars, get_logger
from shared.metrics import consumed_events, handler_failures

log = get_logger(__name__)

Handler = Callable[[asyncpg.Connection, Event, Envelope], Awaitable[None]]
Opener = Callable[[Envelope], Awaitable[Envelope]]
"""Turns a received envelope's sealed personal fields into what this consumer may read (``shared.keysource``)."""
BatchOpener = Callable[[Sequence[Envelope]], Awaitable[list[Envelope]]]
"""The same for a batch's envelopes at once (one request for their keys, ``BusOpener.open_many``)."""
Outcome = Literal["handled", "duplicate", "ignored", "dead_lettered"]

_INFRASTRUCTURE_ERRORS = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)
_MAX_BACKOFF_SECONDS = 30.0


class PermanentError(Exception):
    """Raised by a handler when retrying can never succeed."""


@dataclass(frozen=True)
class Delivery:
    """One Kafka record as the consumer received it."""

    value: bytes
    topic: str
    partition: int
    offset: int
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def _routed_type(delivery: Delivery) -> str | None:
    """The record's ``event_type`` header, which the relay writes for routing without parsing; None without one."""
    for name, value in delivery.headers:
        if name == "event_type":
            return value.decode(errors="replace")
    return None


def _event_context(envelope: Envelope) -> dict[str, str | None]:
    """What a record's log lines say about its event (bound while it is handled, or logged with its outcome)."""
    return {
        "event_id": str(envelope.id),
        "event_type": envelope.type,
        "correlation_id": str(envelope.correlationid),
        "causation_id": str(envelope.causationid) if envelope.causationid else None,
    }


class _Received(NamedTuple):
    """A batch's record ready for its handler, with the context its log lines carry (built once)."""

    handler: Handler
    event: Event
    envelope: Envelope
    context: dict[str, str | None]


class IdempotentConsumer:
    def __init__(
        self,
        pool: asyncpg.Pool,
        group: str,
        handlers: dict[str, Handler],
        producer: AIOKafkaProducer,
        *,
        max_attempts: int = 5,
        backoff_seconds: float = 0.2,
        opener: Opener | None = None,
        open_many: BatchOpener | None = None,
    ) -> None:
        self.opener = opener
        self.open_many = open_many
        self.pool = pool
        self.group = group
        self.handlers = handlers
        self.producer = producer
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.dead_letter_topic = dead_letter_topic(group)

    def _unhandled_by_header(self, delivery: Delivery) -> str | None:
        """The type the record's ``event_type`` header names, when the group does not handle it: ignored unparsed."""
        routed = _routed_type(delivery)
        return routed if routed is not None and routed not in self.handlers else None

    async def process(self, delivery: Delivery) -> Outcome:
        unhandled = self._unhandled_by_header(delivery)
        if unhandled is not None:
            consumed_events.labels(self.group, unhandled, "ignored").inc()
            return "ignored"
        try:
            envelope = Envelope.from_bytes(delivery.value)
        except ValidationError as exc:
            return await self._dead_letter(delivery, "invalid-envelope", exc, "?", attempts=0)
        handler = self.handlers.get(envelope.type)
        if handler is None:
            consumed_events.labels(self.group, envelope.type, "ignored").inc()
            return "ignored"
        envelope = await self._opened(envelope)
        try:
            event = decode(envelope.type, envelope.data, envelope.schemaversion)
        except UnknownEventVersion as exc:
            return await self._dead_letter(delivery, "unknown-schema-version", exc, envelope.type, attempts=0)
        except (ValidationError, UnknownEventType) as exc:
            return await self._dead_letter(delivery, "invalid-payload", exc, envelope.type, attempts=0)
        with bound_contextvars(**_event_context(envelope)):
            return await self._handle_with_retries(delivery, handler, event, envelope)

    async def process_batch(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """Several records with one transaction, one inbox statement and one commit when all goes well.

        Same outcomes as ``process`` on each record in turn: records that fail to parse go through
        ``process`` (and are dead-lettered); if any handler raises, the batch's transaction rolls back
        and every record is handled on its own, with the usual retries and dead-lettering.  Whatever is
        left to be handled on its own is handled in the records' order, so dead letters keep it too.
        """
        outcomes: list[Outcome | None] = [None] * len(deliveries)
        counts: Counter[tuple[str, Outcome]] = Counter()
        received: dict[int, tuple[Handler, Envelope]] = {}
        for i, delivery in enumerate(deliveries):
            unhandled = self._unhandled_by_header(delivery)
            if unhandled is not None:
                outcomes[i] = "ignored"
                counts[(unhandled, "ignored")] += 1
                continue
            try:
                envelope = Envelope.from_bytes(delivery.value)
            except ValidationError:
                continue  # left to ``process``, which dead-letters it
            handler = self.handlers.get(envelope.type)
            if handler is None:
                outcomes[i] = "ignored"
                counts[(envelope.type, "ignored")] += 1
            else:
                received[i] = (handler, envelope)
        opened = await self._opened_many([envelope for _, envelope in received.values()])
        batch: dict[int, _Received] = {}
        for (i, (handler, _)), envelope in zip(received.items(), opened, strict=True):
            with contextlib.suppress(ValidationError, UnknownEventType, UnknownEventVersion):  # left to ``process``
                event = decode(envelope.type, envelope.data, envelope.schemaversion)
                batch[i] = _Received(handler, event, envelope, _event_context(envelope))
        try:
            handled = await self._handle_batch(batch, deliveries)
        except Exception as exc:
            log.warning("batch failed; handling its records one by one", error=repr(exc), records=len(batch))
            handled = {}
        for i, delivery in enumerate(deliveries):
            if outcomes[i] is not None:  # ignored: not a type the group handles
                continue
            if i in handled:
                outcomes[i] = handled[i]
                record = batch[i]
                counts[(record.envelope.type, handled[i])] += 1
                log.info(
                    "event consumed", outcome=handled[i], topic=delivery.topic, offset=delivery.offset, **record.context
                )
            elif i in batch:
                record = batch[i]
                with bound_contextvars(**record.context):
                    outcomes[i] = await self._handle_with_retries(
                        delivery, record.handler, record.event, record.envelope
                    )
            else:
                outcomes[i] = await self.process(delivery)
        for (event_type, outcome), count in counts.items():  # one metric update per type, not per record
            consumed_events.labels(self.group, event_type, outcome).inc(count)
        return outcomes  # type: ignore[return-value]  # every record has its outcome by now

    async def _handle_batch(self, batch: dict[int, _Received], deliveries: Sequence[Delivery]) -> dict[int, Outcome]:
        if not batch:
            return {}
        outcomes: dict[int, Outcome] = {}
        traced = tracing.enabled()
        async with self.pool.acquire() as conn, conn.transaction():
            first_time = {
                r["event_id"]
                for r in await conn.fetch(
                    "INSERT INTO inbox (consumer_group, event_id, event_type)"
                    " SELECT $1, e.id, e.type FROM unnest($2::uuid[], $3::text[]) AS e(id, type)"
                    " ON CONFLICT DO NOTHING RETURNING event_id",
                    self.group,
                    [record.envelope.id for record in batch.values()],
                    [record.envelope.type for record in batch.values()],
                )
            }
            for i, (handler, event, envelope, context) in batch.items():
                if envelope.id not in first_time:
                    outcomes[i] = "duplicate"
                    continue
                first_time.discard(envelope.id)  # the same event twice in one batch: the second is a duplicate
                with bound_contextvars(**context):
                    if traced:
                        delivery = deliveries[i]
                        with tracing.consume_span(delivery.topic, delivery.headers, envelope.type, envelope.id):
                            await tracing.begin(conn)  # what this record's handler appends continues its trace
                            await handler(conn, event, envelope)
                    else:
                        await handler(conn, event, envelope)
                outcomes[i] = "handled"
        return outcomes

    async def _handle_with_retries(
        self, delivery: Delivery, handler: Handler, event: Event, envelope: Envelope
    ) -> Outcome:
        failures = 0
        while True:
            try:
                with tracing.consume_span(delivery.topic, delivery.headers, envelope.type, envelope.id):
                    outcome = await self._handle_once(handler, event, envelope)
                consumed_events.labels(self.group, envelope.type, outcome).inc()
                log.info("event consumed", outcome=outcome, topic=delivery.topic, offset=delivery.offset)
                return outcome
            except PermanentError as exc:
                return await self._dead_letter(delivery, "rejected", exc, envelope.type, attempts=failures + 1)
            except _INFRASTRUCTURE_ERRORS as exc:
                log.warning("database unreachable; will retry", error=repr(exc))
                await asyncio.sleep(self._delay(failures))
                failures = min(failures + 1, 20)
            except Exception as exc:
                failures += 1
                handler_failures.labels(self.group, envelope.type).inc()
                if failures >= self.max_attempts:
                    return await self._dead_letter(delivery, "handler-failed", exc, envelope.type, attempts=failures)
                log.warning("handler failed; retrying", error=repr(exc), attempt=failures)
                await asyncio.sleep(self._delay(failures - 1))

    async def _handle_once(self, handler: Handler, event: Event, envelope: Envelope) -> Outcome:
        async with self.pool.acquire() as conn, conn.transaction():
            first_time = await conn.fetchval(
                "INSERT INTO inbox (consumer_group, event_id, event_type) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING true",
                self.group,
                envelope.id,
                envelope.type,
            )
            if not first_time:
                return "duplicate"
            await tracing.begin(conn)  # what the handler appends continues the record's trace
            await handler(conn, event, envelope)
            return "handled"

    async def _opened(self, envelope: Envelope) -> Envelope:
        """The envelope with its sealed fields opened; a key source that does not answer is retried without
        limit (an outage: dead-lettering would lose the record's effect)."""
        if self.opener is None:
            return envelope
        failures = 0
        while True:
            try:
                return await self.opener(envelope)
            except OSError as exc:
                log.warning("keys unavailable; will retry", error=repr(exc), event_type=envelope.type)
                await asyncio.sleep(self._delay(failures))
                failures = min(failures + 1, 20)

    async def _opened_many(self, envelopes: list[Envelope]) -> list[Envelope]:
        """``_opened`` for a batch: with ``open_many``, one request for every record's keys, retried as one."""
        if self.open_many is None or not envelopes:
            return [await self._opened(envelope) for envelope in envelopes]
        failures = 0
        while True:
            try:
                return await self.open_many(envelopes)
            except OSError as exc:
                log.warning("keys unavailable; will retry", error=repr(exc), records=len(envelopes))
                await asyncio.sleep(self._delay(failures))
                failures = min(failures + 1, 20)

    def _delay(self, failures: int) -> float:
        return min(self.backoff_seconds * 2**failures, _MAX_BACKOFF_SECONDS)

    async def _dead_letter(
        self, delivery: Delivery, reason: str, error: Exception, event_type: str, *, attempts: int
    ) -> Outcome:
        headers = [h for h in delivery.headers if not h[0].startswith("x-dlq-")] + [
            ("x-dlq-reason", reason.encode()),
            ("x-dlq-error", str(error)[:4000].encode()),
            ("x-dlq-consumer-group", self.group.encode()),
            ("x-dlq-source-topic", delivery.topic.encode()),
            ("x-dlq-source-partition", str(delivery.partition).encode()),
            ("x-dlq-source-offset", str(delivery.offset).encode()),
            ("x-dlq-attempts", str(attempts).encode()),
        ]
        failures = 0
        while True:
            try:
                await self.producer.send_and_wait(
                    self.dead_letter_topic, value=delivery.value, key=delivery.key, headers=headers
                )
                break
            except KafkaError as exc:
                log.warning("dead-letter publish failed; retrying", error=repr(exc))
                await asyncio.sleep(self._delay(failures))
                failures = min(failures + 1, 20)
        log.error(
            "event dead-lettered",
            reason=reason,
            error=str(error)[:500],
            topic=delivery.topic,
            partition=delivery.partition,
            offset=delivery.offset,
        )
        consumed_events.labels(self.group, event_type, "dead_lettered").inc()
        return "dead_lettered"
