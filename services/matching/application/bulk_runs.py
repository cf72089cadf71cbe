"""Use cases: the director proposes a bulk run for a cohort, then commits or discards it.

The proposal is computed on the pure solvers and kept in ``bulk_runs``/``bulk_run_pairs``; committing
re-checks every mentor's capacity under lock and every mentee's state, and is all or nothing.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from uuid import UUID

import asyncpg

from services.matching.application.deps import Deps
from services.matching.application.mentors import reserve, supervisors
from services.matching.application.profiles import mentee_of, mentor_profiles
from services.matching.application.program import get_program
from services.matching.domain.bulk_run import BulkRun, Mode, run_bulk_match
from services.matching.domain.candidates import build_candidates
from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import MenteeProfile, MentorProfile, Weights
from services.matching.domain.errors import (
    InvalidCommand,
    MatchingRuleViolation,
    NotFound,
)
from services.matching.domain.hard_filters import InReportingLine, default_filters
from services.matching.domain.overrides import OverrideConflict, Overrides
from services.matching.domain.request import OPEN
from shared.events.matching import (
    BulkMatchCommitted,
    BulkMatchProposed,
    BulkMatchSummary,
    MatchApproved,
)

_NAMESPACE = uuid.UUID("a4d7e3f0-2b51-4f0e-9c61-7e2b9f4d8c13")
_UNMATCHED = """
SELECT m.* FROM mentees m
WHERE m.active
  AND NOT EXISTS (SELECT 1 FROM requests r WHERE r.mentee_id = m.mentee_id AND r.status = ANY($1::text[]))
  AND NOT EXISTS (SELECT 1 FROM active_pairs p WHERE p.mentee_id = m.mentee_id)
"""


def bulk_match_id(run_id: str, mentee_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{run_id}/{mentee_id}"))


async def propose_bulk_run(
    pool: asyncpg.Pool,
    deps: Deps,
    admin_id: str,
    mode: Mode,
    mentee_ids: Sequence[str] | None,
    pinned: Mapping[str, str],
    forbidden: Sequence[tuple[str, str]],
    correlation_id: UUID | None = None,
) -> str:
    async with pool.acquire() as conn:
        if mentee_ids is None:
            rows = await conn.fetch(f"{_UNMATCHED} ORDER BY m.mentee_id", list(OPEN))
            cohort_name = "all mentees with no open request and no mentor"
        else:
            rows = await _named_cohort(conn, mentee_ids)
            cohort_name = f"{len(rows)} named mentees"
        mentees = [mentee_of(r) for r in rows]
        mentors = await mentor_profiles(conn)
        program = await get_program(conn, deps)
        line = await supervisors(conn)
    if not mentees:
        raise InvalidCommand("mentee_ids", "the cohort is empty: no mentee without an open request or a mentor")
    if not mentors:
        raise MatchingRuleViolation("there are no active mentors to match")
    overrides = _overrides(mentees, mentors, pinned, forbidden, line)
    run = await asyncio.to_thread(
        _solve, mentees, mentors, program.weights, overrides, mode, line, deps.bulk_candidates
    )
    run_id = str(uuid.uuid4())
    summary = BulkMatchSummary(
        mentees=len(mentees),
        mentors=sum(1 for m in mentors if m.open_slots > 0),
        pairs=len(run.pairs),
        unmatched_mentees=len(mentees) - len(run.pairs),
        total_score=run.report.total_score,
        mean_score=round(run.report.mean_score / 100, 6),
    )
    now = deps.clock.now()
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO bulk_runs (run_id, mode, cohort, status, requested_by, summary, report, created_at)"
            " VALUES ($1, $2, $3, 'proposed', $4, $5::text::jsonb, $6::text::jsonb, $7)",
            run_id,
            mode,
            cohort_name,
            admin_id,
            summary.model_dump_json(),
            json.dumps(_report(run)),
            now,
        )
        await conn.executemany(
            "INSERT INTO bulk_run_pairs (run_id, mentee_id, mentor_id, score, choice_rank, pinned)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [(run_id, p.mentee_id, p.mentor_id, p.score, p.choice_rank, p.pinned) for p in run.pairs],
        )
        proposed = BulkMatchProposed(
            run_id=run_id, cohort=cohort_name, mode=mode, requested_by=admin_id, summary=summary
        )
        await deps.store.append(conn, run_id, 0, [proposed], correlation_id=correlation_id)
    return run_id


async def commit_bulk_run(
    pool: asyncpg.Pool, deps: Deps, run_id: str, admin_id: str, correlation_id: UUID | None = None
) -> int:
    now = deps.clock.now()
    async with pool.acquire() as conn, conn.transaction():
        await _proposed(conn, run_id)
        pairs = await conn.fetch(
            "SELECT mentee_id, mentor_id, pinned FROM bulk_run_pairs WHERE run_id = $1 ORDER BY mentor_id, mentee_id",
            run_id,
        )
        wanted = [p["mentee_id"] for p in pairs]
        free = {
            r["mentee_id"]
            for r in await conn.fetch(f"{_UNMATCHED} AND m.mentee_id = ANY($2::text[])", list(OPEN), wanted)
        }
        busy = sorted(set(wanted) - free)
        if busy:
            raise MatchingRuleViolation(
                f"since the run was proposed these mentees got an open request or a mentor, or left: {', '.join(busy)}"
            )
        events = []
        for pair in pairs:
            match_id = bulk_match_id(run_id, pair["mentee_id"])
            await reserve(conn, pair["mentor_id"], pair["mentee_id"], match_id, now)
            events.append(
                (
                    match_id,
                    MatchApproved(
                        match_id=match_id,
                        mentee_id=pair["mentee_id"],
                        mentor_id=pair["mentor_id"],
                        mode="bulk",
                        run_id=run_id,
                        approved_by=admin_id,
                    ),
                )
            )
        committed = BulkMatchCommitted(
            run_id=run_id,
            committed_by=admin_id,
            pair_count=len(pairs),
            overridden_count=sum(1 for p in pairs if p["pinned"]),
        )
        version = await deps.store.stream_version(conn, run_id)
        await deps.store.append(conn, run_id, version, [committed], correlation_id=correlation_id)
        for match_id, event in events:
            await deps.store.append(conn, match_id, 0, [event], correlation_id=correlation_id)
        await _decide(conn, run_id, "committed", admin_id, now)
    return len(pairs)


async def discard_bulk_run(pool: asyncpg.Pool, deps: Deps, run_id: str, admin_id: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await _proposed(conn, run_id)
        await _decide(conn, run_id, "discarded", admin_id, deps.clock.now())


async def bulk_run_view(pool: asyncpg.Pool, run_id: str) -> dict:
    async with pool.acquire() as conn:
        run = await conn.fetchrow("SELECT * FROM bulk_runs WHERE run_id = $1", run_id)
        if run is None:
            raise NotFound(f"no bulk run {run_id}")
        pairs = await conn.fetch(
            "SELECT mentee_id, mentor_id, score, choice_rank, pinned FROM bulk_run_pairs WHERE run_id = $1"
            " ORDER BY mentee_id",
            run_id,
        )
    view = dict(run)
    view["pairs"] = [dict(p) for p in pairs]
    return view


async def _named_cohort(conn: asyncpg.Connection, mentee_ids: Sequence[str]) -> list[asyncpg.Record]:
    if len(set(mentee_ids)) != len(mentee_ids):
        raise InvalidCommand("mentee_ids", "mentee ids must be distinct")
    known = {
        r["mentee_id"]: r
        for r in await conn.fetch("SELECT * FROM mentees WHERE mentee_id = ANY($1::text[])", list(mentee_ids))
    }
    unknown = sorted(set(mentee_ids) - set(known))
    if unknown:
        raise InvalidCommand("mentee_ids", f"not registered mentees: {', '.join(unknown)}")
    inactive = sorted(i for i, r in known.items() if not r["active"])
    if inactive:
        raise InvalidCommand("mentee_ids", f"deactivated mentees: {', '.join(inactive)}")
    free = {
        r["mentee_id"]
        for r in await conn.fetch(f"{_UNMATCHED} AND m.mentee_id = ANY($2::text[])", list(OPEN), list(mentee_ids))
    }
    busy = sorted(set(mentee_ids) - free)
    if busy:
        raise InvalidCommand("mentee_ids", f"these mentees have an open request or a mentor: {', '.join(busy)}")
    return [known[i] for i in sorted(mentee_ids)]


def _overrides(
    mentees: list[MenteeProfile],
    mentors: list[MentorProfile],
    pinned: Mapping[str, str],
    forbidden: Sequence[tuple[str, str]],
    line: Mapping[str, str],
) -> Overrides:
    mentee_ids, mentor_ids = {m.mentee_id for m in mentees}, {m.mentor_id for m in mentors}
    for field, pairs in (("pinned", list(pinned.items())), ("forbidden", list(forbidden))):
        for mentee_id, mentor_id in pairs:
            if mentee_id not in mentee_ids:
                raise InvalidCommand(field, f"mentee {mentee_id} is not in the cohort")
            if mentor_id not in mentor_ids:
                raise InvalidCommand(field, f"{mentor_id} is not an active mentor")
    above = InReportingLine(line)
    for mentee_id, mentor_id in pinned.items():
        if mentee_id == mentor_id:
            raise InvalidCommand("pinned", f"{mentee_id} cannot mentor themselves")
        if mentor_id in above.line_above(mentee_id):
            raise InvalidCommand("pinned", f"mentor {mentor_id} is in mentee {mentee_id}'s reporting line")
    return Overrides(pinned=dict(pinned), forbidden=frozenset(tuple(p) for p in forbidden))


def _solve(
    mentees: list[MenteeProfile],
    mentors: list[MentorProfile],
    weights: Weights,
    overrides: Overrides,
    mode: Mode,
    line: Mapping[str, str],
    k: int,
) -> BulkRun:
    cohort = Cohort(mentees, mentors)
    try:
        graph = build_candidates(cohort, weights, k=k, overrides=overrides, filters=default_filters(line))
        return run_bulk_match(graph, mode, overrides)
    except OverrideConflict as exc:
        raise InvalidCommand("pinned", str(exc)) from exc


def _report(run: BulkRun) -> dict:
    report = asdict(run.report)
    report["by_choice"] = list(report["by_choice"])
    price = run.report.price_of_stability
    report["price_of_stability"] = price if math.isfinite(price) else None
    report["text"] = run.report.summary()
    return report


async def _proposed(conn: asyncpg.Connection, run_id: str) -> None:
    status = await conn.fetchval("SELECT status FROM bulk_runs WHERE run_id = $1 FOR UPDATE", run_id)
    if status is None:
        raise NotFound(f"no bulk run {run_id}")
    if status != "proposed":
        raise MatchingRuleViolation(f"bulk run {run_id} is already {status}")


async def _decide(conn: asyncpg.Connection, run_id: str, status: str, admin_id: str, now) -> None:
    await conn.execute(
        "UPDATE bulk_runs SET status = $2, decided_by = $3, decided_at = $4 WHERE run_id = $1",
        run_id,
        status,
        admin_id,
        now,
    )
