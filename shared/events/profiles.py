"""Events published by the profiles service on ``profiles.events``; subject = participant id."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, model_validator

from shared.events.base import Event

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
Interest = Annotated[str, StringConstraints(max_length=100)]
LanguageCode = Annotated[str, StringConstraints(max_length=35)]

CareerStage = Literal["student", "trainee", "early_career", "mid_career", "senior", "emeritus"]
MeetingFormat = Literal["in_person", "video", "phone", "hybrid"]
TrainingStatus = Literal["untrained", "handbook_completed", "workshop_completed"]
MAX_CAPACITY = 20


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProfileFields(_Part):
    biography: str = Field(max_length=4000, json_schema_extra={"personal": True})
    specialty: str = Field(max_length=200, description="Field or specialty, e.g. cardiology")
    interests: list[Interest] = Field(default_factory=list, max_length=30, description="Each up to 100 characters")
    career_stage: CareerStage
    job_function: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=200, description="Department or college")
    location: str | None = Field(default=None, max_length=200)
    time_zone: str = Field(default="UTC", max_length=64, description="IANA zone, e.g. America/Chicago")
    languages: list[LanguageCode] = Field(default_factory=lambda: ["en"], max_length=20, description="BCP 47 tags")


class Demographics(_Part):
    """Self-described and optional; used only where the participant consented."""

    consented: bool = Field(description="Whether these answers may be used in matching and aggregates")
    gender: str | None = Field(default=None, max_length=100)
    race_ethnicity: str | None = Field(default=None, max_length=200)
    first_generation: bool | None = Field(default=None, description="First in family to attend college")

    @model_validator(mode="after")
    def _nothing_without_consent(self) -> Demographics:
        answered = (self.gender, self.race_ethnicity, self.first_generation)
        if not self.consented and any(value is not None for value in answered):
            raise ValueError("demographics may only be given with consent")
        return self


class Availability(_Part):
    accepting_requests: bool = True
    hours_per_month: int | None = Field(default=None, ge=0, le=40)
    formats: list[MeetingFormat] = Field(default_factory=lambda: ["video"], max_length=4)


class FieldChange(_Part):
    field: str = Field(min_length=1, max_length=100, description="Dotted path, e.g. profile.interests")
    old: JsonValue = Field(json_schema_extra={"personal": True})
    new: JsonValue = Field(json_schema_extra={"personal": True})


class _ProfilesEvent(Event):
    owner: ClassVar[str] = "profiles"


class _Registered(_ProfilesEvent):
    data_subjects: ClassVar[tuple[str, ...]] = ("participant_id",)

    participant_id: Id = Field(json_schema_extra={"person_id": True})
    employee_id: Id | None = Field(
        default=None, description="HR worker id when the participant is staff", json_schema_extra={"person_id": True}
    )
    name: str = Field(min_length=1, max_length=200, json_schema_extra={"personal": True})
    email: Email = Field(json_schema_extra={"personal": True})
    profile: ProfileFields
    demographics: Demographics | None = Field(default=None, json_schema_extra={"personal": True})
    priority_group: str | None = Field(
        default=None, max_length=100, description="Program-defined group served first, e.g. committee_member"
    )


class MentorRegistered(_Registered):
    capacity: int = Field(ge=0, le=MAX_CAPACITY, description="Mentees at once, the mentor's own choice")
    training_status: TrainingStatus = "untrained"
    availability: Availability = Field(default_factory=Availability)


class MenteeRegistered(_Registered):
    pass


class ProfileUpdated(_ProfilesEvent):
    """Carries only the changed fields, never the whole profile again."""

    data_subjects: ClassVar[tuple[str, ...]] = ("participant_id",)

    participant_id: Id = Field(json_schema_extra={"person_id": True})
    changes: list[FieldChange] = Field(min_length=1)
    source: Literal["participant", "admin", "hr_feed"] = "participant"

    @model_validator(mode="after")
    def _each_field_once(self) -> ProfileUpdated:
        fields = [change.field for change in self.changes]
        if len(fields) != len(set(fields)):
            raise ValueError("a field may change only once per event")
        return self


class MentorCapacityChanged(_ProfilesEvent):
    participant_id: Id = Field(json_schema_extra={"person_id": True})
    old_capacity: int = Field(ge=0, le=MAX_CAPACITY)
    new_capacity: int = Field(ge=0, le=MAX_CAPACITY)

    @model_validator(mode="after")
    def _is_a_change(self) -> MentorCapacityChanged:
        if self.old_capacity == self.new_capacity:
            raise ValueError("capacity did not change")
        return self


class MentorTrainingCompleted(_ProfilesEvent):
    participant_id: Id = Field(json_schema_extra={"person_id": True})
    kind: Literal["workshop", "handbook"]
    completed_on: date


class ParticipantDeactivated(_ProfilesEvent):
    participant_id: Id = Field(json_schema_extra={"person_id": True})
    reason: Literal["left_institution", "on_leave", "admin"]
    effective_date: date


class ParticipantReactivated(_ProfilesEvent):
    participant_id: Id = Field(json_schema_extra={"person_id": True})
    effective_date: date


class ParticipantErased(_ProfilesEvent):
    """Right to erasure: every consumer drops the personal data it holds for the participant.

    Carries no personal data itself; aggregates already counted stay counted.
    """

    participant_id: Id = Field(json_schema_extra={"person_id": True})
