"""HTTP: demographic aggregates for program evaluation, for the analytics service only.

``POST /aggregates/demographics`` takes groups of participant ids (``matched`` / ``not_matched``, ``retained`` /
``left``) and answers, per category of one dimension, how many of each group answered it with consent, with small
cells withheld (``domain/demographics.py``). Demographics are personal and sealed per person on the bus, and
analytics holds no key: it sends the groups it computed from its own projections and never sees one person's
category. The caller must hold role ``service`` and be named in ``MENTORSHIP_PROFILES_AGGREGATE_CALLERS``
(analytics); anyone else, a director included, is 403.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.profiles.adapters.container import Container
from services.profiles.domain.demographics import breakdown
from shared.auth import Principal, Role, require_roles
from shared.errors import InvalidCommand
from shared.fields import Id
from shared.limits import BULK_BODY_BYTES

router = APIRouter(tags=["aggregates"])

MAX_GROUPS = 10
MAX_IDS = 100_000
"""Participants one question may name, over every group (a large institution's whole program)."""

Label = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class DemographicsQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dimension: Literal["gender", "race_ethnicity", "first_generation"]
    groups: dict[Label, Annotated[list[Id], Field(max_length=MAX_IDS)]] = Field(
        min_length=1,
        max_length=MAX_GROUPS,
        description="Label (lower case, digits, _; up to 40) → participant ids; groups must not overlap",
    )
    min_cell: int = Field(default=0, ge=0, le=1000, description="Smallest cell shown; never below the service's own")


class Category(BaseModel):
    category: str = Field(description="A consented answer (trimmed, lower case), `other` (pooled) or `not_given`")
    people: int | None = Field(description="People of the groups in this category; null when withheld")
    counts: dict[str, int | None] = Field(description="Per group; null when withheld")


class DemographicsAnswer(BaseModel):
    dimension: str
    min_cell: int = Field(description="The smallest cell shown (the larger of the asked and the service's own)")
    groups: list[str]
    categories: list[Category]


def _analytics(
    principal: Annotated[Principal, Depends(require_roles(Role.service))], container: Container
) -> Principal:
    if principal.subject not in container.aggregates.aggregate_callers:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="demographic aggregates are for the analytics service")
    return principal


@router.post("/aggregates/demographics", response_model=DemographicsAnswer, max_body_size=BULK_BODY_BYTES)
async def demographics(
    body: DemographicsQuestion, container: Container, _: Annotated[Principal, Depends(_analytics)]
) -> DemographicsAnswer:
    """Per category of `dimension`, the consented participants of each group; small cells withheld (null)."""
    seen: dict[str, str] = {}
    total = 0
    for label, ids in body.groups.items():
        total += len(ids)
        if total > MAX_IDS:
            raise InvalidCommand(f"groups.{label}", f"more than {MAX_IDS} ids over all groups")
        if len(set(ids)) != len(ids):
            raise InvalidCommand(f"groups.{label}", "an id is named twice in the group")
        for participant_id in ids:
            other = seen.setdefault(participant_id, label)
            if other != label:
                raise InvalidCommand(f"groups.{label}", f"an id is also in group {other}: groups must not overlap")
    answers = await container.queries.demographics(list(seen))
    min_cell = max(body.min_cell, container.aggregates.aggregate_min_cell)
    return DemographicsAnswer(**breakdown(body.dimension, body.groups, answers, min_cell))
