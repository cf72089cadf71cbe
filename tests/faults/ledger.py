"""What the platform holds after a run, in a form two runs of the same workload can be compared by.

* ``fingerprint``: per service and table, the row count and a checksum of the rows with generated
  ids and clock readings masked (request ids are uuid4s and times differ between runs; everything
  else must be equal).  Analytics is read from its live generation; partition offsets are left out.
* ``unreached``: events in an event store that a consumer handles but has not recorded (its inbox,
  or analytics' timeline), i.e. what is still in flight or was lost.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from shared.sealing import is_sealed
from tests.faults.cluster import Cluster

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?")
_DAY = re.compile(r"\b\d{4}-\d\d-\d\d\b")
_ELAPSED = re.compile(r"seconds")  # measured durations, e.g. time_to_match_seconds

# Bookkeeping that legitimately differs between equal runs: offsets, delivery attempts and claims
# (a delivery cut short by a crash is claimed again: attempts 2, one e-mail), encrypted bytes (fresh
# nonces), migration records.  Column names, and the same keys inside JSON values.
_SKIP_TABLES = {"schema_migrations", "checkpoints", "outbox", "projection_generations", "person_keys"}
_SKIP_COLUMNS = {
    "attempts",
    "crash_resends",
    "claimed_at",
    "last_error",
    "sent_at",
    "due_at",
    "handled_at",
    "position",
    "seq",
    "ciphertext",
    "nonce",
    "data_key",
    "sealed",
    "updated_at",
    "created_at",
}
PUBLISHING = ("profiles", "matching", "relationships", "notifications")
CONSUMERS = {
    "profiles": ("hr",),
    "matching": ("profiles", "relationships"),
    "relationships": ("matching", "profiles"),
    "notifications": ("profiles", "matching", "relationships"),
    "analytics": PUBLISHING,
}


def mask(value: Any) -> Any:
    if isinstance(value, UUID):
        return "<id>"
    if isinstance(value, datetime):
        return "<time>"
    if isinstance(value, date):
        return "<day>"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, str):
        if value[:1] in "{[":
            try:
                return mask(json.loads(value))
            except ValueError:
                pass
        return _DAY.sub("<day>", _TIME.sub("<time>", _UUID.sub("<id>", value)))
    if isinstance(value, dict):
        if is_sealed(value):
            return "<sealed>"  # personal data sealed with a fresh nonce (shared.sealing)
        return {
            mask(k): "<elapsed>" if _ELAPSED.search(str(k)) else "<bookkeeping>" if k in _SKIP_COLUMNS else mask(v)
            for k, v in sorted(value.items())
        }
    if isinstance(value, (list, tuple)):
        return [mask(v) for v in value]
    return value


@dataclass(frozen=True)
class TableSum:
    rows: int
    checksum: str


async def _tables(conn: asyncpg.Connection, schema: str) -> list[str]:
    rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema)
    return [r["tablename"] for r in rows if r["tablename"] not in _SKIP_TABLES]


async def _table_sum(
    conn: asyncpg.Connection, schema: str, table: str, dump: Path | None, leave_out: set[str]
) -> TableSum:
    rows = await conn.fetch(f'SELECT * FROM "{schema}"."{table}"')
    if leave_out:  # rows about poison sent on purpose (analytics notes every envelope id it read)
        rows = [r for r in rows if not any(str(v) in leave_out for v in r.values())]
    lines = sorted(
        json.dumps({k: mask(v) for k, v in dict(r).items() if k not in _SKIP_COLUMNS}, sort_keys=True, default=str)
        for r in rows
    )
    if dump is not None:
        dump.write_text("\n".join(lines) + "\n")
    return TableSum(len(rows), hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16])


async def live_schema(conn: asyncpg.Connection) -> str | None:
    generation = await conn.fetchval("SELECT generation FROM projection_generations WHERE state = 'live'")
    return None if generation is None else f"gen_{generation}"


async def fingerprint(cluster: Cluster, dump_dir: Path | None = None) -> dict[str, TableSum]:
    """``"service.table" → TableSum`` for every service's database; ``dump_dir`` keeps the masked rows
    (one file per table) so two runs can be diffed."""
    if dump_dir is not None:
        dump_dir.mkdir(parents=True, exist_ok=True)
    found: dict[str, TableSum] = {}
    for service in cluster.services:
        conn = await asyncpg.connect(cluster.dsn(service))
        try:
            schema = await live_schema(conn) if service == "analytics" else "public"
            if schema is None:
                continue
            for table in await _tables(conn, schema):
                key = f"{service}.{table}"
                found[key] = await _table_sum(
                    conn, schema, table, dump_dir / f"{key}.txt" if dump_dir else None, cluster.poison_ids
                )
        finally:
            await conn.close()
    return found


def compare(clean: dict[str, TableSum], seen: dict[str, TableSum]) -> tuple[int, int, list[str]]:
    """Rows missing and rows extra (counted per table), and the tables whose contents differ."""
    missing = extra = 0
    differ = []
    for key in sorted(clean.keys() | seen.keys()):
        a, b = clean.get(key, TableSum(0, "")), seen.get(key, TableSum(0, ""))
        if a != b:
            differ.append(f"{key}: clean {a.rows} rows/{a.checksum}, this run {b.rows} rows/{b.checksum}")
            missing += max(a.rows - b.rows, 0)
            extra += max(b.rows - a.rows, 0)
    return missing, extra, differ


async def stored_events(cluster: Cluster) -> dict[str, dict[UUID, str]]:
    """Per publishing service: event id → type, from its event store."""
    stores = {}
    for service in PUBLISHING:
        conn = await asyncpg.connect(cluster.dsn(service))
        try:
            stores[service] = {
                r["event_id"]: r["event_type"] for r in await conn.fetch("SELECT event_id, event_type FROM events")
            }
        finally:
            await conn.close()
    return stores


async def recorded(cluster: Cluster) -> dict[str, Counter[UUID]]:
    """Per consumer: how many times it recorded each event id (inbox, or analytics' timeline)."""
    found: dict[str, Counter[UUID]] = {}
    for service in CONSUMERS:
        conn = await asyncpg.connect(cluster.dsn(service))
        try:
            if service == "analytics":
                schema = await live_schema(conn)
                rows = [] if schema is None else await conn.fetch(f'SELECT event_id FROM "{schema}".timeline_events')
            else:
                rows = await conn.fetch("SELECT event_id FROM inbox WHERE consumer_group = $1", service)
            found[service] = Counter(r["event_id"] for r in rows)
        finally:
            await conn.close()
    return found


async def handled_types(cluster: Cluster) -> dict[str, set[str]]:
    """The event types each consumer takes an interest in, read off a finished (clean) run."""
    stores = await stored_events(cluster)
    types_of = {eid: t for events in stores.values() for eid, t in events.items()}
    return {c: {types_of[e] for e in ids if e in types_of} for c, ids in (await recorded(cluster)).items()}


async def unreached(cluster: Cluster, interests: dict[str, set[str]]) -> tuple[int, int]:
    """(events not yet recorded by a consumer that handles them, events recorded more than once)."""
    stores = await stored_events(cluster)
    seen = await recorded(cluster)
    missing = duplicated = 0
    for consumer, sources in CONSUMERS.items():
        wanted = {
            eid
            for s in sources
            if s in stores
            for eid, t in stores[s].items()
            if t in interests.get(consumer, ()) and str(eid) not in cluster.poison_ids  # forced in by a test
        }
        missing += len(wanted - seen[consumer].keys())
        duplicated += sum(n - 1 for n in seen[consumer].values() if n > 1)
    return missing, duplicated


async def outbox_backlog(cluster: Cluster) -> int:
    total = 0
    for service in PUBLISHING:
        conn = await asyncpg.connect(cluster.dsn(service))
        try:
            total += await conn.fetchval("SELECT count(*) FROM outbox")
        finally:
            await conn.close()
    return total


async def undelivered(cluster: Cluster) -> int:
    conn = await asyncpg.connect(cluster.dsn("notifications"))
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM intents WHERE status NOT IN ('sent', 'failed', 'unknown', 'cancelled')"
        )
    finally:
        await conn.close()


async def crash_resent(cluster: Cluster) -> int:
    """Intents sent again after a sender died mid-send (notifications' documented crash rule: the same
    Message-ID twice at most, for the receiver to drop)."""
    conn = await asyncpg.connect(cluster.dsn("notifications"))
    try:
        return await conn.fetchval("SELECT count(*) FROM intents WHERE crash_resends > 0")
    finally:
        await conn.close()
