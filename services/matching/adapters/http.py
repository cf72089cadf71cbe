"""HTTP API of the matching service.

Mentees submit and withdraw their own requests and ask for suggestions; the program director (admin)
reviews, matches unmatched requests, sets the program's weights and deadline, and runs bulk matching;
a mentor answers only the requests forwarded to them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from pydantic import BaseModel

from services.matching.adapters.requests import (
    AdminMatch,
    BulkRunBody,
    Response,
    ResponseDeadline,
    Review,
    SubmitRequest,
    WeightsBody,
    Withdrawal,
)
from services.matching.application import queries
from services.matching.application.admin_match import admin_match
from services.matching.application.bulk_runs import (
    bulk_run_view,
    commit_bulk_run,
    discard_bulk_run,
    propose_bulk_run,
)
from services.matching.application.deps import Deps
from services.matching.application.program import Program, get_program, save_program
from services.matching.application.respond_to_request import respond_to_request
from services.matching.application.review_request import review_request
from services.matching.application.submit_request import submit_request
from services.matching.application.suggest import suggestions
from services.matching.application.withdraw_request import withdraw_request
from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import (
    InvalidCommand,
    MatchingRuleViolation,
    NotAllowed,
    NotFound,
)
from shared.auth import Principal, Role, require_roles
from shared.http import CorrelationDep, RuntimeDep, detail_handler, field_error_handler

router = APIRouter()

Reader = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentor, Role.mentee))]
Mentee = Annotated[Principal, Depends(require_roles(Role.mentee))]
Mentor = Annotated[Principal, Depends(require_roles(Role.mentor))]
Director = Annotated[Principal, Depends(require_roles(Role.admin))]
MenteeOrDirector = Annotated[Principal, Depends(require_roles(Role.admin, Role.mentee))]


def deps_of(request: Request) -> Deps:
    return request.app.state.deps


DepsDep = Annotated[Deps, Depends(deps_of)]


class Changed(BaseModel):
    request_id: str
    version: int


class DirectoryMentor(BaseModel):
    mentor_id: str
    name: str
    specialty: str
    interests: list[str]
    career_stage: str
    languages: list[str]
    time_zone: str
    biography: str
    capacity: int
    open_slots: int


class DirectoryPage(BaseModel):
    items: list[DirectoryMentor]
    total: int


def install(app: FastAPI, deps: Deps) -> None:
    app.state.deps = deps
    app.include_router(router)
    app.add_exception_handler(NotFound, detail_handler(status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(NotAllowed, detail_handler(status.HTTP_403_FORBIDDEN))
    app.add_exception_handler(MatchingRuleViolation, detail_handler(status.HTTP_409_CONFLICT))
    app.add_exception_handler(InvalidCommand, field_error_handler)


@router.get("/directory/mentors", response_model=DirectoryPage, tags=["directory"])
async def list_mentors(
    runtime: RuntimeDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DirectoryPage:
    async with runtime.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM mentor_directory WHERE active")
        rows = await conn.fetch(
            """SELECT d.mentor_id, d.name, d.specialty, d.interests, d.career_stage, d.languages, d.time_zone,
                      d.biography, d.capacity,
                      CASE WHEN d.accepting_requests THEN greatest(d.capacity - (SELECT count(*) FROM active_pairs p
                           WHERE p.mentor_id = d.mentor_id), 0) ELSE 0 END AS open_slots
               FROM mentor_directory d WHERE d.active ORDER BY d.registered_at, d.mentor_id LIMIT $1 OFFSET $2""",
            limit,
            offset,
        )
    return DirectoryPage(items=[DirectoryMentor(**dict(r)) for r in rows], total=total)


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=Changed, tags=["requests"])
async def post_request(
    body: SubmitRequest, runtime: RuntimeDep, deps: DepsDep, correlation_id: CorrelationDep, principal: Mentee
) -> Changed:
    request_id = await submit_request(
        runtime.pool, deps, principal.subject, body.biography, body.motivation, body.ranked_mentor_ids, correlation_id
    )
    return Changed(request_id=request_id, version=1)


@router.get("/requests", tags=["requests"])
async def list_requests(
    runtime: RuntimeDep,
    principal: Reader,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(submitted|declined|forwarded|matched|unmatched|withdrawn)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The director sees every request; a mentee their own; a mentor those forwarded to them."""
    director = Role.admin in principal.roles
    mentee = None if director or Role.mentee not in principal.roles else principal.subject
    mentor = None if director or mentee else principal.subject
    items = await queries.request_listing(
        runtime.pool, mentee_id=mentee, mentor_id=mentor, status=status_, limit=limit, offset=offset
    )
    return {"items": items}


@router.get("/requests/{request_id}", tags=["requests"])
async def get_request(request_id: str, runtime: RuntimeDep, principal: Reader) -> dict[str, Any]:
    return await queries.request_view(
        runtime.pool, request_id, principal.subject, director=Role.admin in principal.roles
    )


@router.post("/requests/{request_id}/review", response_model=Changed, tags=["requests"])
async def post_review(
    request_id: str,
    body: Review,
    runtime: RuntimeDep,
    deps: DepsDep,
    correlation_id: CorrelationDep,
    principal: Director,
) -> Changed:
    version = await review_request(
        runtime.pool, deps, request_id, principal.subject, body.approved, body.decline_reason, correlation_id
    )
    return Changed(request_id=request_id, version=version)


@router.post("/requests/{request_id}/response", response_model=Changed, tags=["requests"])
async def post_response(
    request_id: str,
    body: Response,
    runtime: RuntimeDep,
    deps: DepsDep,
    correlation_id: CorrelationDep,
    principal: Mentor,
) -> Changed:
    version = await respond_to_request(
        runtime.pool, deps, request_id, principal.subject, body.accepted, body.reason, correlation_id
    )
    return Changed(request_id=request_id, version=version)


@router.post("/requests/{request_id}/match", response_model=Changed, tags=["requests"])
async def post_admin_match(
    request_id: str,
    body: AdminMatch,
    runtime: RuntimeDep,
    deps: DepsDep,
    correlation_id: CorrelationDep,
    principal: Director,
) -> Changed:
    version = await admin_match(runtime.pool, deps, request_id, principal.subject, body.mentor_id, correlation_id)
    return Changed(request_id=request_id, version=version)


@router.post("/requests/{request_id}/withdrawal", response_model=Changed, tags=["requests"])
async def post_withdrawal(
    request_id: str,
    body: Withdrawal,
    runtime: RuntimeDep,
    deps: DepsDep,
    correlation_id: CorrelationDep,
    principal: MenteeOrDirector,
) -> Changed:
    await queries.request_view(runtime.pool, request_id, principal.subject, director=Role.admin in principal.roles)
    row = await runtime.pool.fetchval("SELECT mentee_id FROM requests WHERE request_id = $1", request_id)
    if Role.admin not in principal.roles and row != principal.subject:
        raise NotAllowed(f"request {request_id} is not yours to withdraw")
    version = await withdraw_request(runtime.pool, deps, request_id, body.reason, correlation_id)
    return Changed(request_id=request_id, version=version)


@router.get("/mentees/{mentee_id}/suggestions", tags=["suggestions"])
async def get_suggestions(
    mentee_id: str,
    runtime: RuntimeDep,
    deps: DepsDep,
    principal: MenteeOrDirector,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
) -> dict[str, Any]:
    if Role.admin not in principal.roles and principal.subject != mentee_id:
        raise NotAllowed("a mentee may only ask for their own suggestions")
    found = await suggestions(runtime.pool, deps, mentee_id, k)
    return {"mentee_id": mentee_id, "items": [asdict(s) for s in found]}


@router.get("/programs/{program_id}", tags=["program"])
async def get_program_settings(program_id: str, runtime: RuntimeDep, deps: DepsDep, _: Reader) -> dict[str, Any]:
    return _program(await get_program(runtime.pool, deps, program_id))


@router.put("/programs/{program_id}/weights", tags=["program"])
async def put_weights(
    program_id: str, body: WeightsBody, runtime: RuntimeDep, deps: DepsDep, _: Director
) -> dict[str, Any]:
    try:
        weights = Weights(**body.model_dump())
    except ValueError as exc:
        raise InvalidCommand("weights", str(exc)) from exc
    return _program(await save_program(runtime.pool, deps, program_id, weights=weights))


@router.put("/programs/{program_id}/response-deadline", tags=["program"])
async def put_response_deadline(
    program_id: str, body: ResponseDeadline, runtime: RuntimeDep, deps: DepsDep, _: Director
) -> dict[str, Any]:
    return _program(await save_program(runtime.pool, deps, program_id, response_days=body.days))


@router.post("/bulk-runs", status_code=status.HTTP_201_CREATED, tags=["bulk runs"])
async def post_bulk_run(
    body: BulkRunBody, runtime: RuntimeDep, deps: DepsDep, correlation_id: CorrelationDep, principal: Director
) -> dict[str, Any]:
    run_id = await propose_bulk_run(
        runtime.pool,
        deps,
        principal.subject,
        body.mode,
        body.mentee_ids,
        body.pinned,
        [(p.mentee_id, p.mentor_id) for p in body.forbidden],
        correlation_id,
    )
    return await bulk_run_view(runtime.pool, run_id)


@router.get("/bulk-runs/{run_id}", tags=["bulk runs"])
async def get_bulk_run(run_id: str, runtime: RuntimeDep, _: Director) -> dict[str, Any]:
    return await bulk_run_view(runtime.pool, run_id)


@router.post("/bulk-runs/{run_id}/commit", tags=["bulk runs"])
async def post_bulk_commit(
    run_id: str, runtime: RuntimeDep, deps: DepsDep, correlation_id: CorrelationDep, principal: Director
) -> dict[str, Any]:
    pairs = await commit_bulk_run(runtime.pool, deps, run_id, principal.subject, correlation_id)
    return {"run_id": run_id, "status": "committed", "matches": pairs}


@router.post("/bulk-runs/{run_id}/discard", tags=["bulk runs"])
async def post_bulk_discard(run_id: str, runtime: RuntimeDep, deps: DepsDep, principal: Director) -> dict[str, Any]:
    await discard_bulk_run(runtime.pool, deps, run_id, principal.subject)
    return {"run_id": run_id, "status": "discarded"}


def _program(program: Program) -> dict[str, Any]:
    return {
        "program_id": program.program_id,
        "weights": asdict(program.weights),
        "response_days": program.response_days,
    }
