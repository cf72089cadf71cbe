"""HTTP API of the analytics service (read side): timelines, replays, the dashboard (page, JSON, CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from services.analytics.adapters import dashboard_page, evaluation_page
from services.analytics.adapters.container import AnalyticsContainer
from services.analytics.projecting.replay import ReplayAlreadyRunning
from services.analytics.projecting.snapshots import SnapshotLimitReached
from services.analytics.querying.dashboard import Filters, figures_as_rows
from shared.auth import Evaluator, Member, Role
from shared.fields import MAX_COUNT, Day, IdPath, Moment, ShortText
from shared.http import get_container
from shared.web_signin import Reader, page_reader

router = APIRouter(tags=["timelines"])
Container = Annotated[AnalyticsContainer, Depends(get_container)]
DashboardReader = Annotated[Reader, Depends(page_reader(Role.admin, Role.analyst))]
"""The director or an analyst: a bearer token, or a browser signed in to the dashboard (its session cookie)."""
DirectorReader = Annotated[Reader, Depends(page_reader(Role.admin))]
DashboardBrowser = Annotated[Reader, Depends(page_reader(Role.admin, Role.analyst, redirect=True))]
GenerationParam = Annotated[
    int | None, Query(ge=1, le=MAX_COUNT, description="A snapshot generation (as-of replay); default live")
]


@router.get("/timelines/relationships/{relationship_id}")
async def get_relationship_timeline(
    relationship_id: IdPath, container: Container, principal: Member, generation: GenerationParam = None
) -> dict:
    """Everything that happened to one relationship, in order, from every service's events."""
    return _json(await container.reads.relationship_timeline(relationship_id, principal, generation))


@router.get("/timelines/participants/{participant_id}")
async def get_participant_timeline(
    participant_id: IdPath, container: Container, principal: Member, generation: GenerationParam = None
) -> dict:
    """Everything that happened to one participant, in order, from every service's events."""
    return _json(await container.reads.participant_timeline(participant_id, principal, generation))


def _json(content: dict) -> Response:
    """A read's answer as JSON, as FastAPI would encode it (dates and times in ISO 8601) in one ``json.dumps``
    instead of a walk of ``jsonable_encoder`` over every value: a timeline or the figures hold thousands."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_iso)
    return Response(body, media_type="application/json")


def _iso(value: object) -> str:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: Moment | None = None


@router.post("/replays", status_code=status.HTTP_202_ACCEPTED, tags=["replay"])
async def start_replay(body: ReplayRequest, container: Container, caller: Evaluator) -> dict:
    """Rebuild every projection from the beginning of every topic; as of a moment (a snapshot kept beside the
    live projections, within the cap and expiry of ``MENTORSHIP_ANALYTICS_MAX_SNAPSHOTS``/``_SNAPSHOT_DAYS``)
    for directors only."""
    if body.as_of is not None and not caller.has_any({Role.admin}):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="as-of snapshots are for directors (admin) only")
    try:
        replay = await container.replays.start(body.as_of)
    except (ReplayAlreadyRunning, SnapshotLimitReached) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return replay.status()


@router.get("/replays/{generation}", tags=["replay"])
async def replay_status(
    generation: Annotated[int, Path(ge=1, le=MAX_COUNT)], container: Container, _: Evaluator
) -> dict:
    """Progress of a projection replay into a generation."""
    replay = container.replays.known.get(generation)
    if replay is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no replay {generation} in this process")
    return replay.status()


class DashboardFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    department: ShortText | None = None
    cohort: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}$", description="Registration month, YYYY-MM")
    start: Day | None = None
    end: Day | None = None
    program: str | None = Field(
        default=None, pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="A program id (e.g. default)"
    )
    generation: int | None = Field(default=None, ge=1, le=MAX_COUNT)


async def _figures(container: AnalyticsContainer, query: DashboardFilters, reader: Reader) -> dict:
    if query.start and query.end and query.start > query.end:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"loc": ["query", "end"], "msg": "end lies before start", "type": "value_error"}],
        )
    return await container.reads.figures(_filters(query), query.generation, reader.principal)


def _filters(query: DashboardFilters) -> Filters:
    return Filters(query.department or None, query.cohort or None, query.start, query.end, query.program or None)


@router.get("/dashboard.json", tags=["dashboard"])
async def dashboard_json(
    container: Container, reader: DashboardReader, query: Annotated[DashboardFilters, Query()]
) -> dict:
    """The program-evaluation dashboard's figures as JSON, for the given filters (a snapshot: directors only)."""
    return _json(await _figures(container, query, reader))


@router.get("/dashboard/mentors.json", tags=["dashboard"])
async def mentor_responsiveness_json(
    container: Container, reader: DirectorReader, query: Annotated[DashboardFilters, Query()]
) -> dict:
    """Each mentor's responsiveness (requests received, accepted, declined, expired, pending, median days to
    answer), for the director only; analysts see the aggregate in ``/dashboard.json`` (``evaluation``)."""
    return _json(await container.reads.mentor_responsiveness(_filters(query), query.generation, reader.principal))


@router.get("/dashboard/programs.json", tags=["dashboard"])
async def programs_json(
    container: Container, reader: DashboardReader, query: Annotated[DashboardFilters, Query()]
) -> dict:
    """Programs compared: one row per program with its headline figures side by side (the other filters apply;
    ``program`` is ignored here); small cells withheld, a program of too few people withheld whole."""
    filters = _filters(query.model_copy(update={"program": None}))
    return _json(await container.reads.comparison(filters, query.generation, reader.principal))


@router.get("/dashboard.csv", tags=["dashboard"], response_class=PlainTextResponse)
async def dashboard_csv(
    container: Container, reader: DashboardReader, query: Annotated[DashboardFilters, Query()]
) -> PlainTextResponse:
    """The dashboard's figures as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["figure", "value"])
    for name, value in figures_as_rows(await _figures(container, query, reader)):
        writer.writerow([name, "" if value is None else value])
    return PlainTextResponse(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": "attachment; filename=program-evaluation.csv"},
    )


@router.get("/dashboard", tags=["dashboard"], response_class=HTMLResponse)
async def dashboard(
    request: Request, container: Container, reader: DashboardBrowser, query: Annotated[DashboardFilters, Query()]
) -> HTMLResponse:
    """The dashboard as an HTML page."""
    account = ""
    if reader.session is not None:
        roles = sorted(reader.principal.roles)
        account = dashboard_page.account_bar(reader.principal.subject, roles, reader.session.csrf_token)
    figures = await _figures(container, query, reader)
    compared = await container.reads.comparison(
        _filters(query.model_copy(update={"program": None})), query.generation, reader.principal
    )
    director = ""
    if reader.principal.has_any({Role.admin}):  # the per-mentor view: directors only
        view = await container.reads.mentor_responsiveness(_filters(query), query.generation, reader.principal)
        director = evaluation_page.mentor_table(view)
    page = dashboard_page.render(figures, request.url.query, account, compared, director)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
