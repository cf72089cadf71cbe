"""HTTP: the mentor directory, for everyone in the program (a read: ``queries.Queries.mentors``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.profiles.adapters.container import Container
from services.profiles.adapters.queries import MentorFilter
from shared.auth import Member
from shared.events.profiles import CareerStage, MeetingFormat
from shared.fields import MAX_COUNT

router = APIRouter(tags=["directory"])


class MentorEntry(BaseModel):
    participant_id: str
    name: str
    biography: str
    specialty: str
    interests: list[str]
    career_stage: str
    job_function: str | None
    department: str | None
    location: str | None
    time_zone: str
    languages: list[str]
    capacity: int
    capacity_left: int
    accepting_requests: bool
    meeting_formats: list[str]
    training_status: str
    demographics: dict | None = None


class MentorPage(BaseModel):
    items: list[MentorEntry]
    total: int
    limit: int
    offset: int


@router.get("/directory/mentors", response_model=MentorPage)
async def mentor_directory(
    container: Container,
    _: Member,
    specialty: Annotated[str | None, Query(max_length=200, description="Field or specialty")] = None,
    interest: Annotated[list[str], Query(max_length=30, description="Any of these interests")] = [],  # noqa: B006
    career_stage: CareerStage | None = None,
    language: Annotated[str | None, Query(max_length=35, description="BCP 47 tag")] = None,
    time_zone: Annotated[str | None, Query(max_length=64)] = None,
    location: Annotated[str | None, Query(max_length=200, description="Part of the location")] = None,
    has_capacity: bool | None = None,
    format: Annotated[MeetingFormat | None, Query(description="Meets in this format")] = None,
    trained: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in name, specialty or biography")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_COUNT)] = 0,
) -> MentorPage:
    """Active mentors for any signed-in participant, filtered by specialty, interests, career stage, language,
    time zone, location, capacity, meeting format, training or free text."""
    found = MentorFilter(
        specialty=specialty,
        interests=interest,
        career_stage=career_stage,
        language=language,
        time_zone=time_zone,
        location=location,
        has_capacity=has_capacity,
        trained=trained,
        text=q,
        meeting_format=format,
    )
    items, total = await container.queries.mentors(found, limit, offset)
    return MentorPage(items=[MentorEntry(**item) for item in items], total=total, limit=limit, offset=offset)
