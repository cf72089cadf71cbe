"""Rows buffered per (event type, program, month) and written as Parquet parts in bounded memory.

A partition's buffer becomes ``type=<T>/program=<P>/month=<YYYY-MM>/part-NNNNN.parquet``
when it holds ``chunk_rows`` rows (``P`` is ``__HIVE_DEFAULT_PARTITION__``, read back as
null, for an event about no program: a profile, an HR fact, a notification); when all
buffers together hold ``max_buffered`` rows the largest is written early, so memory stays bounded however many
partitions the history spans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

NO_PROGRAM = "__HIVE_DEFAULT_PARTITION__"
"""The program partition of an event about no program: Hive's (and pyarrow's, DuckDB's) null partition."""


class PartitionedWriter:
    def __init__(self, root: Path, chunk_rows: int = 50_000, max_buffered: int = 200_000) -> None:
        self.root, self.chunk_rows, self.max_buffered = root, chunk_rows, max_buffered
        self._buffers: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._schemas: dict[str, pa.Schema] = {}
        self._parts: dict[tuple[str, str, str], int] = {}
        self._buffered = 0
        self.files = 0

    def add(
        self, event_type: str, month: str, schema: pa.Schema, row: dict[str, Any], program: str | None = None
    ) -> None:
        self._schemas[event_type] = schema
        key = (event_type, program or NO_PROGRAM, month)
        buffer = self._buffers.setdefault(key, [])
        buffer.append(row)
        self._buffered += 1
        if len(buffer) >= self.chunk_rows:
            self._write(key)
        elif self._buffered >= self.max_buffered:
            self._write(max(self._buffers, key=lambda k: len(self._buffers[k])))

    def close(self) -> None:
        for key in list(self._buffers):
            self._write(key)

    def _write(self, key: tuple[str, str, str]) -> None:
        rows = self._buffers.pop(key, [])
        if not rows:
            return
        self._buffered -= len(rows)
        event_type, program, month = key
        part = self._parts.get(key, 0)
        self._parts[key] = part + 1
        directory = self.root / f"type={event_type}" / f"program={program}" / f"month={month}"
        directory.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(rows, schema=self._schemas[event_type])
        pq.write_table(table, directory / f"part-{part:05d}.parquet", compression="zstd")
        self.files += 1
