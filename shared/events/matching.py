"""Events published by the matching service on ``matching.events``.

Subject: the request id for request events, the match id for ``MatchApproved``,
the run id for bulk runs.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events.base import Event

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ChoiceRank = Annotated[int, Field(ge=1, le=3, description="1 = the mentee's first choice")]
MatchMode = Literal["director", "self", "admin", "bulk"]


class _MatchingEvent(Event):
    owner: ClassVar[str] = "matching"


class RequestRanked(_MatchingEvent):
    """A mentee asks for mentorship, naming up to three mentors in order of preference.

    Its mentee is the request's data subject: later events' personal fields (a decline reason, a mentor's
    reason) are sealed with the mentee's key."""

    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_id",)

    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    biography: str = Field(min_length=1, max_length=4000, json_schema_extra={"personal": True})
    motivation: str = Field(
        min_length=1,
        max_length=4000,
        description="Why the mentee seeks mentorship",
        json_schema_extra={"personal": True},
    )
    ranked_mentor_ids: list[Id] = Field(
        min_length=1,
        max_length=3,
        description="First choice first",
        json_schema_extra={"uniqueItems": True, "person_id": True},
    )

    @model_validator(mode="after")
    def _distinct_mentors(self) -> RequestRanked:
        if len(set(self.ranked_mentor_ids)) != len(self.ranked_mentor_ids):
            raise ValueError("ranked mentors must be distinct")
        if self.mentee_id in self.ranked_mentor_ids:
            raise ValueError("a mentee cannot rank themselves")
        return self


class RequestReviewed(_MatchingEvent):
    request_id: Id
    reviewer_id: Id = Field(description="The program director who reviewed it", json_schema_extra={"person_id": True})
    approved: bool
    decline_reason: str | None = Field(default=None, max_length=2000, json_schema_extra={"personal": True})

    @model_validator(mode="after")
    def _reason_iff_declined(self) -> RequestReviewed:
        if not self.approved and not (self.decline_reason and self.decline_reason.strip()):
            raise ValueError("a declined request needs a reason")
        if self.approved and self.decline_reason is not None:
            raise ValueError("an approved request has no decline reason")
        return self


class RequestForwarded(_MatchingEvent):
    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    choice_rank: ChoiceRank
    respond_by: AwareDatetime = Field(description="Deadline; a missed one passes the request on")


class MentorResponded(_MatchingEvent):
    request_id: Id
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    choice_rank: ChoiceRank
    accepted: bool
    reason: str | None = Field(default=None, max_length=2000, json_schema_extra={"personal": True})


class RequestExpired(_MatchingEvent):
    """The mentor let the response deadline pass; counts as a decline."""

    request_id: Id
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    choice_rank: ChoiceRank
    respond_by: AwareDatetime


class MatchApproved(_MatchingEvent):
    match_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    mentor_id: Id = Field(json_schema_extra={"person_id": True})
    mode: MatchMode
    request_id: Id | None = Field(default=None, description="None when no request preceded the match")
    choice_rank: ChoiceRank | None = Field(default=None, description="None for admin and bulk matches")
    run_id: Id | None = Field(default=None, description="The bulk run, for bulk matches only")
    approved_by: Id | None = Field(
        default=None, description="Director or admin who approved, if any", json_schema_extra={"person_id": True}
    )
    time_to_match_seconds: float | None = Field(
        default=None, ge=0, description="From request submission to match; None without a request"
    )

    @model_validator(mode="after")
    def _consistent_with_mode(self) -> MatchApproved:
        if self.mentee_id == self.mentor_id:
            raise ValueError("a participant cannot mentor themselves")
        if self.mode == "director" and (self.request_id is None or self.choice_rank is None):
            raise ValueError("a director-flow match names its request and choice rank")
        if self.mode in ("admin", "bulk") and self.choice_rank is not None:
            raise ValueError("admin and bulk matches have no choice rank")
        if (self.mode == "bulk") != (self.run_id is not None):
            raise ValueError("run_id is given exactly for bulk matches")
        return self


class RequestUnmatched(_MatchingEvent):
    """Every ranked mentor declined or let the deadline pass; back to the director for an admin match."""

    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    tried_mentor_ids: list[Id] = Field(min_length=1, max_length=3, json_schema_extra={"person_id": True})


class RequestWithdrawn(_MatchingEvent):
    data_subjects: ClassVar[tuple[str, ...]] = ("mentee_id",)

    request_id: Id
    mentee_id: Id = Field(json_schema_extra={"person_id": True})
    reason: str | None = Field(default=None, max_length=2000, json_schema_extra={"personal": True})


class BulkMatchSummary(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    mentees: int = Field(ge=0, description="Mentees in the cohort")
    mentors: int = Field(ge=0, description="Mentors with spare capacity")
    pairs: int = Field(ge=0)
    unmatched_mentees: int = Field(ge=0)
    total_score: float = Field(ge=0)
    mean_score: float = Field(ge=0, le=1, description="Mean compatibility of the proposed pairs, 0-1")


class BulkMatchProposed(_MatchingEvent):
    """A cohort assignment is ready for admin review; the pairs stay in the matching database."""

    run_id: Id
    cohort: str = Field(min_length=1, max_length=200)
    mode: Literal["optimal", "stable"] = Field(
        description="optimal: maximum total compatibility; stable: no blocking mentee-mentor pair"
    )
    requested_by: Id = Field(json_schema_extra={"person_id": True})
    summary: BulkMatchSummary


class BulkMatchCommitted(_MatchingEvent):
    """The admin accepted the run; each pair follows as its own MatchApproved (mode bulk)."""

    run_id: Id
    committed_by: Id = Field(json_schema_extra={"person_id": True})
    pair_count: int = Field(ge=0)
    overridden_count: int = Field(default=0, ge=0, description="Pairs the admin changed before committing")
