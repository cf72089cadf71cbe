"""Reads, each with its access rule: parties see everything of theirs, the director sees status and dates only."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.relationships.adapters import confidential, drafts, read_model
from services.relationships.application.deps import Deps
from services.relationships.domain.errors import NotAParty, RelationshipNotFound


async def relationship_status(
    pool: asyncpg.Pool, relationship_id: str, reader: str, *, director: bool
) -> dict[str, Any]:
    row = await read_model.fetch(pool, relationship_id)
    if row is None:
        raise RelationshipNotFound(f"no relationship {relationship_id}")
    if not director and reader != row["mentor_id"] and reader not in row["mentee_ids"]:
        raise NotAParty(f"{reader} is not a party of relationship {relationship_id}")
    return row


async def relationship_detail(pool: asyncpg.Pool, deps: Deps, relationship_id: str, reader: str) -> dict[str, Any]:
    """For the parties: status plus agreement, goals and meetings (without notes)."""
    async with pool.acquire() as conn:
        status = await read_model.fetch(conn, relationship_id)
        relationship = await deps.relationships.get(conn, relationship_id)
        relationship.require_party(reader)
        draft = await drafts.load(conn, relationship_id)
    assert status is not None
    return {
        **status,
        "agreement": None
        if draft is None
        else {
            "revision": draft.revision,
            "terms": draft.terms.model_dump(mode="json"),
            "proposed_by": draft.proposed_by,
            "signatures": {p: on.isoformat() for p, on in draft.signatures.items()},
            "concluded": draft.concluded,
        },
        "goals": [
            {
                **g.goal.model_dump(mode="json"),
                "mentee_id": g.mentee_id,
                "status": g.status,
                "progress_percent": g.progress_percent,
            }
            for g in relationship.goals.values()
        ],
        "meetings": [
            {
                "meeting_id": m.meeting_id,
                "held_on": m.held_on,
                "duration_minutes": m.duration_minutes,
                "format": m.format,
                "topic_tags": m.topic_tags,
            }
            for m in sorted(relationship.meetings.values(), key=lambda m: (m.held_on, m.meeting_id))
        ],
        "open_survey": relationship.survey,
    }


async def confidential_texts(
    pool: asyncpg.Pool, deps: Deps, relationship_id: str, reader: str, kind: confidential.Kind
) -> list[confidential.ConfidentialText]:
    """Only the relationship's own parties; the program director and analysts never read these."""
    async with pool.acquire() as conn:
        relationship = await deps.relationships.get(conn, relationship_id)
        if not relationship.is_party(reader):
            what = "meeting notes" if kind == "meeting_note" else "survey comments"
            raise NotAParty(f"{what} are confidential to the parties of relationship {relationship_id}")
        return await confidential.read(conn, deps.cipher, kind, relationship_id)
