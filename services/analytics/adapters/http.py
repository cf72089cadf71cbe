"""HTTP API of the analytics service (read side)."""

from __future__ import annotations

import csv
import io
import os
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.analytics.adapters import dashboard_page
from services.analytics.projecting.generations import SHAPE, live_generation, schema_name
from services.analytics.projecting.partitions import estimate_total
from services.analytics.projecting.replay import ReplayAlreadyRunning, Replays
from services.analytics.querying.dashboard import Filters, figures_as_rows, program_figures
from services.analytics.querying.timelines import participant_timeline, relationship_timeline
from shared.auth import Principal, Role, require_roles
from shared.bus import all_event_topics
from shared.http import RuntimeDep

router = APIRouter(tags=["timelines"])
Reader = Annotated[Principal, Depends(require_roles(Role.admin, Role.analyst, Role.mentor, Role.mentee))]


Operator = Annotated[Principal, Depends(require_roles(Role.admin, Role.analyst))]
GenerationParam = Annotated[int | None, Query(ge=1, description="A snapshot generation (as-of replay); default live")]


async def _schema(runtime, generation: int | None = None) -> str:
    if generation is None:
        generation = await live_generation(runtime.pool)
        if generation is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="projections are not built yet")
    row = await runtime.pool.fetchrow(
        "SELECT state, shape FROM projection_generations WHERE generation = $1", generation
    )
    if row is None or row["state"] not in ("live", "snapshot"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"generation {generation} is not live or a snapshot")
    if row["shape"] != SHAPE:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=(
                f"generation {generation} was built by another version of analytics"
                + (": it is being rebuilt, try again shortly" if row["state"] == "live" else "; replay it again")
            ),
        )
    return schema_name(generation)


@router.get("/timelines/relationships/{relationship_id}")
async def get_relationship_timeline(
    relationship_id: str, runtime: RuntimeDep, principal: Reader, generation: GenerationParam = None
) -> dict:
    async with runtime.pool.acquire() as conn:
        timeline = await relationship_timeline(conn, await _schema(runtime, generation), relationship_id)
    if timeline is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no relationship {relationship_id}")
    if not principal.has_any({Role.admin}) and principal.subject not in timeline["participants"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the relationship's participants and directors")
    return timeline


@router.get("/timelines/participants/{participant_id}")
async def get_participant_timeline(
    participant_id: str, runtime: RuntimeDep, principal: Reader, generation: GenerationParam = None
) -> dict:
    if not principal.has_any({Role.admin}) and principal.subject != participant_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the participant themself and directors")
    async with runtime.pool.acquire() as conn:
        return await participant_timeline(conn, await _schema(runtime, generation), participant_id)


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: AwareDatetime | None = None


def _replays(request: Request, runtime) -> Replays:
    if not hasattr(request.app.state, "replays"):
        request.app.state.replays = Replays(runtime.pool, runtime.settings.kafka_bootstrap, all_event_topics())
    return request.app.state.replays


@router.post("/replays", status_code=status.HTTP_202_ACCEPTED, tags=["replay"])
async def start_replay(body: ReplayRequest, request: Request, runtime: RuntimeDep, _: Operator) -> dict:
    """Rebuild every projection from the beginning of every topic (as of a moment, if given)."""
    total = await estimate_total(runtime.settings.kafka_bootstrap, all_event_topics())
    try:
        replay = await _replays(request, runtime).start(body.as_of, total)
    except ReplayAlreadyRunning as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return replay.status()


@router.get("/replays/{generation}", tags=["replay"])
async def replay_status(generation: int, request: Request, runtime: RuntimeDep, _: Operator) -> dict:
    replay = _replays(request, runtime).known.get(generation)
    if replay is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no replay {generation} in this process")
    return replay.status()


MIN_CELL = int(os.environ.get("MENTORSHIP_ANALYTICS_MIN_CELL", "5"))


class DashboardFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: str | None = None
    cohort: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$", description="Registration month, YYYY-MM")
    start: date | None = None
    end: date | None = None
    generation: int | None = Field(default=None, ge=1)


async def _figures(runtime, query: DashboardFilters) -> dict:
    if query.start and query.end and query.start > query.end:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            detail=[{"loc": ["query", "end"], "msg": "end lies before start", "type": "value_error"}],
        )
    filters = Filters(query.department or None, query.cohort or None, query.start, query.end)
    schema = await _schema(runtime, query.generation)
    # One snapshot for every query of the page, so no figure straddles a projector commit.
    async with runtime.pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        return await program_figures(conn, schema, filters, MIN_CELL)


@router.get("/dashboard.json", tags=["dashboard"])
async def dashboard_json(runtime: RuntimeDep, _: Operator, query: Annotated[DashboardFilters, Query()]) -> dict:
    return await _figures(runtime, query)


@router.get("/dashboard.csv", tags=["dashboard"], response_class=PlainTextResponse)
async def dashboard_csv(
    runtime: RuntimeDep, _: Operator, query: Annotated[DashboardFilters, Query()]
) -> PlainTextResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value"])
    for name, value in figures_as_rows(await _figures(runtime, query)):
        writer.writerow([name, "" if value is None else value])
    return PlainTextResponse(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=program-evaluation.csv"},
    )


@router.get("/dashboard", tags=["dashboard"], response_class=HTMLResponse)
async def dashboard(
    request: Request, runtime: RuntimeDep, _: Operator, query: Annotated[DashboardFilters, Query()]
) -> HTMLResponse:
    return HTMLResponse(dashboard_page.render(await _figures(runtime, query), request.url.query))
