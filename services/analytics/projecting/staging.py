"""Folding a batch onto the rows it touches, and writing each changed row once through a staging table.

Used where later events change a row (a relationship's meetings, a request's facts from two streams):
the batch's keys are loaded with one ``SELECT … = ANY``, its events folded onto them in Python in log
order (the same rows as one event at a time), and the changed rows written back with one binary COPY
into a session-local staging table and one ``INSERT … SELECT … ON CONFLICT DO UPDATE``.
"""

from __future__ import annotations

from operator import itemgetter

import asyncpg

from services.analytics.projecting import binary_copy
from services.analytics.projecting.copying import text_values


class StagedTable:
    """The rows of one table the batch touches: loaded on first touch, written back at the end.

    ``columns`` maps each column to its Postgres type (the staging table's and the COPY's), ``defaults``
    the values of a row created by the fold. The object pickles: a batch prepared in a worker process
    travels with its tables (rows not loaded yet).
    """

    def __init__(self, name: str, key: str, columns: dict[str, str], defaults: dict[str, object]) -> None:
        self.name, self.key, self.columns, self.defaults = name, key, columns, defaults
        self.rows: dict[str, dict | None] = {}
        self.wanted: list[str] = []
        self.changed: set[str] = set()

    def want(self, key: str) -> None:
        if key not in self.rows:
            self.rows[key] = None
            self.wanted.append(key)

    async def load(self, conn: asyncpg.Connection, schema: str) -> None:
        if self.wanted:
            keys, values = text_values(self.wanted)
            found = await conn.fetch(
                f"SELECT {', '.join(self.columns)} FROM {schema}.{self.name} WHERE {self.key} = ANY({keys})", values
            )
            self.rows.update((r[self.key], dict(r)) for r in found)
            self.wanted.clear()

    def get(self, key: str) -> dict | None:
        return self.rows[key]

    def create(self, key: str, **values) -> dict:
        row = self.rows[key] = {self.key: key, **self.defaults, **values}
        self.changed.add(key)
        return row

    def touch(self, key: str) -> dict | None:
        row = self.rows[key]
        if row is not None:
            self.changed.add(key)
        return row

    @property
    def stage(self) -> str:
        return f"program_stage_{self.name}"

    def stage_ddl(self) -> str:
        columns = ", ".join(f"{c} {t}" for c, t in self.columns.items())
        return f"CREATE TEMP TABLE IF NOT EXISTS {self.stage} ({columns}) ON COMMIT DELETE ROWS"

    async def write(self, conn: asyncpg.Connection, schema: str) -> None:
        """Binary COPY into a session-local staging table (see ``stage_ddl``), then one upsert from it.

        COPY rather than ``unnest($1::text[], …)`` parameters: asyncpg checks every element of an
        array parameter against the collection ABCs in Python, which cost more than the fold itself;
        encoded by ``binary_copy`` (asyncpg's own COPY encoding checks the ``text[]`` the same way).
        """
        if not self.changed:
            return
        names = list(self.columns)
        stage = self.stage
        values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)  # a tuple either way
        rows = [values(self.rows[key]) for key in self.changed]
        await binary_copy.copy_encoded(conn, "pg_temp", stage, names, binary_copy.encode(self.columns.values(), rows))
        await conn.execute(
            f"INSERT INTO {schema}.{self.name} ({', '.join(names)}) SELECT {', '.join(names)} FROM {stage}"
            f" ON CONFLICT ({self.key}) DO UPDATE SET"
            f" {', '.join(f'{c} = EXCLUDED.{c}' for c in names if c != self.key)}"
        )


async def write_changed(conn: asyncpg.Connection, schema: str, tables: list[StagedTable]) -> None:
    """Write every table's changed rows (the staging tables created in one round trip)."""
    if changed := [table for table in tables if table.changed]:
        await conn.execute(";".join(table.stage_ddl() for table in changed))
    for table in changed:
        await table.write(conn, schema)
