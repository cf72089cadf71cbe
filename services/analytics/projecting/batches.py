"""Preparing a fetched batch for the projections: pure Python, no I/O.

``prepare_batch`` decodes the records, drops events after an as-of cut and lets every projection
turn the batch into rows. It runs in the projector's worker thread, or in a worker process for a
replay (``Projector(prepare_in="process")``, see ``workers``): then Python's work is split over two cores instead of
taking turns under one GIL, and what comes back must pickle cheaply, so the events themselves stay
behind (``Batch.events`` is ``None``) and the ids travel as 16-byte strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from services.analytics.projecting import binary_copy
from services.analytics.projecting.projections import ALL
from shared.envelope import EnvelopeRecord, InvalidEnvelope, read_envelope
from shared.events.profiles import ParticipantErased

Partition = tuple[str, int]
Records = list[tuple[Partition, list[bytes], int]]
"""Per topic partition: the records' values in log order, and the offset after the last one."""


@dataclass
class Batch:
    """One fetch: the projections' rows for its events, and where each partition stands after it."""

    records: Records
    next_offsets: dict[Partition, int]
    count: int
    """Events inside the cut (valid envelopes)."""
    read: int
    skipped_invalid: int
    skipped_after_cut: int
    id_bytes: bytes
    """The events' ids, each once, in byte order (``projected_events``' key order), as 16-byte strings back to back."""
    encoded_ids: bytes
    """The same ids as a binary COPY stream for ``projected_events``."""
    prepared: list[object]
    """What each projection in ``ALL`` prepared from the events."""
    erased: list[str] = field(default_factory=list)
    """Participants a ``ParticipantErased`` of the batch erased, also after an as-of cut: a snapshot is erased too."""
    events: list[EnvelopeRecord] | None = None
    """The decoded events, when prepared in this process; ``decoded_events`` gives them either way."""

    @property
    def unique_ids(self) -> int:
        return len(self.id_bytes) // 16

    def ids(self) -> list[UUID]:
        return [UUID(bytes=self.id_bytes[i : i + 16]) for i in range(0, len(self.id_bytes), 16)]

    def decoded_events(self, as_of: datetime | None) -> list[EnvelopeRecord]:
        if self.events is None:
            self.events = decode(self.records, as_of)[0]
        return self.events


ERASED = ParticipantErased.type_name()


def decode(records: Records, as_of: datetime | None) -> tuple[list[EnvelopeRecord], int, int, list[str]]:
    """The valid envelopes inside the cut, in log order per partition; how many were invalid, after the cut;
    and the participants erased in the batch, inside the cut or after it (their ``ParticipantErased`` is not
    among the events: erasure changes no figure, not even the latest time a generation has seen)."""
    events, invalid, after_cut, erased = [], 0, 0, []
    for _, values, _ in records:
        for value in values:
            try:
                envelope = read_envelope(value)
            except InvalidEnvelope:
                invalid += 1
                continue
            if envelope.type == ERASED:  # for ``erasure`` alone: no projection counts it, it moves no "now"
                if isinstance(envelope.data.get("participant_id"), str):
                    erased.append(envelope.data["participant_id"])
                continue
            if as_of is not None and envelope.time > as_of:
                after_cut += 1
                continue
            events.append(envelope)
    return events, invalid, after_cut, erased


def prepare_batch(records: Records, as_of: datetime | None, *, keep_events: bool = True) -> Batch:
    events, invalid, after_cut, erased = decode(records, as_of)
    # a copy later in the same batch: only the first counts. Each id's bytes taken once and deduplicated as bytes
    # (hashed in C; a ``UUID`` hashes in Python): ``bench/replay.py``. In the key's order (a uuid compares as its
    # bytes): the COPY then inserts into ``projected_events``' key page after page instead of at random, which cost
    # Postgres about a sixth more for a replay's million ids (1.6 vs 1.3-1.4 s, 100 batches of 10,000); the sort
    # costs the worker ~1 ms a batch.
    ids = sorted(set([e.id.bytes for e in events]))
    return Batch(
        records=[],  # the caller has them, and needs them only for a batch prepared in a worker process
        next_offsets={tp: next_offset for tp, _, next_offset in records},
        count=len(events),
        read=sum(len(values) for _, values, _ in records),
        skipped_invalid=invalid,
        skipped_after_cut=after_cut,
        id_bytes=b"".join(ids),
        encoded_ids=binary_copy.encode_id_bytes(ids),
        prepared=[projection.prepare(events) for projection in ALL],
        erased=erased,
        events=events if keep_events else None,
    )


def prepare_elsewhere(records: Records, as_of: datetime | None) -> Batch:
    """``prepare_batch`` for a worker process: the batch goes back without its events."""
    return prepare_batch(records, as_of, keep_events=False)
