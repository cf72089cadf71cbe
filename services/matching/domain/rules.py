"""Matching's named rules on facts its ports answer.  Pure: a port reads the facts, a rule decides.

- ``SUBMISSION_RULES``: a mentee may ask for mentorship in a program (registered and active, enrolled there,
  no open request and no mentor *in that program*: one mentor per program at a time).
- ``exclusion``: why a mentor may not be offered a mentee now (ranked choices, forwarding, admin matches).
- ``check_reader`` / ``check_withdrawer``: who may read or withdraw a request; to anyone else a request
  does not exist (404, the same answer as for an id nobody holds), so ids cannot be probed.
- ``may_read_personal_text`` / ``as_read_by``: the mentee's biography and motivation reach a mentor only
  while the request waits for that mentor's answer, or once it matched them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.matching.domain.errors import MatchingRuleViolation, NotAllowed, NotFound

PERSONAL_TEXT = ("biography", "motivation", "mentee_name")
"""What the mentee wrote for the request, and their name: theirs, the director's, and the mentor's who is asked
or matched."""


@dataclass(frozen=True)
class MenteeStanding:
    """Where a mentee stands when asking: ``active`` is None for someone who never registered as a mentee."""

    mentee_id: str
    active: bool | None
    open_request_id: str | None = None
    """An open request in the program asked about."""
    mentor_id: str | None = None
    """A mentor in the program asked about (one mentor per program at a time)."""
    enrolled: bool = True
    """Enrolled as a mentee in the program (everyone is, in "default")."""
    unmatched_request_ids: tuple[str, ...] = ()
    """Their requests in the program left unmatched: a new request there supersedes them."""


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
        raise MatchingRuleViolation(
            f"mentee {standing.mentee_id} already has a mentor in this program ({standing.mentor_id})"
        )


def enrolled_in_program(standing: MenteeStanding) -> None:
    if not standing.enrolled:
        raise MatchingRuleViolation(f"mentee {standing.mentee_id} is not enrolled as a mentee in this program")


SUBMISSION_RULES: tuple[Callable[[MenteeStanding], None], ...] = (
    registered_and_active,
    enrolled_in_program,
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
    enrolled: bool = True
    """Enrolled as a mentor in the request's program (everyone is, in "default")."""


def exclusion(mentor_id: str, standing: MentorStanding | None, line_above: Collection[str]) -> str | None:
    """Why ``mentor_id`` may not be offered the mentee now (None: they may); ``line_above``: the mentee's
    reporting line upwards."""
    if standing is None:
        return f"{mentor_id} is not a mentor in the directory"
    if not standing.active:
        return f"mentor {mentor_id} is not active"
    if not standing.enrolled:
        return f"mentor {mentor_id} is not enrolled as a mentor in this program"
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
    """The director reads every request; the mentee their own; a mentor those forwarded to them.

    To anyone else the request is not found, in the same words as an id nobody holds."""
    if not (director or subject == mentee_id or subject in forwarded_to):
        raise NotFound(f"no request {request_id}")


def check_withdrawer(
    request_id: str, subject: str, mentee_id: str, forwarded_to: Collection[str], *, director: bool
) -> None:
    """Only the director and the request's own mentee may withdraw it."""
    check_reader(request_id, subject, mentee_id, forwarded_to, director=director)
    if not director and subject != mentee_id:
        raise NotAllowed(f"request {request_id} is not yours to withdraw")


def may_read_personal_text(
    subject: str, *, director: bool, mentee_id: str, status: str, mentor_id: str | None, matched_mentor_id: str | None
) -> bool:
    """The director and the mentee always; a mentor while the request waits for their answer, or once it
    matched them. A mentor who declined, let the deadline pass, was passed over or saw the request withdrawn
    keeps seeing that it existed (status, dates, their own turn) but no longer what the mentee wrote."""
    if director or subject == mentee_id:
        return True
    return (status == "forwarded" and subject == mentor_id) or subject == matched_mentor_id


def as_read_by(view: Mapping[str, Any], subject: str, *, director: bool) -> dict[str, Any]:
    """The request view as ``subject`` may read it: the personal text left out (``None``) where they may not."""
    check_reader(view["request_id"], subject, view["mentee_id"], view["forwarded_to"] or (), director=director)
    shown = dict(view)
    if not may_read_personal_text(
        subject,
        director=director,
        mentee_id=view["mentee_id"],
        status=view["status"],
        mentor_id=view["mentor_id"],
        matched_mentor_id=view["matched_mentor_id"],
    ):
        shown.update(dict.fromkeys(PERSONAL_TEXT))
    if not director and subject != view["mentee_id"]:
        shown["priority_group"] = None  # the review queue's order is the director's; a mentor is never told it
    return shown
