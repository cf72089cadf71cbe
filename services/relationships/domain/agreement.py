"""The mentoring agreement while the parties negotiate it: terms, revisions and signatures.

A draft is a working document, not a fact: only the agreement all parties signed
becomes an event (``AgreementSigned``).  Changing the terms starts a new revision
and drops the signatures given to the old one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.relationships.domain.errors import (
    InvalidCommand,
    RelationshipRuleViolation,
)
from services.relationships.domain.program import Terms
from shared.events.profiles import MeetingFormat
from shared.events.relationships import SmartGoal


class Milestone(BaseModel):
    """A step of the individual development plan, placed on its timeline."""

    model_config = ConfigDict(frozen=True)

    title: str = Field(min_length=1, max_length=300)
    due_on: date


class AgreementTerms(BaseModel):
    model_config = ConfigDict(frozen=True)

    cadence_weeks_min: int = Field(default=6, ge=1, le=52, description="Meet at least every N..M weeks")
    cadence_weeks_max: int = Field(default=8, ge=1, le=52)
    format: MeetingFormat
    goals: list[SmartGoal] = Field(default_factory=list, max_length=20, description="SMART objectives")
    development_plan: list[Milestone] = Field(default_factory=list, max_length=50)
    review_due_on: date | None = Field(default=None, description="Default: a year after signing")

    @model_validator(mode="after")
    def _coherent(self) -> AgreementTerms:
        if self.cadence_weeks_min > self.cadence_weeks_max:
            raise ValueError("cadence_weeks_min exceeds cadence_weeks_max")
        if len({g.goal_id for g in self.goals}) != len(self.goals):
            raise ValueError("goal ids must be distinct")
        return self

    def check_dates(self, today: date) -> None:
        for i, goal in enumerate(self.goals):
            if goal.due_on <= today:
                raise InvalidCommand(f"goals.{i}.due_on", "a goal falls due after today")
        for i, milestone in enumerate(self.development_plan):
            if milestone.due_on < today:
                raise InvalidCommand(f"development_plan.{i}.due_on", "a milestone lies on the timeline ahead")


class AgreementProposal(BaseModel):
    """Terms as a party proposes them: the cadence left out is the program's (``Terms``)."""

    model_config = ConfigDict(frozen=True)

    cadence_weeks_min: int | None = Field(default=None, ge=1, le=52)
    cadence_weeks_max: int | None = Field(default=None, ge=1, le=52)
    format: MeetingFormat
    goals: list[SmartGoal] = Field(default_factory=list, max_length=20)
    development_plan: list[Milestone] = Field(default_factory=list, max_length=50)
    review_due_on: date | None = Field(default=None, description="Default: the program's review interval")

    @model_validator(mode="after")
    def _coherent(self) -> AgreementProposal:
        low, high = self.cadence_weeks_min, self.cadence_weeks_max
        if low is not None and high is not None and low > high:
            raise ValueError("cadence_weeks_min exceeds cadence_weeks_max")
        if len({g.goal_id for g in self.goals}) != len(self.goals):
            raise ValueError("goal ids must be distinct")
        return self

    def terms(self, program: Terms) -> AgreementTerms:
        """The terms with the program's cadence where the proposal has none; a one-sided cadence keeps the
        program's other bound unless it would cross the given one."""
        low, high = self.cadence_weeks_min, self.cadence_weeks_max
        if low is None:
            low = program.cadence_weeks_min if high is None else min(program.cadence_weeks_min, high)
        if high is None:
            high = max(program.cadence_weeks_max, low)
        if low > high:
            raise InvalidCommand("cadence_weeks_min", "exceeds cadence_weeks_max")
        try:
            return AgreementTerms(
                cadence_weeks_min=low,
                cadence_weeks_max=high,
                format=self.format,
                goals=self.goals,
                development_plan=self.development_plan,
                review_due_on=self.review_due_on,
            )
        except ValueError as exc:
            raise InvalidCommand("goals", "goal ids must be distinct") from exc


@dataclass
class AgreementDraft:
    relationship_id: str
    revision: int
    terms: AgreementTerms
    proposed_by: str
    signatures: dict[str, date] = field(default_factory=dict)
    concluded: bool = False

    @classmethod
    def propose(
        cls, previous: AgreementDraft | None, relationship_id: str, terms: AgreementTerms, by: str, today: date
    ) -> AgreementDraft:
        terms.check_dates(today)
        revision = previous.revision + 1 if previous else 1
        return cls(relationship_id, revision, terms, by)

    def sign(
        self, party: str, revision: int, today: date, *, confidentiality_accepted: bool, no_fault_acknowledged: bool
    ) -> None:
        if self.concluded:
            raise RelationshipRuleViolation(
                f"agreement revision {self.revision} of relationship {self.relationship_id}"
                " is already signed by all parties"
            )
        if revision != self.revision:
            raise RelationshipRuleViolation(
                f"revision {revision} is not the current draft: revision {self.revision} is; read it and sign that"
            )
        if party in self.signatures:
            raise RelationshipRuleViolation(f"{party} has already signed revision {self.revision}")
        if not confidentiality_accepted:
            raise InvalidCommand("confidentiality_accepted", "each party accepts confidentiality to sign")
        if not no_fault_acknowledged:
            raise InvalidCommand(
                "no_fault_termination_acknowledged", "each party acknowledges no-fault termination to sign"
            )
        self.signatures[party] = today

    def signed_by_all(self, parties: list[str]) -> bool:
        return set(parties) <= set(self.signatures)
