"""A program's terms as relationships applies them: the agreement's defaults and the model's sizes.  No I/O.

Matching owns programs (``ProgramDefined``/``ProgramChanged`` on ``matching.events``); relationships keeps
the few settings it applies (``adapters/programs.py``).  The built-in program ``default`` exists without an
event and has today's values; so does a program not heard of yet.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
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

    def review_after(self, day: date) -> date:
        """The review date the agreement defaults to: ``review_interval_months`` after ``day``."""
        return add_months(day, self.review_interval_months)


DEFAULT_TERMS = Terms()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# The smallest company each model keeps going with: below it, a member leaving closes the relationship.
MIN_MENTORS: dict[Model, int] = {"one_to_one": 1, "group": 1, "peer": 0}
MIN_MEMBERS: dict[Model, int] = {"one_to_one": 1, "group": 1, "peer": 2}
