"""Request bodies of the profiles API; validation errors name the field (422)."""

from __future__ import annotations

from datetime import date
from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from shared.events.profiles import (
    MAX_CAPACITY,
    Availability,
    CareerStage,
    Demographics,
    Email,
    Id,
    MeetingFormat,
    ProfileFields,
    TrainingStatus,
)

_ZONES = frozenset(available_timezones())


def _known_zone(value: str | None) -> str | None:
    if value is not None and value not in _ZONES:
        raise ValueError("is not an IANA time zone, e.g. America/Chicago")
    return value


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("may not be null")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProfileIn(ProfileFields):
    model_config = ConfigDict(extra="forbid", frozen=True)

    _zone = field_validator("time_zone")(_known_zone)


class _Registration(_Strict):
    participant_id: Id | None = Field(default=None, description="Admins may set it; otherwise the caller's subject")
    employee_id: Id | None = Field(default=None, description="Links the participant to their HR record")
    name: str = Field(min_length=1, max_length=200)
    email: Email
    profile: ProfileIn
    demographics: Demographics | None = None
    priority_group: str | None = Field(default=None, max_length=100, description="Set by admins only")


class MentorRegistration(_Registration):
    capacity: int = Field(ge=0, le=MAX_CAPACITY, description="Mentees at once, the mentor's own choice")
    training_status: TrainingStatus = "untrained"
    availability: Availability = Field(default_factory=Availability)


class MenteeRegistration(_Registration):
    pass


class ProfilePatchFields(_Strict):
    biography: str | None = Field(default=None, max_length=4000)
    specialty: str | None = Field(default=None, max_length=200)
    interests: list[str] | None = Field(default=None, max_length=30)
    career_stage: CareerStage | None = None
    job_function: str | None = Field(default=None, max_length=200)
    department: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    languages: list[str] | None = Field(default=None, max_length=20)

    _required = field_validator("biography", "specialty", "interests", "career_stage", "time_zone", "languages")(
        _not_null
    )
    _zone = field_validator("time_zone")(_known_zone)


class AvailabilityPatch(_Strict):
    accepting_requests: bool | None = None
    hours_per_month: int | None = Field(default=None, ge=0, le=40)
    formats: list[MeetingFormat] | None = Field(default=None, max_length=4)

    _required = field_validator("accepting_requests", "formats")(_not_null)


class DemographicsPatch(_Strict):
    consented: bool | None = None
    gender: str | None = Field(default=None, max_length=100)
    race_ethnicity: str | None = Field(default=None, max_length=200)
    first_generation: bool | None = None

    _required = field_validator("consented")(_not_null)


class ProfilePatch(_Strict):
    """Partial: only the fields present are edited; ``null`` clears an optional field."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: Email | None = None
    priority_group: str | None = Field(default=None, max_length=100, description="Admins only")
    profile: ProfilePatchFields | None = None
    availability: AvailabilityPatch | None = None
    demographics: DemographicsPatch | None = None

    _required = field_validator("name", "email", "profile", "availability", "demographics")(_not_null)

    def changes(self) -> dict[str, JsonValue]:
        flat: dict[str, JsonValue] = {}
        for name, value in self.model_dump(mode="json", exclude_unset=True).items():
            if isinstance(value, dict):
                flat.update({f"{name}.{key}": inner for key, inner in value.items()})
            else:
                flat[name] = value
        return flat


class CapacityChange(_Strict):
    capacity: int = Field(ge=0, le=MAX_CAPACITY, description="0 = not taking mentees")


class TrainingCompletion(_Strict):
    kind: Literal["workshop", "handbook"]
    completed_on: date
