"""Mentorship request aggregate: decides from commands, evolves from its events.  No I/O.

submitted → (declined | forwarded to choice 1 → 2 → 3) → matched | unmatched; open requests can be
withdrawn.  An unmatched request waits for the director's admin match.  A request's match id is the
request id, so the ``MatchApproved`` of a request lives on the request's own stream.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from services.matching.domain.errors import (
    InvalidCommand,
    MatchingRuleViolation,
    NotAllowed,
    NotFound,
)
from shared.aggregate import Aggregate
from shared.events import Event
from shared.events.matching import (
    DEFAULT_PROGRAM,
    MatchApproved,
    MentorResponded,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
    RequestWithdrawn,
)

Status = Literal["new", "submitted", "declined", "forwarded", "matched", "unmatched", "withdrawn"]
OPEN: frozenset[str] = frozenset({"submitted", "forwarded"})
WITHDRAWABLE: frozenset[str] = frozenset({"submitted", "forwarded", "unmatched"})
MAX_CHOICES = 3

_REMATCH_NAMESPACE = uuid.UUID("0c9b3c55-54a4-4bb8-8a4e-5d1f3bb4a0e2")

Eligible = Callable[[str], bool]
"""Whether a ranked mentor may be offered the request now (active, open slot, not in the reporting line)."""


def rematch_request_id(relationship_id: str, mentee_id: str) -> str:
    """A closure's rematch request: deterministic, so a redelivered closure never opens a second one."""
    return str(uuid.uuid5(_REMATCH_NAMESPACE, f"{relationship_id}/{mentee_id}"))


def check_choices(mentee_id: str, ranked: Sequence[str]) -> None:
    if not ranked:
        raise InvalidCommand("ranked_mentor_ids", "name at least one mentor")
    if len(ranked) > MAX_CHOICES:
        raise InvalidCommand("ranked_mentor_ids", f"at most {MAX_CHOICES} mentors may be ranked")
    if len(set(ranked)) != len(ranked):
        raise InvalidCommand("ranked_mentor_ids", "ranked mentors must be distinct")
    if mentee_id in ranked:
        raise InvalidCommand("ranked_mentor_ids", "a mentee cannot rank themselves")


@dataclass
class Request(Aggregate):
    id_field = "request_id"

    request_id: str
    version: int = 0
    status: Status = "new"
    mentee_id: str = ""
    biography: str = ""
    motivation: str = ""
    ranked: list[str] = field(default_factory=list)
    submitted_at: datetime | None = None
    choice_rank: int | None = None
    mentor_id: str | None = None
    respond_by: datetime | None = None
    forwarded_to: list[str] = field(default_factory=list)
    decline_reason: str | None = None
    matched_mentor_id: str | None = None
    origin: Literal["mentee", "rematch"] = "mentee"
    program_id: str = DEFAULT_PROGRAM

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    # --- commands -----------------------------------------------------------------

    def submit(
        self,
        mentee_id: str,
        biography: str,
        motivation: str,
        ranked: Sequence[str],
        program_id: str = DEFAULT_PROGRAM,
        *,
        self_match: tuple[Eligible, datetime] | None = None,
    ) -> list[Event]:
        """``self_match`` (eligibility, respond-by) for a self-match program: the request skips the director's
        review and goes straight to the first eligible choice."""
        if self.exists:
            raise MatchingRuleViolation(f"request {self.request_id} already exists")
        check_choices(mentee_id, ranked)
        ranked_event = RequestRanked(
            request_id=self.request_id,
            mentee_id=mentee_id,
            program_id=program_id,
            biography=biography,
            motivation=motivation,
            ranked_mentor_ids=list(ranked),
        )
        if self_match is None:
            return [ranked_event]
        eligible, respond_by = self_match
        submitted = replace(self, status="submitted", mentee_id=mentee_id, ranked=list(ranked), program_id=program_id)
        return [ranked_event, *submitted._forward_from(0, eligible, respond_by)]

    def review(
        self, reviewer_id: str, approved: bool, reason: str | None, eligible: Eligible, respond_by: datetime
    ) -> list[Event]:
        self._require("submitted", "reviewed")
        if not approved and not (reason and reason.strip()):
            raise InvalidCommand("decline_reason", "a declined request needs a reason")
        reviewed = RequestReviewed(
            request_id=self.request_id,
            reviewer_id=reviewer_id,
            approved=approved,
            decline_reason=None if approved else reason,
        )
        return [reviewed, *self._forward_from(0, eligible, respond_by)] if approved else [reviewed]

    def respond(
        self,
        mentor_id: str,
        accepted: bool,
        reason: str | None,
        eligible: Eligible,
        respond_by: datetime,
        now: datetime,
    ) -> list[Event]:
        if not self.exists or mentor_id not in self.forwarded_to:
            raise NotFound(f"no request {self.request_id}")  # never forwarded to them: not theirs to know of
        self._require("forwarded", "answered")
        if mentor_id != self.mentor_id:
            raise NotAllowed(f"request {self.request_id} is not waiting for an answer from {mentor_id}")
        responded = MentorResponded(
            request_id=self.request_id,
            mentor_id=mentor_id,
            choice_rank=self.choice_rank,
            accepted=accepted,
            reason=reason,
        )
        if accepted:
            return [responded, self._match(mentor_id, "director", now, choice_rank=self.choice_rank)]
        return [responded, *self._forward_from(self.choice_rank or 0, eligible, respond_by)]

    def expire(self, now: datetime, eligible: Eligible, respond_by: datetime) -> list[Event]:
        """A missed deadline counts as a decline; a stale or early timer decides nothing."""
        if self.status != "forwarded" or self.respond_by is None or now < self.respond_by:
            return []
        expired = RequestExpired(
            request_id=self.request_id,
            mentor_id=self.mentor_id,
            choice_rank=self.choice_rank,
            respond_by=self.respond_by,
        )
        return [expired, *self._forward_from(self.choice_rank or 0, eligible, respond_by)]

    def pass_on(self, mentor_id: str, eligible: Eligible, respond_by: datetime) -> list[Event]:
        """The mentor it waits for left the program: the next choice gets it."""
        if self.status != "forwarded" or self.mentor_id != mentor_id:
            return []
        return self._forward_from(self.choice_rank or 0, eligible, respond_by)

    def admin_match(self, admin_id: str, mentor_id: str, now: datetime) -> list[Event]:
        self._require("unmatched", "matched by the director")
        if mentor_id == self.mentee_id:
            raise InvalidCommand("mentor_id", "a mentee cannot mentor themselves")
        return [self._match(mentor_id, "admin", now, approved_by=admin_id)]

    def withdraw(self, reason: str | None) -> list[Event]:
        if self.status not in WITHDRAWABLE:
            raise MatchingRuleViolation(f"request {self.request_id} is {self.status} and cannot be withdrawn")
        return [RequestWithdrawn(request_id=self.request_id, mentee_id=self.mentee_id, reason=reason)]

    def reopen_for_rematch(
        self, mentee_id: str, previous_mentor_id: str, program_id: str = DEFAULT_PROGRAM
    ) -> list[Event]:
        """A closed relationship asks for another mentor: a request waiting for the director."""
        if self.exists:
            return []
        return [
            RequestUnmatched(
                request_id=self.request_id,
                mentee_id=mentee_id,
                program_id=program_id,
                tried_mentor_ids=[previous_mentor_id],
            )
        ]

    def _require(self, status: Status, verb: str) -> None:
        if not self.exists:
            raise NotFound(f"no request {self.request_id}")
        if self.status != status:
            raise MatchingRuleViolation(
                f"request {self.request_id} is {self.status}; only a {status} request can be {verb}"
            )

    def _forward_from(self, rank: int, eligible: Eligible, respond_by: datetime) -> list[Event]:
        for index in range(rank, len(self.ranked)):
            if eligible(self.ranked[index]):
                return [
                    RequestForwarded(
                        request_id=self.request_id,
                        mentee_id=self.mentee_id,
                        mentor_id=self.ranked[index],
                        choice_rank=index + 1,
                        respond_by=respond_by,
                    )
                ]
        return [
            RequestUnmatched(
                request_id=self.request_id,
                mentee_id=self.mentee_id,
                program_id=self.program_id,
                tried_mentor_ids=self.forwarded_to or self.ranked,
            )
        ]

    def _match(
        self,
        mentor_id: str,
        mode: Literal["director", "admin"],
        now: datetime,
        *,
        choice_rank: int | None = None,
        approved_by: str | None = None,
    ) -> MatchApproved:
        waited = (now - self.submitted_at).total_seconds() if self.submitted_at else None
        return MatchApproved(
            match_id=self.request_id,
            program_id=self.program_id,
            mentee_id=self.mentee_id,
            mentor_id=mentor_id,
            mode=mode,
            request_id=self.request_id,
            choice_rank=choice_rank,
            approved_by=approved_by,
            time_to_match_seconds=max(waited, 0.0) if waited is not None else None,
        )

    # --- evolution ----------------------------------------------------------------

    def evolve(self, event: Event, at: datetime) -> None:
        match event:
            case RequestRanked():
                self.status, self.mentee_id, self.submitted_at = "submitted", event.mentee_id, at
                self.biography, self.motivation = event.biography, event.motivation
                self.ranked, self.program_id = list(event.ranked_mentor_ids), event.program_id
            case RequestReviewed(approved=False):
                self.status, self.decline_reason = "declined", event.decline_reason
            case RequestForwarded():
                self.status, self.mentor_id, self.choice_rank = "forwarded", event.mentor_id, event.choice_rank
                self.respond_by = event.respond_by
                self.forwarded_to.append(event.mentor_id)
            case RequestUnmatched():
                if self.version == 1:
                    self.mentee_id, self.submitted_at, self.origin = event.mentee_id, at, "rematch"
                    self.program_id = event.program_id
                self.status, self.mentor_id, self.choice_rank, self.respond_by = "unmatched", None, None, None
            case MatchApproved():
                self.status, self.matched_mentor_id, self.respond_by = "matched", event.mentor_id, None
            case RequestWithdrawn():
                self.status, self.respond_by = "withdrawn", None
