"""``export_history``: the event topics as Parquet for analysts, personal data left out or pseudonymised.

Records are filtered on the event's own ``time`` (``since`` inclusive, ``until``
exclusive) and on type; a record that is not a valid envelope, names a type the
catalog does not know, or carries a payload its type rejects is counted in the
manifest and skipped, never fatal.  Payloads are upcast to the current schema
version before they are written (``schemaversion`` keeps the published one).

Partitioned by type, program and month.  An event's program is its payload's ``program_id`` (a version-1
payload from before programs is upcast to ``"default"``), else the program of the request, match, bulk run
or relationship whose stream it belongs to (learnt from that stream's first event, which comes before it on
its partition); events about no program (profiles, HR, notifications) are in the null partition.

An event seen twice (a republish onto a topic that still held it) is written
once: the export keeps the 16-byte ids it wrote, about 90 MB per million events,
the one part of its memory that grows with the history.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from mentorship.export.columns import EventColumns
from mentorship.export.output import MANIFEST, staged
from mentorship.export.privacy import Pseudonymiser, personal_paths
from mentorship.export.source import TopicReader, TopicsRead
from mentorship.export.writer import PartitionedWriter
from shared.bus import all_event_topics
from shared.envelope import Envelope
from shared.events import decode
from shared.events.catalog import catalog_events

PSEUDONYM_KEY_ENV = "MENTORSHIP_EXPORT_PSEUDONYM_KEY"
DEFAULT_PROGRAM = "default"
STARTS_A_PROGRAM_STREAM = frozenset(
    {"RequestRanked", "MatchApproved", "RequestUnmatched", "BulkMatchProposed", "RelationshipStarted", "GroupFormed"}
)
"""Types whose payload names their program (version 2 on; version 1 upcasts to "default")."""
SKIP_REASONS = ("invalid_envelope", "outside_time_range", "other_types", "duplicates")


@dataclass(frozen=True)
class ExportRequest:
    out: Path
    bootstrap: str
    topics: tuple[str, ...] = tuple(all_event_topics())
    since: datetime | None = None
    until: datetime | None = None
    types: frozenset[str] | None = None  # None: every catalog type
    pseudonym_key: str | None = None
    force: bool = False
    chunk_rows: int = 50_000


def catalog_types() -> dict[str, EventColumns]:
    return {event.type_name(): EventColumns(event) for event in catalog_events()}


async def export_history(request: ExportRequest, on_progress: Callable[[int, int], None] | None = None) -> dict:
    """Write the export and return its manifest; ``on_progress(read, estimate)`` after every batch."""
    with staged(request.out, request.force) as staging:
        history = HistoryWriter(staging, request)
        async with TopicReader(request.bootstrap, list(request.topics)) as reader:
            async for records in reader.batches():
                for record in records:
                    history.add(record.value)
                if on_progress:
                    on_progress(history.tally.read, max(reader.info.estimate, history.tally.read))
        return history.finish(reader.info)


class _Tally:
    def __init__(self) -> None:
        self.read = 0
        self.written: Counter[str] = Counter()
        self.months: dict[str, set[str]] = {}
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.skipped: Counter[str] = Counter()
        self.unknown_types: Counter[str] = Counter()
        self.invalid_by_type: Counter[str] = Counter()
        self.programs: dict[str, Counter[str]] = {}

    def written_one(self, event_type: str, month: str, moment: datetime, program: str | None = None) -> None:
        self.written[event_type] += 1
        self.months.setdefault(event_type, set()).add(month)
        if program is not None:
            self.programs.setdefault(event_type, Counter())[program] += 1
        self.first = moment if self.first is None else min(self.first, moment)
        self.last = moment if self.last is None else max(self.last, moment)


class HistoryWriter:
    """Turns raw topic records into Parquet rows under ``root``; ``finish`` writes the manifest."""

    def __init__(self, root: Path, request: ExportRequest) -> None:
        self.root, self.request = root, request
        self.columns = catalog_types()
        self.pseudonym = Pseudonymiser(request.pseudonym_key)
        self.writer = PartitionedWriter(root, chunk_rows=request.chunk_rows)
        self.tally = _Tally()
        self._seen: set[bytes] = set()
        self._programs: dict[tuple[str, str], str] = {}  # (source, stream) → its program

    def add(self, value: bytes | None) -> None:
        tally, request = self.tally, self.request
        tally.read += 1
        try:
            envelope = Envelope.from_bytes(value or b"")
        except ValidationError:
            tally.skipped["invalid_envelope"] += 1
            return
        if envelope.type not in self.columns:
            tally.unknown_types[envelope.type] += 1
            return
        moment = envelope.time if envelope.time.tzinfo else envelope.time.replace(tzinfo=UTC)
        if (request.since and moment < request.since) or (request.until and moment >= request.until):
            tally.skipped["outside_time_range"] += 1
            return
        if request.types is not None and envelope.type not in request.types:
            tally.skipped["other_types"] += 1
            return
        if envelope.id.bytes in self._seen:
            tally.skipped["duplicates"] += 1
            return
        try:
            payload = decode(envelope.type, envelope.data, envelope.schemaversion)
        except Exception:
            tally.invalid_by_type[envelope.type] += 1
            return
        columns = self.columns[envelope.type]
        month = moment.astimezone(UTC).strftime("%Y-%m")
        program = self._program_of(envelope, payload)
        row = columns.row(envelope, payload, self.pseudonym)
        self.writer.add(envelope.type, month, columns.schema, row, program)
        tally.written_one(envelope.type, month, moment, program)
        self._seen.add(envelope.id.bytes)

    def _program_of(self, envelope: Envelope, payload: object) -> str | None:
        """The payload's program, else its stream's (only matching's and relationships' streams have one)."""
        stream = (envelope.source, envelope.subject)
        program = getattr(payload, "program_id", None)
        if envelope.type in STARTS_A_PROGRAM_STREAM and not program:
            program = DEFAULT_PROGRAM  # read by a catalog from before programs: version 1 is about "default"
        if isinstance(program, str) and program:
            self._programs.setdefault(stream, program)
            return program
        return self._programs.get(stream)

    def finish(self, info: TopicsRead) -> dict:
        self.writer.close()
        manifest = _manifest(self.request, info, self.tally, self.columns, self.pseudonym, self.writer.files)
        (self.root / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        return manifest


def _manifest(
    request: ExportRequest,
    info: TopicsRead,
    tally: _Tally,
    columns: dict[str, EventColumns],
    pseudonym: Pseudonymiser,
    files: int,
) -> dict:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    exported = sorted(tally.written)
    privacy = {name: personal_paths(columns[name].event) for name in exported}
    for name in exported:
        if columns[name].subject_is_person:
            privacy[name][1].insert(0, "subject")
    return {
        "created_at": datetime.now(UTC).isoformat(),
        "layout": "Hive partitions type=<EventType>/program=<program id>/month=<YYYY-MM> (UTC month of the"
        " event's own time; program __HIVE_DEFAULT_PARTITION__, read as null, for events about no program);"
        " type, program and month are not repeated inside the files",
        "filters": {
            "since": iso(request.since),
            "until": iso(request.until),
            "types": sorted(request.types) if request.types is not None else None,
        },
        "topics": {"read": info.partitions, "missing": info.missing, "stopped_short": info.stopped_short},
        "records_read": tally.read,
        "events_written": sum(tally.written.values()),
        "files": files,
        "time_range": {"first": iso(tally.first), "last": iso(tally.last)},
        "by_type": {
            name: {
                "events": tally.written[name],
                "months": sorted(tally.months[name]),
                "programs": dict(sorted(tally.programs.get(name, Counter()).items())),
                "columns": {f.name: str(f.type) for f in columns[name].schema},
            }
            for name in exported
        },
        "skipped": {
            **{k: tally.skipped[k] for k in SKIP_REASONS},
            "unknown_types": dict(sorted(tally.unknown_types.items())),
            "invalid_payload": dict(sorted(tally.invalid_by_type.items())),
        },
        "personal_data": {
            "note": "Fields the event catalog marks personal (names, e-mails, biographies, motivations, "
            "demographics, free text, HR legal names) are left out. Ids that name a person, and the "
            "subject of profiles and HR events, are replaced by HMAC-SHA256 pseudonyms: the same person "
            "has the same pseudonym everywhere in this export.",
            "pseudonym_key": "given (--pseudonym-key or MENTORSHIP_EXPORT_PSEUDONYM_KEY): exports made with the "
            "same key join"
            if pseudonym.keyed
            else "random for this export: its pseudonyms do not join with any other export",
            "dropped": {name: privacy[name][0] for name in exported if privacy[name][0]},
            "pseudonymised": {name: privacy[name][1] for name in exported if privacy[name][1]},
        },
    }
