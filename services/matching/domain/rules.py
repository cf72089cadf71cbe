"""Matching's named rules on facts its ports answer.  Pure: a port reads the facts, a rule decides.

- ``SUBMISSION_RULES``: a mentee may ask for mentorship (registered and active, no open request, no mentor).
- ``exclusion``: why a mentor may not be offered a mentee now (ranked choices, forwarding, admin matches).
- ``check_reader`` / ``check_withdrawer``: who may read or withdraw a request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from services.matching.domain.errors import MatchingRuleViolation, NotAllowed


@dataclass(frozen=True)
class MenteeStanding:
    """Where a mentee stands when asking: ``active`` is None for someone who never registered as a mentee."""

    mentee_id: str
    active: bool | None
    open_request_id: str | None = None
    mentor_id: str | None = None


def registered_and_active(standing: MenteeStanding) -> None:
    if standing.active is None:
        raise MatchingRuleViolation(f"{standing.mentee_id} is not a registered mentee")
    if not standing.active:
        raise MatchingRuleViolation(f"mentee {standing.mentee_id} is deactivated")


def one_open_request(standing: MenteeStanding) -> None:
    if standing.open_request_id:
        raise MatchingRuleViolation(
            f"mentee {standing.mentee_id} already has an open request {standing.open_request_id}"
        )


def not_already_paired(standing: MenteeStanding) -> None:
    if standing.mentor_id:
        raise MatchingRuleViolation(f"mentee {standing.mentee_id} already has a mentor ({standing.mentor_id})")


SUBMISSION_RULES: tuple[Callable[[MenteeStanding], None], ...] = (
    registered_and_active,
    one_open_request,
    not_already_paired,
)
"""In the order they are checked; the first broken one is the answer."""


def check_submission(standing: MenteeStanding) -> None:
    for rule in SUBMISSION_RULES:
        rule(standing)


@dataclass(frozen=True)
class MentorStanding:
    """A mentor in matching's directory as a mentee's request finds them now."""

    mentor_id: str
    active: bool
    accepting_requests: bool
    capacity: int
    load: int
    paired: bool
    """Already mentors this mentee."""


def exclusion(mentor_id: str, standing: MentorStanding | None, line_above: Collection[str]) -> str | None:
    """Why ``mentor_id`` may not be offered the mentee now (None: they may); ``line_above``: the mentee's
    reporting line upwards."""
    if standing is None:
        return f"{mentor_id} is not a mentor in the directory"
    if not standing.active:
        return f"mentor {mentor_id} is not active"
    if standing.paired:
        return f"mentor {mentor_id} already mentors this mentee"
    if not standing.accepting_requests or standing.load >= standing.capacity:
        return f"mentor {mentor_id} has no capacity left"
    if mentor_id in line_above:
        return f"mentor {mentor_id} is in the mentee's reporting line"
    return None


def exclusions(
    mentor_ids: Sequence[str], standings: Mapping[str, MentorStanding], line_above: Collection[str]
) -> dict[str, str | None]:
    """Per mentor, why they cannot be offered the mentee now, or None."""
    return {mentor_id: exclusion(mentor_id, standings.get(mentor_id), line_above) for mentor_id in mentor_ids}


def check_reader(
    request_id: str, subject: str, mentee_id: str, forwarded_to: Collection[str], *, director: bool
) -> None:
    """The director reads every request; the mentee their own; a mentor those forwarded to them."""
    if not (director or subject == mentee_id or subject in forwarded_to):
        raise NotAllowed(f"request {request_id} is neither yours nor forwarded to you")


def check_withdrawer(
    request_id: str, subject: str, mentee_id: str, forwarded_to: Collection[str], *, director: bool
) -> None:
    """Only the director and the request's own mentee may withdraw it."""
    check_reader(request_id, subject, mentee_id, forwarded_to, director=director)
    if not director and subject != mentee_id:
        raise NotAllowed(f"request {request_id} is not yours to withdraw")
