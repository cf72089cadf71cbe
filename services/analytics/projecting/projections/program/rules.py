"""The program facts' rules: what each event changes in its row.

Each handler reads what it needs from the payload at once (so a bad payload is skipped whole, before any
row changes) and returns the change to make to its row once the batch's rows are loaded: a module-level
function and its arguments, plain data, so a batch prepared in another process can be sent over whole.
"""

from __future__ import annotations

from datetime import date, datetime

from services.analytics.projecting.projections.catalog import by_type, by_type_or_name
from services.analytics.projecting.staging import StagedTable
from shared.events.matching import (
    BulkMatchProposed,
    MatchApproved,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
    RequestWithdrawn,
)
from shared.events.profiles import (
    MenteeRegistered,
    MentorCapacityChanged,
    MentorRegistered,
    ParticipantDeactivated,
    ParticipantReactivated,
)
from shared.events.relationships import (
    AgreementSigned,
    FeedbackSubmitted,
    GoalProgressed,
    GoalSet,
    MeetingLogged,
    RelationshipClosed,
    RelationshipLagging,
    RelationshipStarted,
    SurveyAnswered,
)

DEFAULT_PROGRAM = "default"
"""The built-in program: what a version-1 payload (before programs) was about."""

KEYS = {
    "participants": lambda data: data["participant_id"],
    "requests": lambda data: data.get("request_id"),
    "relationships": lambda data: data["relationship_id"],
}


def program_of(data: dict) -> str:
    """The payload's program (upcast version-1 payloads say "default"; read defensively all the same)."""
    return data.get("program_id") or DEFAULT_PROGRAM


def _registered(role: str):
    def handler(data, at: datetime, event_id):
        department = (data.get("profile") or {}).get("department")
        return _register, (role, department, int(data.get("capacity", 0)), at)

    return handler


def _register(table: StagedTable, key: str, role: str, department: str | None, capacity: int, at: datetime) -> None:
    row = table.touch(key)
    if row is None:
        table.create(
            key,
            **{f"is_{role}": True},
            department=department,
            cohort=at.strftime("%Y-%m"),
            registered_at=at,
            capacity=capacity,
        )
        return
    row[f"is_{role}"] = True
    row["department"] = department if department is not None else row["department"]
    row["capacity"] = max(row["capacity"], capacity)


def _set(table: StagedTable, key: str, values: dict) -> None:
    """Set columns of an existing row (nothing when the row does not exist yet)."""
    row = table.touch(key)
    if row is not None:
        row.update(values)


def _capacity(data, at, event_id):
    return _set, ({"capacity": int(data["new_capacity"])},)


def _deactivated(data, at, event_id):
    if data.get("reason") != "left_institution":
        return _NOTHING
    return _set, ({"left_on": date.fromisoformat(data["effective_date"])},)


def _reactivated(data, at, event_id):
    return _set, ({"left_on": None},)


def _upsert(table: StagedTable, key: str, values: dict) -> None:
    """Request facts: create the row if needed, then set what this event knows."""
    row = table.touch(key) or table.create(key)
    row.update(values)


def _ranked(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "ranked_at": at, "program_id": program_of(data)},)


def _reviewed(data, at, event_id):
    return _upsert, ({"approved": bool(data["approved"])},)


def _unmatched(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "unmatched": True, "program_id": program_of(data)},)


def _withdrawn(data, at, event_id):
    return _upsert, ({"mentee_id": data["mentee_id"], "withdrawn": True},)


def _matched(data, at, event_id):
    values = {"mentee_id": data["mentee_id"], "matched_at": at, "choice_rank": data.get("choice_rank")}
    return _upsert, (values | {"program_id": program_of(data)},)


def _started(data, at, event_id):
    return _start, (
        {
            "mentor_id": data.get("mentor_id"),  # none for a peer circle (RelationshipStarted version 2)
            "mentee_ids": list(data["mentee_ids"]),
            "started_on": date.fromisoformat(data["started_on"]),
            "program_id": program_of(data),
            "model": data.get("model"),
        },
    )


def _start(table: StagedTable, key: str, values: dict) -> None:
    if table.get(key) is None:
        table.create(key, **values)


def _signed(data, at, event_id):
    return _sign, (date.fromisoformat(data["signed_on"]), data["cadence_weeks_max"], len(data.get("goals") or []))


def _sign(table: StagedTable, key: str, signed_on: date, cadence: int, goals: int) -> None:
    if (row := table.touch(key)) is not None:  # a change to a relationship not started yet does nothing
        row.update(signed_on=signed_on, cadence_weeks=cadence, goals_set=row["goals_set"] + goals)


def _meeting(data, at, event_id):
    return _meet, ()


def _meet(table: StagedTable, key: str, times: int = 1) -> None:
    """``times`` meetings in a row (``program.prepare`` collapses a row's run of them: nearly half of a replay's
    events)."""
    if (row := table.touch(key)) is not None:
        row["meetings"] += times
        row["lagging"] = False


def _lagging(data, at, event_id):
    return _lag, ()


def _lag(table: StagedTable, key: str, times: int = 1) -> None:
    if (row := table.touch(key)) is not None:
        row.update(lagging=True, lagging_spells=row["lagging_spells"] + times)


def _goal_set(data, at, event_id):
    return _count, ("goals_set",)


def _goal_progressed(data, at, event_id):
    if data.get("status") != "achieved":
        return _NOTHING
    return _count, ("goals_achieved",)


def _count(table: StagedTable, key: str, column: str) -> None:
    if (row := table.touch(key)) is not None:
        row[column] += 1


def _closed(data, at, event_id):
    return _set, (
        {"closed_on": date.fromisoformat(data["closed_on"]), "closure_reason": data["reason"], "lagging": False},
    )


def _feedback(data, at, event_id):
    return (
        event_id,
        data.get("relationship_id"),
        data["respondent_role"],
        int(data["satisfaction"]),
        bool(data["goals_met"]),
        bool(data["would_recommend"]),
        at,
    )


FEEDBACK_SURVEYS = ("closure", "annual_review")
"""The surveys of issue 18 that took over the closing and review feedback (``FeedbackSubmitted``)."""


def _survey_feedback(data, at, event_id):
    """A closure or annual-review survey's answer as a row of the satisfaction figures, beside the older
    ``FeedbackSubmitted``: the ``satisfaction`` score, goals met when the ``goals`` score is 4 or 5, would recommend
    when the ``recommend`` choice is "yes".  An answer without all three (another kind, the built-in annual review,
    which asks no ``recommend``, a program's template with other questions) is no such row (None): its scores show
    in the survey results instead."""
    if data.get("kind") not in FEEDBACK_SURVEYS:
        return None
    scores, choices = data.get("scores") or {}, data.get("choices") or {}
    if "satisfaction" not in scores or "goals" not in scores or choices.get("recommend") not in ("yes", "no"):
        return None
    return (
        event_id,
        data.get("relationship_id"),
        data["respondent_role"],
        int(scores["satisfaction"]),
        int(scores["goals"]) >= 4,
        choices["recommend"] == "yes",
        at,
    )


def _nothing(table: StagedTable, key: str) -> None:
    pass


_NOTHING = (_nothing, ())
REPEATABLE = frozenset((_meet, _lag))
"""Changes that ``times`` of in a row make at once."""


RULES = by_type(
    {
        MentorRegistered: ("participants", _registered("mentor")),
        MenteeRegistered: ("participants", _registered("mentee")),
        MentorCapacityChanged: ("participants", _capacity),
        ParticipantDeactivated: ("participants", _deactivated),
        ParticipantReactivated: ("participants", _reactivated),
        RequestRanked: ("requests", _ranked),
        RequestReviewed: ("requests", _reviewed),
        RequestUnmatched: ("requests", _unmatched),
        RequestWithdrawn: ("requests", _withdrawn),
        MatchApproved: ("requests", _matched),
        RelationshipStarted: ("relationships", _started),
        AgreementSigned: ("relationships", _signed),
        MeetingLogged: ("relationships", _meeting),
        RelationshipLagging: ("relationships", _lagging),
        GoalSet: ("relationships", _goal_set),
        GoalProgressed: ("relationships", _goal_progressed),
        RelationshipClosed: ("relationships", _closed),
        FeedbackSubmitted: (None, _feedback),
        SurveyAnswered: (None, _survey_feedback),
    }
)
"""Per event type: the table whose row it changes (``None``: a survey answer, a row of its own, or None when the
answer is not one the satisfaction figures read) and its handler."""


# --- programs ------------------------------------------------------------------------------------------------
# Who belongs to which program, and what each program is.  Keyed by catalog class where this catalog has it,
# by the contract's type name otherwise (issue 17's program events are added to the catalog by matching's
# owners in parallel): ``by_type_or_name`` uses the class (payload upcast) as soon as it exists.
# Each rule returns (program id, its settings or None, members [participant ids], a group row or None).


def _members(*groups) -> list[str]:
    return [p for group in groups for p in ([group] if isinstance(group, str) else group or ()) if p]


def _request_program(data):
    return program_of(data), None, _members(data.get("mentee_id")), None


def _match_program(data):
    return program_of(data), None, _members(data.get("mentee_id"), data.get("mentor_id")), None


def _bulk_program(data):
    return program_of(data), None, [], None


def _relationship_program(data):
    people = _members(data.get("mentor_id"), data.get("co_mentor_ids"), data.get("mentee_ids"))
    return program_of(data), None, people, None


def _defined_program(data):
    return data["program_id"], {"name": data.get("name"), "model": data.get("model")}, [], None


def _enrolled(data):
    return data["program_id"], None, _members(data["participant_id"]), None


def _group_formed(data):
    mentors, mentees = list(data.get("mentor_ids") or ()), list(data.get("mentee_ids") or ())
    group = (data["match_id"], program_of(data), data.get("model"), len(mentors), len(mentees))
    return program_of(data), None, _members(mentors, mentees), group


PROGRAM_RULES = by_type_or_name(
    {
        RequestRanked: _request_program,
        RequestUnmatched: _request_program,
        MatchApproved: _match_program,
        BulkMatchProposed: _bulk_program,
        RelationshipStarted: _relationship_program,
        "ProgramDefined": _defined_program,
        "ProgramChanged": _defined_program,
        "ParticipantEnrolled": _enrolled,
        "GroupFormed": _group_formed,
    }
)
"""Per event type naming a program: (program id, settings or None, members, group row or None) from its payload."""


def _program_seen(table: StagedTable, key: str, at: datetime, settings: dict | None) -> None:
    """A program named by an event: created when first seen (the earliest event time, whatever the order the
    topics are read in); its settings from ProgramDefined/ProgramChanged (one stream: in order)."""
    row = table.touch(key) or table.create(key, first_seen=at)
    row["first_seen"] = min(row["first_seen"], at)
    if settings is not None:
        row.update({k: v for k, v in settings.items() if v is not None})
