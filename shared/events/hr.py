"""Inbound events from the institution's HR system on ``hr.events``; subject = employee id.

Modelled on HRIS worker records.  Every event says when the change takes effect
(``effective_date``, may be back- or forward-dated) and when HR recorded it
(``recorded_at``), so cohort outcomes can be computed as of any date.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.events.base import Event

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
EmploymentStatus = Literal["active", "leave", "terminated"]


class Worker(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    employee_id: Id = Field(json_schema_extra={"person_id": True})
    supervisor_id: Id | None = Field(default=None, json_schema_extra={"person_id": True})
    legal_name: str = Field(min_length=1, max_length=200, json_schema_extra={"personal": True})
    preferred_name: str | None = Field(default=None, max_length=200, json_schema_extra={"personal": True})
    work_email: Email = Field(json_schema_extra={"personal": True})
    title: str = Field(max_length=200)
    job_function: str = Field(max_length=200, description="e.g. faculty, research, clinical, administration")
    department_id: Id
    department_name: str = Field(max_length=200)
    location: str | None = Field(default=None, max_length=200, description="Office or site")
    country: CountryCode = Field(description="ISO 3166-1 alpha-2")
    remote: bool = False
    employment_status: EmploymentStatus = "active"
    original_hire_date: date
    last_hire_date: date = Field(description="Latest (re)hire; equals original_hire_date unless rehired")
    last_promotion_date: date | None = None
    termination_date: date | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> Worker:
        if self.last_hire_date < self.original_hire_date:
            raise ValueError("last_hire_date precedes original_hire_date")
        if (self.employment_status == "terminated") != (self.termination_date is not None):
            raise ValueError("termination_date is given exactly for terminated workers")
        return self


class _HrEvent(Event):
    owner: ClassVar[str] = "hr"
    data_subjects: ClassVar[tuple[str, ...]] = ("employee_id",)

    employee_id: Id = Field(json_schema_extra={"person_id": True})
    effective_date: date
    recorded_at: AwareDatetime


class _WorkerRecordEvent(_HrEvent):
    worker: Worker

    @model_validator(mode="after")
    def _same_worker(self) -> _WorkerRecordEvent:
        if self.worker.employee_id != self.employee_id:
            raise ValueError("worker.employee_id differs from employee_id")
        return self


class WorkerHired(_WorkerRecordEvent):
    """A hire or a rehire (then ``worker.last_hire_date`` is later than the original)."""


class WorkerUpdated(_WorkerRecordEvent):
    """The full current record, as HR systems send it, with the names of the fields that changed."""

    changed_fields: list[str] = Field(min_length=1)


class WorkerTransferred(_HrEvent):
    old_department_id: Id
    new_department_id: Id
    new_department_name: str = Field(max_length=200)
    new_supervisor_id: Id | None = Field(default=None, json_schema_extra={"person_id": True})
    new_location: str | None = Field(default=None, max_length=200)


class WorkerPromoted(_HrEvent):
    old_title: str = Field(max_length=200)
    new_title: str = Field(max_length=200)
    new_job_function: str | None = Field(default=None, max_length=200)


class WorkerOnLeave(_HrEvent):
    leave_type: Literal["medical", "parental", "sabbatical", "personal", "other"]
    expected_return_date: date | None = None


class WorkerReturned(_HrEvent):
    pass


class WorkerTerminated(_HrEvent):
    """``effective_date`` is the last day of employment."""

    termination_type: Literal["voluntary", "involuntary", "retirement", "end_of_contract", "other"]


class HrEventRescinded(_HrEvent):
    """HR withdrew an earlier event (entered in error); consumers undo its effects."""

    rescinded_event_id: Id = Field(description="Envelope id of the rescinded HR event")
    rescinded_type: str = Field(description="Type of the rescinded event, e.g. WorkerTerminated")
