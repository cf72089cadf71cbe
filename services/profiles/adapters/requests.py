"""Request bodies of the profiles API; validation errors name the field (422)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from shared.events.profiles import (
    MAX_CAPACITY,
    Availability,
    CareerStage,
    Demographics,
    MeetingFormat,
    ProfileFields,
    TrainingStatus,
)
from shared.fields import Biography, Day, Email, Id, Interests, Languages, Name, ShortText, Tag, ZoneName

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
    """The profile as a caller gives it: the event's fields, each bounded and free of control characters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    biography: Biography | Literal[""] = Field(json_schema_extra={"personal": True})
    specialty: ShortText = Field(description="Field or specialty, e.g. cardiology")
    interests: Interests = Field(default_factory=list, description="Up to 30, each up to 100 characters")
    job_function: ShortText | None = None
    department: ShortText | None = Field(default=None, description="Department or college")
    location: ShortText | None = None
    time_zone: ZoneName = Field(default="UTC", description="IANA zone, e.g. America/Chicago")
    languages: Languages = Field(default_factory=lambda: ["en"], description="BCP 47 tags, e.g. en, pt-BR")

    _zone = field_validator("time_zone")(_known_zone)


class AvailabilityIn(Availability):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DemographicsIn(Demographics):
    """Self-described and optional; given only with consent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gender: Tag | None = None
    race_ethnicity: ShortText | None = None


class _Registration(_Strict):
    participant_id: Id | None = Field(default=None, description="Admins may set it; otherwise the caller's subject")
    employee_id: Id | None = Field(default=None, description="Links the participant to their HR record")
    name: Name
    email: Email
    profile: ProfileIn
    demographics: DemographicsIn | None = None
    priority_group: Tag | None = Field(default=None, description="Set by admins only")


class MentorRegistration(_Registration):
    capacity: int = Field(ge=0, le=MAX_CAPACITY, description="Mentees at once, the mentor's own choice")
    training_status: TrainingStatus = "untrained"
    availability: AvailabilityIn = Field(default_factory=AvailabilityIn)


class MenteeRegistration(_Registration):
    pass


class ProfilePatchFields(_Strict):
    biography: Biography | Literal[""] | None = None
    specialty: ShortText | None = None
    interests: Interests | None = None
    career_stage: CareerStage | None = None
    job_function: ShortText | None = None
    department: ShortText | None = None
    location: ShortText | None = None
    time_zone: ZoneName | None = None
    languages: Languages | None = None

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
    gender: Tag | None = None
    race_ethnicity: ShortText | None = None
    first_generation: bool | None = None

    _required = field_validator("consented")(_not_null)


class ProfilePatch(_Strict):
    """Partial: only the fields present are edited; ``null`` clears an optional field."""

    name: Name | None = None
    email: Email | None = None
    priority_group: Tag | None = Field(default=None, description="Admins only")
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
    completed_on: Day
