"""Reads with an access rule: parties see everything of theirs, the director sees status and dates only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.relationships.application.container import Container
from services.relationships.domain.agreement import AgreementDraft
from services.relationships.domain.errors import NotAParty, RelationshipNotFound
from services.relationships.domain.relationship import Goal, Meeting, Relationship


async def show_relationship(c: Container, relationship_id: str, reader: str, *, director: bool) -> dict[str, Any]:
    """The status row for the director; for a party, status plus agreement, goals and meetings (without notes), the
    day the pair counts as lagging if they have not met by then (the route adds the reader's open surveys);
    to anyone else the relationship is not found (404, as an id nobody holds)."""
    async with c.transactions() as conn:
        row = await c.read_model.status(conn, relationship_id)
        if row is None:
            raise RelationshipNotFound(f"no relationship {relationship_id}")
        if reader not in row["mentors"] and reader not in row["members"]:
            if director:
                return row
            raise NotAParty(relationship_id)
        relationship = await c.relationships.get(conn, relationship_id)
        draft = await c.drafts.load(conn, relationship_id)
    return {**row, **_detail(relationship, draft, reader, c.cadence_grace), "meeting_topics": list(c.topics)}


def _detail(relationship: Relationship, draft: AgreementDraft | None, reader: str, grace: timedelta) -> dict[str, Any]:
    meetings = sorted(relationship.meetings.values(), key=lambda m: (m.held_on, m.meeting_id))
    return {
        "agreement": None if draft is None else _agreement(draft),
        "goals": [_goal(g) for g in relationship.goals.values()],
        "meetings": [_meeting(m) for m in meetings],
        "lagging_from": relationship.lagging_on(grace),
    }


def _agreement(draft: AgreementDraft) -> dict[str, Any]:
    return {
        "revision": draft.revision,
        "terms": draft.terms.model_dump(mode="json"),
        "proposed_by": draft.proposed_by,
        "signatures": {p: on.isoformat() for p, on in draft.signatures.items()},
        "concluded": draft.concluded,
    }


def _goal(g: Goal) -> dict[str, Any]:
    return {
        **g.goal.model_dump(mode="json"),
        "mentee_id": g.mentee_id,
        "status": g.status,
        "progress_percent": g.progress_percent,
    }


def _meeting(m: Meeting) -> dict[str, Any]:
    return {
        "meeting_id": m.meeting_id,
        "held_on": m.held_on,
        "duration_minutes": m.duration_minutes,
        "format": m.format,
        "topic_tags": m.topic_tags,
        "attendee_ids": m.attendee_ids,
    }
