"""The reporting line between participants, from HR's employee → supervisor records.  Pure.

HR knows employees; matching knows participants (some of whom are employees).  A participant's
supervisor here is the nearest participant above them in HR's line, skipping managers who take no
part in the program, so ``hard_filters.InReportingLine`` can walk it by participant id.
"""

from __future__ import annotations

from collections.abc import Mapping


def participant_supervisors(
    employee_of: Mapping[str, str], supervisor_of_employee: Mapping[str, str | None]
) -> dict[str, str]:
    participant_of: dict[str, str] = {}
    for participant_id, employee_id in sorted(employee_of.items()):
        participant_of.setdefault(employee_id, participant_id)
    supervisors: dict[str, str] = {}
    for participant_id, employee_id in employee_of.items():
        seen = {employee_id}
        boss = supervisor_of_employee.get(employee_id)
        while boss is not None and boss not in seen:
            if boss in participant_of and participant_of[boss] != participant_id:
                supervisors[participant_id] = participant_of[boss]
                break
            seen.add(boss)
            boss = supervisor_of_employee.get(boss)
    return supervisors
