"""HTTP API of the matching service.

Mentees submit and withdraw their own requests and ask for suggestions; the program director (admin)
reviews, matches unmatched requests, sets the program's weights and deadline, and runs bulk matching;
a mentor answers only the requests forwarded to them.

Each command route parses its body (shape), builds a command (``application/commands.py``) and hands it
to its use case.  Reads are served from the views (``adapters/views.py``).  Errors are the shared ones,
mapped once by ``shared.http``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Response, status
from pydantic import BaseModel

from services.matching.adapters import requests as bodies
from services.matching.application import (
    admin_match,
    change_program,
    commands,
    commit_bulk_run,
    discard_bulk_run,
    enrol,
    form_group,
    propose_bulk_run,
    request_timeline,
    respond_to_request,
    review_request,
    submit_request,
    suggest,
    withdraw_request,
)
from services.matching.application.deps import Deps
from services.matching.application.program import show_program
from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import InvalidCommand, NotFound
from services.matching.domain.program import Eligibility, Program, Settings
from services.matching.domain.rules import as_read_by
from shared.auth import Director, DirectorOrMentee, Member, Mentee, Mentor, Role
from shared.fields import MAX_COUNT, IdPath
from shared.http import CorrelationDep, get_container, include_routes
from shared.limits import BULK_BODY_BYTES

router = APIRouter()
Container = Annotated[Deps, Depends(get_container)]
IfMatch = Annotated[str | None, Header(description='The version last read (the ETag), e.g. "3"; stale → 409')]


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


class MenteeCard(BaseModel):
    mentee_id: str
    name: str
    specialty: str
    interests: list[str]
    career_stage: str
    languages: list[str]
    time_zone: str
    active: bool


class DirectoryPage(BaseModel):
    items: list[DirectoryMentor]
    total: int


def install(app: FastAPI, deps: Deps) -> None:
    app.state.container = deps
    include_routes(app, router)


@router.get("/directory/mentors", response_model=DirectoryPage, tags=["directory"])
async def list_mentors(
    deps: Container,
    _: Member,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
) -> DirectoryPage:
    """Matching's mentor directory: active mentors with their capacity and open slots."""
    total, rows = await deps.views.mentors(limit=limit, offset=offset)
    return DirectoryPage(items=[DirectoryMentor(**r) for r in rows], total=total)


@router.get("/directory/mentors/{mentor_id}", response_model=DirectoryMentor, tags=["directory"])
async def get_mentor(mentor_id: IdPath, deps: Container, _: Member) -> DirectoryMentor:
    """One active mentor's directory card (an introduction's mentor side)."""
    row = await deps.views.mentor(mentor_id)
    if row is None:
        raise NotFound(f"no mentor {mentor_id}")
    return DirectoryMentor(**row)


@router.get("/mentees/{mentee_id}", response_model=MenteeCard, tags=["directory"])
async def get_mentee(mentee_id: IdPath, deps: Container, principal: Member) -> MenteeCard:
    """A mentee's card (an introduction's mentee side) for the mentee, the director, their mentors now and the
    mentor a request of theirs waits for; to anyone else not found, as an id nobody holds."""
    row = await deps.views.mentee(mentee_id)
    readers = () if row is None else (mentee_id, *row["mentor_ids"], *row["asked_mentor_ids"])
    if row is None or not (principal.is_director or principal.subject in readers):
        raise NotFound(f"no mentee {mentee_id}")
    return MenteeCard(**row)


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=Changed, tags=["requests"])
async def post_request(
    body: bodies.SubmitRequest, deps: Container, correlation_id: CorrelationDep, principal: Mentee
) -> Changed:
    """A mentee ranks one to three mentors in a program ("default" if omitted): `RequestRanked`. Programs matched
    by the director or by bulk runs take no requests (409 saying how they match); in a self-match program the
    request goes straight to the first choice."""
    ranked = tuple(body.ranked_mentor_ids)
    cmd = commands.SubmitRequest(
        principal.subject, body.biography, body.motivation, ranked, correlation_id, body.program_id
    )
    return Changed(request_id=await submit_request.handle(deps, cmd), version=1)


@router.get("/requests", tags=["requests"])
async def list_requests(
    deps: Container,
    principal: Member,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(submitted|declined|forwarded|matched|unmatched|withdrawn)$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
    waiting_for_me: Annotated[bool, Query(description="Only those waiting for the caller's answer now")] = False,
    program_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")] = None,
) -> dict[str, Any]:
    """The director sees every request; a mentee their own; a mentor those forwarded to them (their inbox:
    `waiting_for_me=true`, each with `respond_by`). `program_id` filters. Ordered by priority group (the
    request's program's `priority_groups` order, then the rest), then by submission: the review queue."""
    director = principal.is_director
    mentee = None if director or Role.mentee not in principal.roles else principal.subject
    mentor = None if director or mentee else principal.subject
    items = await deps.views.requests(
        mentee_id=mentee,
        mentor_id=mentor,
        status=status_,
        limit=limit,
        offset=offset,
        waiting_for=principal.subject if waiting_for_me else None,
        program_id=program_id,
    )
    return {"items": [as_read_by(item, principal.subject, director=director) for item in items]}


@router.get("/requests/{request_id}", tags=["requests"])
async def get_request(request_id: IdPath, deps: Container, principal: Member) -> dict[str, Any]:
    """To a caller who may not read it, a request is not found, exactly as an id nobody holds; a mentor who is
    no longer asked (declined, deadline passed, passed over, withdrawn) reads it without biography and motivation."""
    view = await deps.views.request(request_id)
    if view is None:
        raise NotFound(f"no request {request_id}")
    return as_read_by(view, principal.subject, director=principal.is_director)


@router.get("/requests/{request_id}/timeline", tags=["requests"])
async def get_request_timeline(request_id: IdPath, deps: Container, principal: Member) -> dict[str, Any]:
    """The request's status as a timeline, oldest step first: submitted, approved or declined, forwarded to
    choice 1/2/3 with the deadline, the mentor's answer, expired, unmatched, matched, withdrawn. The mentee reads
    every step (not a mentor's reason for declining); a mentor only the steps of their own turn."""
    query = commands.ShowTimeline(request_id, principal.subject, principal.is_director)
    return await request_timeline.handle(deps, query)


@router.post("/requests/{request_id}/review", response_model=Changed, tags=["requests"])
async def post_review(request_id: IdPath, body: bodies.Review, deps: Container, cid: CorrelationDep, who: Director):
    """The director approves (forwarded to the first choice) or declines a request: `RequestReviewed`."""
    cmd = commands.ReviewRequest(request_id, who.subject, body.approved, body.decline_reason, cid)
    return Changed(request_id=request_id, version=await review_request.handle(deps, cmd))


@router.post("/requests/{request_id}/response", response_model=Changed, tags=["requests"])
async def post_response(request_id: IdPath, body: bodies.Response, deps: Container, cid: CorrelationDep, who: Mentor):
    """The mentor the request waits for accepts (`MatchApproved`) or declines (forwarded to the next choice)."""
    cmd = commands.RespondToRequest(request_id, who.subject, body.accepted, body.reason, cid)
    return Changed(request_id=request_id, version=await respond_to_request.handle(deps, cmd))


@router.post("/requests/{request_id}/match", response_model=Changed, tags=["requests"])
async def post_admin_match(
    request_id: IdPath, body: bodies.AdminMatch, deps: Container, cid: CorrelationDep, who: Director
):
    """An admin matches an unmatched request to a mentor: `MatchApproved` (mode admin)."""
    cmd = commands.AdminMatch(request_id, who.subject, body.mentor_id, cid)
    return Changed(request_id=request_id, version=await admin_match.handle(deps, cmd))


@router.post("/requests/{request_id}/withdrawal", response_model=Changed, tags=["requests"])
async def post_withdrawal(
    request_id: IdPath, body: bodies.Withdrawal, deps: Container, cid: CorrelationDep, who: DirectorOrMentee
):
    """The mentee (or an admin) withdraws a request that is not yet matched: `RequestWithdrawn`."""
    cmd = commands.WithdrawRequest(request_id, who.subject, who.is_director, body.reason, cid)
    return Changed(request_id=request_id, version=await withdraw_request.handle(deps, cmd))


@router.get("/mentees/{mentee_id}/suggestions", tags=["suggestions"])
async def get_suggestions(
    mentee_id: IdPath,
    deps: Container,
    principal: DirectorOrMentee,
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    program_id: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")] = "default",
) -> dict[str, Any]:
    """The top-k mentors for a mentee in a program ("default" if omitted), each with a score (0-100) and the
    reason."""
    query = commands.SuggestMentors(mentee_id, principal.subject, principal.is_director, k, program_id)
    return {"mentee_id": mentee_id, "items": [asdict(s) for s in await suggest.handle(deps, query)]}


@router.get("/programs", tags=["program"])
async def list_programs(deps: Container, _: Member) -> dict[str, Any]:
    """Every program (the built-in "default" first) with its settings, version and enrolment counts."""
    counts = await deps.views.enrolled_counts()
    ids = ["default", *(i for i in await deps.views.program_ids() if i != "default")]
    return {"programs": [_program(await show_program(deps, i), counts) for i in ids]}


@router.post("/programs", status_code=status.HTTP_201_CREATED, tags=["program"])
async def post_program(
    body: bodies.NewProgram, response: Response, deps: Container, cid: CorrelationDep, who: Director
) -> dict[str, Any]:
    """Define a program: `ProgramDefined`. 422 names the field of a setting that makes no sense (dates out of
    order, a circle size outside a peer program, a group size above 20, all weights 0, ...)."""
    cmd = commands.DefineProgram(body.program_id, _settings(body), who.subject, cid)
    program = await change_program.define(deps, cmd)
    response.headers["ETag"] = f'"{program.version}"'
    return _program(program, await deps.views.enrolled_counts())


@router.get("/programs/{program_id}", tags=["program"])
async def get_program_settings(program_id: IdPath, response: Response, deps: Container, _: Member) -> dict[str, Any]:
    """One program's settings, `version` and enrolment counts; the `ETag` is its version (for `If-Match`)."""
    program = await show_program(deps, program_id)
    response.headers["ETag"] = f'"{program.version}"'
    return _program(program, await deps.views.enrolled_counts())


@router.put("/programs/{program_id}", tags=["program"])
async def put_program(
    program_id: IdPath,
    body: bodies.ProgramSettingsBody,
    response: Response,
    deps: Container,
    cid: CorrelationDep,
    who: Director,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Replace every setting of a program: `ProgramChanged` (nothing when nothing changed). A stale `If-Match`
    is 409; a program's model cannot change."""
    cmd = commands.UpdateProgram(program_id, _settings(body), who.subject, _version(if_match), cid)
    program = await change_program.update(deps, cmd)
    response.headers["ETag"] = f'"{program.version}"'
    return _program(program, await deps.views.enrolled_counts())


@router.put("/programs/{program_id}/weights", tags=["program"])
async def put_weights(
    program_id: IdPath, body: bodies.WeightsBody, deps: Container, cid: CorrelationDep, who: Director
) -> dict[str, Any]:
    """Set the six compatibility weights (admin): `ProgramChanged`."""
    cmd = commands.ChangeProgram(program_id, weights=body.model_dump(), changed_by=who.subject, correlation_id=cid)
    return _program(await change_program.handle(deps, cmd), await deps.views.enrolled_counts())


@router.put("/programs/{program_id}/response-deadline", tags=["program"])
async def put_response_deadline(
    program_id: IdPath, body: bodies.ResponseDeadline, deps: Container, cid: CorrelationDep, who: Director
) -> dict[str, Any]:
    """Set the days a mentor has to answer a forwarded request (admin): `ProgramChanged`."""
    cmd = commands.ChangeProgram(program_id, response_days=body.days, changed_by=who.subject, correlation_id=cid)
    return _program(await change_program.handle(deps, cmd), await deps.views.enrolled_counts())


@router.post("/programs/{program_id}/enrolments", status_code=status.HTTP_201_CREATED, tags=["program"])
async def post_enrolment(
    program_id: IdPath, body: bodies.EnrolBody, deps: Container, cid: CorrelationDep, who: Member
) -> dict[str, Any]:
    """Enrol in a program (yourself; someone else: the director): `ParticipantEnrolled`. Ineligible: 422 naming
    the rule (`eligibility.departments`, ...); already enrolled: 409."""
    participant_id = body.participant_id or who.subject
    cmd = commands.Enrol(program_id, participant_id, body.role, body.capacity, who.subject, who.is_director, cid)
    enrolment = await enrol.enrol(deps, cmd)
    return {
        "program_id": program_id,
        "participant_id": participant_id,
        "role": enrolment.role,
        "capacity": enrolment.capacity,
        "enrolled_on": enrolment.enrolled_at,
    }


@router.get("/programs/{program_id}/enrolments", tags=["program"])
async def get_enrolments(program_id: IdPath, deps: Container, _: Director) -> dict[str, Any]:
    """Who is enrolled in the program, with their role and (mentors) capacity there."""
    await show_program(deps, program_id)
    return {"enrolments": await deps.views.enrolments(program_id)}


@router.delete(
    "/programs/{program_id}/enrolments/{participant_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["program"]
)
async def delete_enrolment(
    program_id: IdPath, participant_id: IdPath, deps: Container, cid: CorrelationDep, who: Member
) -> None:
    """Leave a program (yourself, or the director for anyone): `ParticipantUnenrolled`."""
    await enrol.unenrol(deps, commands.Unenrol(program_id, participant_id, who.subject, who.is_director, cid))


@router.get("/enrolments", tags=["program"])
async def get_my_enrolments(deps: Container, who: Member) -> dict[str, Any]:
    """The caller's own enrolments."""
    return {"enrolments": await deps.views.enrolments_of(who.subject)}


@router.post("/programs/{program_id}/groups", status_code=status.HTTP_201_CREATED, tags=["program"])
async def post_group(
    program_id: IdPath, body: bodies.GroupBody, deps: Container, cid: CorrelationDep, who: Director
) -> dict[str, Any]:
    """Form a mentoring group from a group program's enrolled mentors and mentees (each mentor gives the group
    one slot), or a peer circle (no mentors) from a peer program's enrolled peers: `GroupFormed`."""
    cmd = commands.FormGroup(program_id, tuple(body.mentor_ids), tuple(body.mentee_ids), who.subject, cid)
    return {"match_id": await form_group.handle(deps, cmd)}


@router.post("/bulk-runs", status_code=status.HTTP_201_CREATED, tags=["bulk runs"], max_body_size=BULK_BODY_BYTES)
async def post_bulk_run(
    body: bodies.BulkRunBody, deps: Container, correlation_id: CorrelationDep, principal: Director
) -> dict[str, Any]:
    """Propose matches for many mentees at once (optimal or stable), with pinned and forbidden pairs:
    `BulkMatchProposed`."""
    cmd = commands.ProposeBulkRun(
        principal.subject,
        body.mode,
        None if body.mentee_ids is None else tuple(body.mentee_ids),
        body.pinned,
        tuple((p.mentee_id, p.mentor_id) for p in body.forbidden),
        correlation_id,
        body.program_id,
    )
    return await _bulk_run(deps, await propose_bulk_run.handle(deps, cmd))


@router.get("/bulk-runs", tags=["bulk runs"])
async def list_bulk_runs(
    deps: Container,
    _: Director,
    status_: Annotated[str | None, Query(alias="status", pattern="^(proposed|committed|discarded)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
) -> dict[str, Any]:
    """Bulk runs, newest first, with their summaries (pairs and report: `GET /bulk-runs/{id}`)."""
    return {"items": await deps.views.bulk_runs(status=status_, limit=limit, offset=offset)}


@router.get("/bulk-runs/{run_id}", tags=["bulk runs"])
async def get_bulk_run(run_id: IdPath, deps: Container, _: Director) -> dict[str, Any]:
    """A bulk run: status, proposed pairs and its report."""
    return await _bulk_run(deps, run_id)


@router.post("/bulk-runs/{run_id}/commit", tags=["bulk runs"])
async def post_bulk_commit(
    run_id: IdPath, deps: Container, correlation_id: CorrelationDep, principal: Director
) -> dict[str, Any]:
    """Commit a proposed bulk run: `BulkMatchCommitted` and one `MatchApproved` per pair, all or nothing."""
    pairs = await commit_bulk_run.handle(deps, commands.CommitBulkRun(run_id, principal.subject, correlation_id))
    return {"run_id": run_id, "status": "committed", "matches": pairs}


@router.post("/bulk-runs/{run_id}/discard", tags=["bulk runs"])
async def post_bulk_discard(run_id: IdPath, deps: Container, principal: Director) -> dict[str, Any]:
    """Discard a proposed bulk run (no event)."""
    await discard_bulk_run.handle(deps, commands.DiscardBulkRun(run_id, principal.subject))
    return {"run_id": run_id, "status": "discarded"}


def _program(program: Program, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """ProgramView: every field of ``ProgramDefined``, the version and the enrolment counts."""
    return {
        "program_id": program.program_id,
        **program.s.payload(),
        "weights": asdict(program.weights),
        "version": program.version,
        "enrolled": counts.get(program.program_id, {"mentors": 0, "mentees": 0, "peers": 0}),
    }


def _settings(body: bodies.ProgramSettingsBody) -> Settings:
    try:
        weights = Weights(**body.weights.model_dump()) if body.weights is not None else Weights()
    except ValueError as exc:
        raise InvalidCommand("weights", str(exc)) from exc
    e = body.eligibility
    return Settings(
        name=body.name,
        model=body.model,
        matching_mode=body.matching_mode,
        response_days=body.response_days,
        weights=weights,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        eligibility=Eligibility(
            departments=tuple(e.departments),
            career_stages=tuple(e.career_stages),
            priority_groups=tuple(e.priority_groups),
            hr_attributes={k: tuple(v) for k, v in e.hr_attributes.items()},
        ),
        cadence_weeks_min=body.cadence_weeks_min,
        cadence_weeks_max=body.cadence_weeks_max,
        review_interval_months=body.review_interval_months,
        group_size_max=body.group_size_max,
        circle_size=body.circle_size,
        inactivity_days=body.inactivity_days,
        surveys=tuple(body.surveys),
        priority_policy=body.priority_policy,
    )


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        detail = [{"loc": ["header", "If-Match"], "msg": 'must be a version number, e.g. "3"', "type": "value_error"}]
        raise HTTPException(422, detail=detail)
    return int(text)


async def _bulk_run(deps: Deps, run_id: str) -> dict[str, Any]:
    view = await deps.views.bulk_run(run_id)
    if view is None:
        raise NotFound(f"no bulk run {run_id}")
    return view
