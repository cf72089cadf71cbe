"""The program's settings: compatibility weights and how long a forwarded mentor has to answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import NotFound

DEFAULT_PROGRAM = "default"


@dataclass(frozen=True)
class Program:
    program_id: str
    weights: Weights
    response_days: int

    def respond_by(self, now: datetime) -> datetime:
        return now + timedelta(days=self.response_days)


def check_known(program_id: str) -> None:
    """Only one program exists so far."""
    if program_id != DEFAULT_PROGRAM:
        raise NotFound(f"no program {program_id}; only the {DEFAULT_PROGRAM!r} program exists")
