"""Who is told what: pure rules from an event (and what notifications remembers) to notices.

A notice names a recipient, a template and the template's context.  Context
values ending in ``_id`` that name a participant are resolved to name and
address only when the message is rendered, so no address is copied here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.events.matching import (
    MatchApproved,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
)
from shared.events.relationships import (
    AgreementReviewDue,
    RelationshipClosed,
    RelationshipLagging,
)


@dataclass(frozen=True)
class Notice:
    recipient_id: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


def introduction(event: MatchApproved) -> list[Notice]:
    context = {"match_id": event.match_id, "mentee_id": event.mentee_id, "mentor_id": event.mentor_id}
    return [
        Notice(event.mentee_id, "introduction", {**context, "role": "mentee", "other_id": event.mentor_id}),
        Notice(event.mentor_id, "introduction", {**context, "role": "mentor", "other_id": event.mentee_id}),
    ]


def request_forwarded(event: RequestForwarded, biography: str) -> list[Notice]:
    return [
        Notice(
            event.mentor_id,
            "request_forwarded",
            {
                "request_id": event.request_id,
                "mentee_id": event.mentee_id,
                "biography": biography,
                "respond_by": event.respond_by.isoformat(),
                "choice_rank": event.choice_rank,
            },
        )
    ]


def response_reminder(request_id: str, mentor_id: str, mentee_id: str, respond_by: str) -> list[Notice]:
    return [
        Notice(
            mentor_id,
            "response_reminder",
            {
                "request_id": request_id,
                "mentee_id": mentee_id,
                "respond_by": respond_by,
            },
        )
    ]


def request_for_review(event: RequestRanked, directors: Sequence[str]) -> list[Notice]:
    context = {
        "request_id": event.request_id,
        "mentee_id": event.mentee_id,
        "biography": event.biography,
        "motivation": event.motivation,
        "ranked_mentor_ids": list(event.ranked_mentor_ids),
    }
    return [Notice(director, "request_for_review", context) for director in directors]


def request_unmatched(event: RequestUnmatched, directors: Sequence[str]) -> list[Notice]:
    context = {
        "request_id": event.request_id,
        "mentee_id": event.mentee_id,
        "tried_mentor_ids": list(event.tried_mentor_ids),
    }
    return [Notice(director, "request_unmatched", context) for director in directors]


def rematch_requested(event: RelationshipClosed, directors: Sequence[str]) -> list[Notice]:
    if not event.rematch_requested:
        return []
    context = {
        "relationship_id": event.relationship_id,
        "mentor_id": event.mentor_id,
        "mentee_ids": list(event.mentee_ids),
        "reason": event.reason,
        "closed_on": event.closed_on.isoformat(),
    }
    return [Notice(director, "rematch_requested", context) for director in directors]


def request_declined(event: RequestReviewed, mentee_id: str) -> list[Notice]:
    if event.approved:
        return []
    return [
        Notice(
            mentee_id,
            "request_declined",
            {
                "request_id": event.request_id,
                "mentee_id": mentee_id,
                "reason": event.decline_reason,
            },
        )
    ]


def request_expired(event: RequestExpired, mentee_id: str) -> list[Notice]:
    return [
        Notice(
            mentee_id,
            "request_expired",
            {
                "request_id": event.request_id,
                "mentee_id": mentee_id,
                "mentor_id": event.mentor_id,
                "choice_rank": event.choice_rank,
            },
        )
    ]


def to_parties(
    template: str,
    mentor_id: str | None,
    mentee_ids: Sequence[str],
    context: dict[str, Any],
    co_mentor_ids: Sequence[str] = (),
) -> list[Notice]:
    """Every party: the mentor (none in a peer circle), a group's co-mentors and the mentees (a circle's members)."""
    base = {**context, "mentor_id": mentor_id, "mentee_ids": list(mentee_ids)}
    return [Notice(p, template, base) for p in dict.fromkeys((mentor_id, *co_mentor_ids, *mentee_ids)) if p]


def lagging(
    event: RelationshipLagging, mentor_id: str | None, mentee_ids: Sequence[str], co_mentor_ids: Sequence[str] = ()
) -> list[Notice]:
    return to_parties(
        "relationship_lagging",
        mentor_id,
        mentee_ids,
        {
            "relationship_id": event.relationship_id,
            "days_since": event.days_since,
            "last_meeting_on": event.last_meeting_on.isoformat() if event.last_meeting_on else None,
            "cadence_weeks_max": event.cadence_weeks_max,
        },
        co_mentor_ids,
    )


def review_due(
    event: AgreementReviewDue, mentor_id: str | None, mentee_ids: Sequence[str], co_mentor_ids: Sequence[str] = ()
) -> list[Notice]:
    return to_parties(
        "agreement_review_due",
        mentor_id,
        mentee_ids,
        {
            "relationship_id": event.relationship_id,
            "due_on": event.due_on.isoformat(),
        },
        co_mentor_ids,
    )
