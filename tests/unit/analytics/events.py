"""Catalog events as the projector sees them: envelopes decoded by ``read_envelope`` (msgspec)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from shared.envelope import Envelope, EnvelopeRecord, read_envelope
from shared.events import Event
from shared.events.hr import Worker, WorkerHired
from shared.events.profiles import MenteeRegistered, MentorRegistered, ProfileFields
from shared.events.relationships import (
    AgreementSigned,
    FeedbackSubmitted,
    MeetingLogged,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
    SmartGoal,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def envelope(
    event: Event | None = None,
    *,
    at: datetime = T0,
    type_name: str | None = None,
    data: dict[str, Any] | None = None,
    source: str | None = None,
    schemaversion: int | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    """``event`` (or a raw ``type_name`` and ``data``) in an envelope."""
    owner = event.owner if event is not None else "relationships"
    return Envelope(
        id=event_id or uuid.uuid4(),
        source=source or f"/services/{owner}",
        type=type_name or event.type_name(),
        time=at,
        subject="s-1",
        correlationid=uuid.uuid4(),
        sequence=1,
        schemaversion=schemaversion or (event.schema_version if event is not None else 1),
        data=data if data is not None else event.model_dump(mode="json"),
    )


def record(event: Event | None = None, **fields: Any) -> EnvelopeRecord:
    """The envelope as the projector sees it: encoded, then decoded as on the bus (``read_envelope``)."""
    return read_envelope(envelope(event, **fields).to_bytes())


def profile(department: str | None = "Medicine") -> ProfileFields:
    return ProfileFields(
        biography="Clinician-scientist.",
        specialty="cardiology",
        interests=["grants"],
        career_stage="mid_career",
        department=department,
        time_zone="America/Chicago",
    )


def mentor(participant_id: str, capacity: int = 2, employee_id: str | None = None, **fields) -> MentorRegistered:
    return MentorRegistered(
        participant_id=participant_id,
        employee_id=employee_id,
        name="Dr. Mentor",
        email="mentor@example.edu",
        profile=profile(**fields),
        capacity=capacity,
    )


def mentee(participant_id: str, employee_id: str | None = None, **fields) -> MenteeRegistered:
    return MenteeRegistered(
        participant_id=participant_id,
        employee_id=employee_id,
        name="Dr. Mentee",
        email="mentee@example.edu",
        profile=profile(**fields),
    )


def worker(employee_id: str, hired_on: date, department: str = "Medicine", **fields) -> Worker:
    return Worker(
        employee_id=employee_id,
        legal_name="Ada Lovelace",
        work_email="ada@example.edu",
        title="Assistant Professor",
        job_function="faculty",
        department_id=department[:3].upper(),
        department_name=department,
        country="US",
        original_hire_date=hired_on,
        last_hire_date=fields.pop("last_hire_date", hired_on),
        **fields,
    )


def hired(employee_id: str, on: date, **fields) -> WorkerHired:
    return WorkerHired(
        employee_id=employee_id, effective_date=on, recorded_at=T0, worker=worker(employee_id, on, **fields)
    )


def started(
    relationship_id: str, mentor_id: str, mentee_id: str, on: date, match_id: str = "mt-1"
) -> RelationshipStarted:
    return RelationshipStarted(
        relationship_id=relationship_id,
        model="one_to_one",
        mentor_id=mentor_id,
        mentee_ids=[mentee_id],
        match_id=match_id,
        started_on=on,
    )


def goal(goal_id: str) -> SmartGoal:
    return SmartGoal(goal_id=goal_id, text="Submit the grant", measure="submitted", due_on=date(2026, 12, 1))


def signed(relationship_id: str, on: date, cadence: int = 4, goals: int = 0) -> AgreementSigned:
    return AgreementSigned(
        relationship_id=relationship_id,
        cadence_weeks_min=1,
        cadence_weeks_max=cadence,
        format="video",
        confidentiality_accepted=True,
        no_fault_termination_acknowledged=True,
        goals=[goal(f"g{i}") for i in range(goals)],
        signed_by=["a", "b"],
        signed_on=on,
        review_due_on=on + timedelta(days=365),
    )


def meeting(relationship_id: str, meeting_id: str, on: date) -> MeetingLogged:
    return MeetingLogged(
        relationship_id=relationship_id, meeting_id=meeting_id, held_on=on, duration_minutes=30, format="video"
    )


def lagging(relationship_id: str) -> RelationshipLagging:
    return RelationshipLagging(
        relationship_id=relationship_id, last_meeting_on=None, days_since=70, cadence_weeks_max=8
    )


def closed(relationship_id: str, on: date, reason: str = "objectives_achieved") -> RelationshipClosed:
    return RelationshipClosed(
        relationship_id=relationship_id,
        reason=reason,
        mentor_id="b",
        mentee_ids=["m1"],
        rematch_requested=False,
        closed_on=on,
    )


def feedback(relationship_id: str, role: str = "mentee", satisfaction: int = 4) -> FeedbackSubmitted:
    return FeedbackSubmitted(
        relationship_id=relationship_id,
        survey="relationship_feedback",
        respondent_id="m1",
        respondent_role=role,
        satisfaction=satisfaction,
        goals_met=True,
        would_recommend=False,
    )
