"""Programs as data: the ``Program`` aggregate (``ProgramDefined``, ``ProgramChanged``) and its settings' rules.

The built-in program ``"default"`` exists without an event (director review, one-to-one, equal weights, the
configured response days): ``built_in`` gives it, and the director may change it like any other (its first
change is a ``ProgramChanged`` on the stream ``default``).  Every other program starts with ``ProgramDefined``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation, NotFound
from shared.aggregate import Aggregate
from shared.events import Event
from shared.events.matching import DEFAULT_PROGRAM, ProgramChanged, ProgramDefined

__all__ = ["DEFAULT_PROGRAM", "Eligibility", "Program", "Settings", "built_in", "check_settings"]

PROGRAM_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
Model = Literal["one_to_one", "group", "peer"]
MatchingMode = Literal["director_review", "self_match", "admin", "bulk"]
REQUEST_MODES = ("director_review", "self_match")
MAX_GROUP = 20


@dataclass(frozen=True)
class Eligibility:
    """Who may enrol as a mentee or a peer; an empty collection is no restriction."""

    departments: tuple[str, ...] = ()
    career_stages: tuple[str, ...] = ()
    priority_groups: tuple[str, ...] = ()
    """In priority order."""
    hr_attributes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "departments": list(self.departments),
            "career_stages": list(self.career_stages),
            "priority_groups": list(self.priority_groups),
            "hr_attributes": {k: list(v) for k, v in self.hr_attributes.items()},
        }

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Eligibility:
        return cls(
            departments=tuple(data.get("departments", ())),
            career_stages=tuple(data.get("career_stages", ())),
            priority_groups=tuple(data.get("priority_groups", ())),
            hr_attributes={k: tuple(v) for k, v in dict(data.get("hr_attributes", {})).items()},
        )


@dataclass(frozen=True)
class Settings:
    """Every setting of a program (``ProgramDefined``/``ProgramChanged`` carry them all)."""

    name: str
    model: Model = "one_to_one"
    matching_mode: MatchingMode = "director_review"
    response_days: int = 7
    weights: Weights = field(default_factory=Weights)
    starts_on: date | None = None
    ends_on: date | None = None
    eligibility: Eligibility = field(default_factory=Eligibility)
    # The agreement's defaults (meet every 6-8 weeks, review yearly): the same as relationships' built-in terms.
    cadence_weeks_min: int = 6
    cadence_weeks_max: int = 8
    review_interval_months: int = 12
    group_size_max: int | None = None
    circle_size: int | None = None
    inactivity_days: int = 90
    surveys: tuple[str, ...] = ()
    priority_policy: Literal["first", "weight"] = "first"

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["eligibility"] = self.eligibility.as_dict()
        data["surveys"] = list(self.surveys)
        return data

    @classmethod
    def of_event(cls, event: ProgramDefined | ProgramChanged) -> Settings:
        return cls(
            name=event.name,
            model=event.model,
            matching_mode=event.matching_mode,
            response_days=event.response_days,
            weights=Weights(**event.weights.model_dump()),
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            eligibility=Eligibility.of(event.eligibility.model_dump()),
            cadence_weeks_min=event.cadence_weeks_min,
            cadence_weeks_max=event.cadence_weeks_max,
            review_interval_months=event.review_interval_months,
            group_size_max=event.group_size_max,
            circle_size=event.circle_size,
            inactivity_days=event.inactivity_days,
            surveys=tuple(event.surveys),
            priority_policy=event.priority_policy,
        )


def check_settings(program_id: str, s: Settings) -> None:
    """The settings' meaning; ``InvalidCommand`` names the field."""
    if not PROGRAM_ID.match(program_id):
        raise InvalidCommand("program_id", "1-40 lowercase letters, digits or dashes, starting with a letter or digit")
    if s.starts_on and s.ends_on and s.ends_on < s.starts_on:
        raise InvalidCommand("ends_on", "ends before the program starts")
    if s.cadence_weeks_min > s.cadence_weeks_max:
        raise InvalidCommand("cadence_weeks_max", "is below cadence_weeks_min")
    if s.model == "group":
        if s.group_size_max is None:
            raise InvalidCommand("group_size_max", "a group program needs its largest group size (1-20)")
        if not 1 <= s.group_size_max <= MAX_GROUP:
            raise InvalidCommand("group_size_max", f"is 1 to {MAX_GROUP} mentees")
    elif s.group_size_max is not None:
        raise InvalidCommand("group_size_max", "only a group program has a group size")
    if s.model == "peer":
        if s.circle_size is None:
            raise InvalidCommand("circle_size", "a peer program needs its circle size (2-20)")
        if not 2 <= s.circle_size <= MAX_GROUP:
            raise InvalidCommand("circle_size", f"is 2 to {MAX_GROUP} members")
        if s.matching_mode in REQUEST_MODES:
            raise InvalidCommand("matching_mode", "peer circles form by bulk or admin matching, not by requests")
    elif s.circle_size is not None:
        raise InvalidCommand("circle_size", "only a peer program has a circle size")
    if s.model == "group" and s.matching_mode in REQUEST_MODES:
        raise InvalidCommand("matching_mode", "groups form by the director (admin) or bulk matching, not by requests")
    for name, values in (
        ("departments", s.eligibility.departments),
        ("career_stages", s.eligibility.career_stages),
        ("priority_groups", s.eligibility.priority_groups),
        ("surveys", s.surveys),
    ):
        if len(set(values)) != len(values):
            where = name if name == "surveys" else f"eligibility.{name}"
            raise InvalidCommand(where, "values must be distinct")


def built_in(response_days: int, weights: Weights | None = None) -> Settings:
    """The "default" program as it was before programs were data."""
    return Settings(name="Default program", response_days=response_days, weights=weights or Weights())


@dataclass
class Program(Aggregate):
    id_field = "program_id"

    program_id: str
    version: int = 0
    settings: Settings | None = None
    defined_by: str | None = None

    # --- reading ------------------------------------------------------------------

    @property
    def s(self) -> Settings:
        if self.settings is None:
            raise NotFound(f"no program {self.program_id}")
        return self.settings

    @property
    def weights(self) -> Weights:
        return self.s.weights

    @property
    def response_days(self) -> int:
        return self.s.response_days

    @property
    def model(self) -> Model:
        return self.s.model

    @property
    def priority_groups(self) -> tuple[str, ...]:
        return self.s.eligibility.priority_groups

    def respond_by(self, now: datetime) -> datetime:
        return now + timedelta(days=self.response_days)

    def check_requests_allowed(self, today: date | None = None) -> None:
        """Requests are made only in director-review and self-match programs (409 otherwise, saying how), and
        not once the program has ended."""
        if today is not None and self.s.ends_on is not None and today > self.s.ends_on:
            raise MatchingRuleViolation(f"program {self.program_id} ended on {self.s.ends_on.isoformat()}")
        mode = self.s.matching_mode
        if mode == "admin":
            raise MatchingRuleViolation(
                f"program {self.program_id} takes no requests: the director matches its participants"
                + (" and forms its groups" if self.model != "one_to_one" else "")
            )
        if mode == "bulk":
            raise MatchingRuleViolation(
                f"program {self.program_id} takes no requests: its participants are matched by bulk runs"
            )

    # --- commands -----------------------------------------------------------------

    def define(self, settings: Settings, by: str) -> list[Event]:
        if self.exists or self.program_id == DEFAULT_PROGRAM:
            raise MatchingRuleViolation(f"program {self.program_id} already exists")
        check_settings(self.program_id, settings)
        return [ProgramDefined(program_id=self.program_id, **settings.payload(), defined_by=by)]

    def change(self, settings: Settings, by: str) -> list[Event]:
        current = self.s
        if settings.model != current.model:
            raise InvalidCommand("model", "a program's model cannot change once defined")
        check_settings(self.program_id, settings)
        if settings == current:
            return []
        return [ProgramChanged(program_id=self.program_id, **settings.payload(), changed_by=by)]

    def change_some(self, by: str, **changes: Any) -> list[Event]:
        """A part of the settings (the weights, the response days) changed, the rest kept."""
        return self.change(replace(self.s, **changes), by)

    # --- evolution ----------------------------------------------------------------

    def evolve(self, event: Event, at: datetime) -> None:
        match event:
            case ProgramDefined():
                self.settings, self.defined_by = Settings.of_event(event), event.defined_by
            case ProgramChanged():
                self.settings = Settings.of_event(event)
