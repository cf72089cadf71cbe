"""HTTP API of the matching service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from shared.auth import Principal, Role, require_roles
from shared.http import RuntimeDep

router = APIRouter(tags=["directory"])


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


class DirectoryPage(BaseModel):
    items: list[DirectoryMentor]
    total: int


@router.get("/directory/mentors", response_model=DirectoryPage)
async def list_mentors(
    runtime: RuntimeDep,
    _: Annotated[Principal, Depends(require_roles(Role.admin, Role.mentee, Role.mentor))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> DirectoryPage:
    async with runtime.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM mentor_directory WHERE active")
        rows = await conn.fetch(
            "SELECT mentor_id, name, specialty, interests, career_stage, languages, time_zone, biography, capacity"
            " FROM mentor_directory WHERE active ORDER BY registered_at, mentor_id LIMIT $1 OFFSET $2",
            limit,
            offset,
        )
    return DirectoryPage(items=[DirectoryMentor(**dict(r)) for r in rows], total=total)
