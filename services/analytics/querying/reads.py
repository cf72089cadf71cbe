"""What the API reads: a served generation's timelines and figures, and who may see a timeline.

Reads go to the live generation, or to a snapshot (an as-of replay) when one is named. A generation
built by another version of the projections (another ``shape`` of their DDL) is not served: the live
one is being rebuilt, a snapshot must be replayed again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import date

import asyncpg

from services.analytics.generation_names import schema_name
from services.analytics.querying.dashboard import Filters, program_comparison, program_figures
from services.analytics.querying.evaluation import (
    DemographicsSource,
    by_demographics,
    demographic_groups,
    mentor_responsiveness,
)
from services.analytics.querying.periods import as_of
from services.analytics.querying.retention import Staff, read_staff
from services.analytics.querying.timelines import participant_timeline, relationship_timeline
from shared.auth import Principal, Role
from shared.errors import NotAllowed, NotFound

FIGURES_KEPT = 64
"""Dashboard figures kept for reuse (per generation and filters), the least recently read dropped first."""


ASIDE_WAIT = 0.05
"""Seconds a computed dashboard waits for a second connection of the pool (``Reads._aside``) before it works out
its figures on one."""


class NotServed(Exception):
    """The projections cannot answer now (HTTP 503): not built yet, or built by another version."""


class Reads:
    """Reads of the generation a request names (default: the live one).

    ``pool`` gives the service's pool once it runs; ``shape`` is the projections' DDL digest of this
    version (``projecting.generations.SHAPE``, handed over by the composition root); ``min_cell`` the
    small-cell threshold of the figures; ``demographics`` profiles' aggregate (None: not configured).
    """

    def __init__(
        self,
        pool: Callable[[], asyncpg.Pool],
        shape: str,
        min_cell: int,
        snapshot_days: int = 30,
        demographics: DemographicsSource | None = None,
    ) -> None:
        self._pool, self.shape, self.min_cell, self.snapshot_days = pool, shape, min_cell, snapshot_days
        self.demographics = demographics
        self._figures: OrderedDict[tuple[str, Filters, date], tuple[list[int], dict, dict | None]] = OrderedDict()
        self._staff: tuple[str, list[int], Staff] | None = None

    async def schema(self, generation: int | None = None) -> str:
        """The schema of ``generation`` (default: the live one), if it may be served: a snapshot past its
        expiry is not, even before the live projector has dropped it."""
        row = await self._pool().fetchrow(
            "SELECT generation, state, shape, created_at <= now() - make_interval(days => $2) AS expired"
            " FROM projection_generations"
            " WHERE generation = coalesce($1, (SELECT generation FROM projection_generations WHERE state = 'live'))",
            generation,
            self.snapshot_days,
        )
        if row is None and generation is None:
            raise NotServed("projections are not built yet")
        if row is None or row["state"] not in ("live", "snapshot"):
            raise NotFound(f"generation {generation} is not live or a snapshot")
        if row["state"] == "snapshot" and row["expired"]:
            raise NotFound(f"generation {generation} has expired (snapshots are kept {self.snapshot_days} days)")
        if row["shape"] != self.shape:
            raise NotServed(
                f"generation {row['generation']} was built by another version of analytics"
                + (": it is being rebuilt, try again shortly" if row["state"] == "live" else "; replay it again")
            )
        return schema_name(row["generation"])

    async def relationship_timeline(self, relationship_id: str, viewer: Principal, generation: int | None) -> dict:
        """Visible to the relationship's parties (its mentor and mentees) and directors, each party reading the
        parts of its request and match that are theirs (``querying.timelines``); to anyone else it is not
        found, in the same words as an id nobody holds (no probing of relationship ids)."""
        _snapshots_for_directors(viewer, generation)
        schema = await self.schema(generation)
        reader = None if viewer.has_any({Role.admin}) else viewer.subject
        async with self._pool().acquire() as conn:
            timeline = await relationship_timeline(conn, schema, relationship_id, reader)
        if timeline is None:
            raise NotFound(f"no relationship {relationship_id}")
        return timeline

    async def participant_timeline(self, participant_id: str, viewer: Principal, generation: int | None) -> dict:
        """Visible to the participant themself and directors."""
        if not viewer.has_any({Role.admin}) and viewer.subject != participant_id:
            raise NotAllowed("only the participant themself and directors")
        _snapshots_for_directors(viewer, generation)
        schema = await self.schema(generation)
        async with self._pool().acquire() as conn:
            return await participant_timeline(conn, schema, participant_id)

    async def figures(self, filters: Filters, generation: int | None, viewer: Principal) -> dict:
        """The dashboard's figures, every query on one snapshot (no figure straddles a projector commit).

        Figures are kept per generation and filters together with the generation's checkpoints they were
        computed at: the projector moves the checkpoints in every transaction that changes a projection, so
        while they stand still the same figures are served again without recomputing them. The count of
        people the generation erased is part of that state too: an erasure carried over to a snapshot
        (``projecting.erasure``) moves no checkpoint of the snapshot (and changes no figure, by design)."""
        _snapshots_for_directors(viewer, generation)
        return await self._on_served(generation, lambda schema: self._figures_of(schema, filters))

    async def _figures_of(self, schema: str, filters: Filters) -> dict:
        """The figures, then the breakdowns by consented demographics: the groups (participant ids) are read in
        the same snapshot, profiles is asked after the transaction (no connection held while it answers). Profiles'
        answer is kept with the figures (a change of consent is a profiles event, which moves the checkpoints);
        an answer it could not give is asked again at the next read."""
        async with (
            self._pool().acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            state = await conn.fetchval(
                f"SELECT coalesce(array_agg(next_offset ORDER BY topic, partition), '{{}}')"
                f" || (SELECT count(*) FROM {schema}.erased_participants) FROM {schema}.checkpoints"
            )
            key = (schema, filters, date.today())  # an empty generation's "now" is today
            kept = self._figures.get(key)
            if kept is not None and kept[0] == state:
                self._figures.move_to_end(key)
                figures, groups = kept[1], kept[2]
                if groups is None or figures["evaluation"]["by_demographics"]["reported"]:
                    return figures
            else:
                staff = await self._staff_of(conn, schema, state)
                async with self._aside(conn) as aside:
                    figures = await program_figures(conn, schema, filters, self.min_cell, staff, aside)
                groups = None
                if "evaluation" in figures:
                    now = date.fromisoformat(figures["as_of"])
                    groups = await demographic_groups(conn, schema, filters, now, filters.program, staff)
        if groups is not None:
            block = await by_demographics(self.demographics, groups, self.min_cell)
            figures = {**figures, "evaluation": {**figures["evaluation"], "by_demographics": block}}
        self._figures[key] = (state, figures, groups)
        self._figures.move_to_end(key)
        while len(self._figures) > FIGURES_KEPT:
            self._figures.popitem(last=False)
        return figures

    @asynccontextmanager
    async def _aside(self, conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection | None]:
        """A second connection reading ``conn``'s snapshot (its transaction's, exported), for the figures worked out
        beside ``conn``'s (``program_figures``); None when the pool has no connection to spare (the figures are then
        worked out on ``conn`` alone): a read holding a connection never waits long on the pool for another."""
        pool = self._pool()
        try:
            aside = await pool.acquire(timeout=ASIDE_WAIT)
        except TimeoutError:
            yield None
            return
        try:
            async with aside.transaction(isolation="repeatable_read", readonly=True):
                snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
                await aside.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                yield aside
        finally:
            await pool.release(aside)

    async def _staff_of(self, conn: asyncpg.Connection, schema: str, state: list[int]) -> Staff:
        """The HR workers of ``schema`` at the checkpoints ``state`` (read in the caller's snapshot): read once
        while the checkpoints stand still and reused by every filter's figures (one generation's kept)."""
        if self._staff is not None and self._staff[:2] == (schema, state):
            return self._staff[2]
        staff = await read_staff(conn, schema)
        self._staff = (schema, state, staff)
        return staff

    async def mentor_responsiveness(self, filters: Filters, generation: int | None, viewer: Principal) -> dict:
        """Each mentor's responsiveness (mentor ids): the director's view only, never an analyst's."""
        if not viewer.has_any({Role.admin}):
            raise NotAllowed("the per-mentor view is for directors (admin) only")
        _snapshots_for_directors(viewer, generation)
        return await self._on_served(generation, lambda schema: self._mentor_responsiveness_of(schema, filters))

    async def _mentor_responsiveness_of(self, schema: str, filters: Filters) -> dict:
        async with self._pool().acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            now = await as_of(conn, schema, filters)
            rows = await mentor_responsiveness(conn, schema, filters, now, filters.program)
        units = {"median_days_to_answer": "days"}
        return {"as_of": now.isoformat(), "program": filters.program, "units": units, "mentors": rows}

    async def comparison(self, filters: Filters, generation: int | None, viewer: Principal) -> dict:
        """Every program's headline figures side by side (``querying.dashboard.program_comparison``), on one
        snapshot of the generation."""
        _snapshots_for_directors(viewer, generation)
        return await self._on_served(generation, lambda schema: self._comparison_of(schema, filters))

    async def _comparison_of(self, schema: str, filters: Filters) -> dict:
        async with (
            self._pool().acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            return await program_comparison(conn, schema, filters, self.min_cell)

    async def _on_served(self, generation: int | None, read: Callable[[str], Awaitable[dict]]) -> dict:
        """``read`` on the schema of the generation served; once more if that schema was dropped in between.

        A replay swapping its generation in drops the previous live schema (``make_live``): a read that looked
        the live generation up just before finds its tables gone.  The generation served now is read instead
        (the drop waits for a read that already holds its tables, so the second try cannot lose them)."""
        schema = await self.schema(generation)
        try:
            return await read(schema)
        except (asyncpg.InvalidSchemaNameError, asyncpg.UndefinedTableError):
            return await read(await self.schema(generation))


def _snapshots_for_directors(viewer: Principal, generation: int | None) -> None:
    """Naming a generation (an as-of snapshot) is for directors: snapshots are whole copies of the projections."""
    if generation is not None and not viewer.has_any({Role.admin}):
        raise NotAllowed("as-of snapshots (generation) are for directors (admin) only")
