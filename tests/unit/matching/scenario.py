"""Setting up a matching world on fakes through its own use cases (as the consumer would feed it)."""

from __future__ import annotations

from services.matching.application import follow_hr, follow_profiles, review_request, submit_request
from services.matching.application.commands import ReviewRequest, SubmitRequest
from shared.events.hr import Worker, WorkerHired
from shared.events.profiles import ProfileFields
from tests.helpers import doctor, fellow, worker_fields
from tests.unit.matching.fakes import World

DIRECTOR = "director-1"


def fields(**changes) -> ProfileFields:
    base = {
        "biography": "Cardiologist",
        "specialty": "cardiology",
        "interests": ["research", "grants"],
        "career_stage": "senior",
        "languages": ["en"],
    }
    return ProfileFields(**{**base, **changes})


async def mentor(w: World, mentor_id: str, capacity: int = 2, employee_id: str | None = None, **profile) -> str:
    event = doctor(mentor_id, fields(**profile), capacity, employee_id)
    await follow_profiles.mentor_registered(w.deps, None, event, w.envelope(event))
    return mentor_id


async def mentee(w: World, mentee_id: str, employee_id: str | None = None, **profile) -> str:
    event = fellow(mentee_id, fields(career_stage="early_career", **profile), employee_id)
    await follow_profiles.mentee_registered(w.deps, None, event, w.envelope(event))
    return mentee_id


async def hired(w: World, employee_id: str, supervisor_id: str | None) -> None:
    today = w.clock.now().date()
    worker = Worker(
        **worker_fields(employee_id, supervisor_id=supervisor_id, original_hire_date=today, last_hire_date=today)
    )
    event = WorkerHired(employee_id=employee_id, effective_date=today, recorded_at=w.clock.now(), worker=worker)
    await follow_hr.worker_record(w.deps, None, event, w.envelope(event))


async def submitted(w: World, mentee_id: str, *ranked: str) -> str:
    return await submit_request.handle(w.deps, SubmitRequest(mentee_id, "bio", "why", tuple(ranked)))


async def forwarded(w: World, mentee_id: str, *ranked: str) -> str:
    request_id = await submitted(w, mentee_id, *ranked)
    await review_request.handle(w.deps, ReviewRequest(request_id, DIRECTOR, approved=True))
    return request_id
