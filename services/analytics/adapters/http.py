"""HTTP API of the analytics service (read side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from shared.auth import Principal, Role, require_roles
from shared.http import RuntimeDep
from services.analytics.application.generations import live_generation, schema_name
from services.analytics.application.timelines import participant_timeline, relationship_timeline

router = APIRouter(tags=["timelines"])
Reader = Annotated[Principal, Depends(require_roles(Role.admin, Role.analyst, Role.mentor, Role.mentee))]


async def _live_schema(runtime) -> str:
    generation = await live_generation(runtime.pool)
    if generation is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="projections are not built yet")
    return schema_name(generation)


@router.get("/timelines/relationships/{relationship_id}")
async def get_relationship_timeline(relationship_id: str, runtime: RuntimeDep, principal: Reader) -> dict:
    async with runtime.pool.acquire() as conn:
        timeline = await relationship_timeline(conn, await _live_schema(runtime), relationship_id)
    if timeline is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no relationship {relationship_id}")
    if not principal.has_any({Role.admin}) and principal.subject not in timeline["participants"]:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the relationship's participants and directors")
    return timeline


@router.get("/timelines/participants/{participant_id}")
async def get_participant_timeline(participant_id: str, runtime: RuntimeDep, principal: Reader) -> dict:
    if not principal.has_any({Role.admin}) and principal.subject != participant_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="only the participant themself and directors")
    async with runtime.pool.acquire() as conn:
        return await participant_timeline(conn, await _live_schema(runtime), participant_id)
