from __future__ import annotations

import pytest

from services.matching.domain.hard_filters import InReportingLine
from services.matching.domain.reporting_line import participant_supervisors

pytestmark = pytest.mark.unit


def test_the_line_skips_managers_who_take_no_part() -> None:
    employee_of = {"mentee": "E4", "chief": "E1", "peer": "E5"}
    supervisor_of = {"E4": "E3", "E3": "E2", "E2": "E1", "E5": "E1", "E1": None}
    line = participant_supervisors(employee_of, supervisor_of)
    assert line == {"mentee": "chief", "peer": "chief"}
    assert list(InReportingLine(line).line_above("mentee")) == ["chief"]


def test_a_cycle_in_hr_data_ends_the_walk() -> None:
    line = participant_supervisors({"a": "E1", "b": "E2"}, {"E1": "E3", "E3": "E1", "E2": "E1"})
    assert line == {"b": "a"}
