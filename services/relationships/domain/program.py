"""A program's terms as relationships applies them: the agreement's defaults and the model's sizes.  No I/O.

Matching owns programs (``ProgramDefined``/``ProgramChanged`` on ``matching.events``); relationships keeps
the few settings it applies (``adapters/programs.py``).  The built-in program ``default`` exists without an
event and has today's values; so does a program not heard of yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from shared.events.relationships import DEFAULT_PROGRAM

Model = Literal["one_to_one", "group", "peer"]


@dataclass(frozen=True)
class Terms:
    """What a program sets for its relationships: cadence and review defaults of the agreement, the
    days a lagging relationship may stay inactive, and its mentoring model."""

    program_id: str = DEFAULT_PROGRAM
    model: Model = "one_to_one"
    cadence_weeks_min: int = 6
    cadence_weeks_max: int = 8
    review_interval_months: int = 12
    inactivity_days: int = 90
    surveys: tuple[str, ...] | None = None
    """The survey kinds the program runs (``domain/survey.py``); None: every kind (the built-in program)."""

    def surveys_on(self, kind: str) -> bool:
        return self.surveys is None or kind in self.surveys

    def review_after(self, day: date) -> date:
        """The review date the agreement defaults to: ``review_interval_months`` after ``day``, a month being a
        twelfth of 365 days (12 months: 365 days, as before programs); at least annually, so never past a year."""
        return day + timedelta(days=round(min(self.review_interval_months, 12) * 365 / 12))


DEFAULT_TERMS = Terms()


# The smallest company each model keeps going with: below it, a member leaving closes the relationship.
MIN_MENTORS: dict[Model, int] = {"one_to_one": 1, "group": 1, "peer": 0}
MIN_MEMBERS: dict[Model, int] = {"one_to_one": 1, "group": 1, "peer": 2}
