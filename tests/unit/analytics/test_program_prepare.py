"""The program facts' pure part: each event's change, folded in log order onto the rows a batch touches."""

from __future__ import annotations

from datetime import date

import pytest

from services.analytics.projecting.projections import program
from shared.events.matching import MatchApproved, RequestRanked, RequestReviewed, RequestWithdrawn
from shared.events.profiles import MentorCapacityChanged, ParticipantDeactivated, ParticipantReactivated
from shared.events.relationships import GoalProgressed, GoalSet, SurveyAnswered
from tests.unit.analytics.events import (
    DAY,
    T0,
    closed,
    feedback,
    goal,
    lagging,
    meeting,
    mentee,
    mentor,
    record,
    signed,
    started,
)

pytestmark = pytest.mark.unit


def folded(*records, known: dict[str, dict[str, dict]] | None = None) -> program.Prepared:
    """``prepare`` then ``fold`` as ``write`` does, with the rows the database would have returned (``known``)."""
    prepared = program.prepare(list(records))
    for name, table in prepared.tables.items():
        table.rows.update((key, dict(row)) for key, row in (known or {}).get(name, {}).items())
        table.wanted.clear()
    program.fold(prepared)
    return prepared


def rows(prepared: program.Prepared, table: str) -> dict[str, dict]:
    found = prepared.tables[table]
    return {key: found.rows[key] for key in sorted(found.changed)}


def test_a_participant_registered_in_both_roles_is_one_row() -> None:
    prepared = folded(
        record(mentor("p1", capacity=2), at=T0),
        record(mentee("p1", department=None), at=T0 + DAY),
        record(MentorCapacityChanged(participant_id="p1", old_capacity=2, new_capacity=3)),
        record(ParticipantDeactivated(participant_id="p1", reason="left_institution", effective_date=date(2026, 3, 1))),
    )
    assert rows(prepared, "participants") == {
        "p1": {
            "participant_id": "p1",
            "is_mentor": True,
            "is_mentee": True,
            "department": "Medicine",  # a later registration without one keeps it
            "cohort": "2026-01",
            "registered_at": T0,
            "capacity": 3,
            "left_on": date(2026, 3, 1),
        }
    }
    back = folded(
        record(ParticipantReactivated(participant_id="p1", effective_date=date(2026, 4, 1))),
        record(ParticipantDeactivated(participant_id="p1", reason="on_leave", effective_date=date(2026, 5, 1))),
        known={"participants": {"p1": rows(prepared, "participants")["p1"]}},
    )
    assert rows(back, "participants")["p1"]["left_on"] is None  # back; leave is not leaving


def test_an_update_to_a_participant_not_registered_yet_changes_nothing() -> None:
    prepared = folded(record(MentorCapacityChanged(participant_id="p9", old_capacity=1, new_capacity=2)))
    assert prepared.tables["participants"].rows == {"p9": None} and not prepared.tables["participants"].changed


def test_request_facts_upsert_from_either_stream_in_any_order() -> None:
    match = MatchApproved(
        match_id="mt-1", mentee_id="m1", mentor_id="b", mode="director", request_id="r1", choice_rank=2
    )
    ranked = RequestRanked(request_id="r1", mentee_id="m1", biography="bio", motivation="grow", ranked_mentor_ids=["b"])
    in_order = folded(
        record(ranked, at=T0),
        record(RequestReviewed(request_id="r1", reviewer_id="d", approved=True)),
        record(match, at=T0 + 3 * DAY),
    )
    match_first = folded(record(match, at=T0 + 3 * DAY), record(ranked, at=T0))
    expected = {
        "request_id": "r1",
        "mentee_id": "m1",
        "ranked_at": T0,
        "approved": True,
        "matched_at": T0 + 3 * DAY,
        "choice_rank": 2,
        "unmatched": False,
        "withdrawn": False,
        "program_id": "default",  # version 1: before programs
    }
    assert rows(in_order, "requests") == {"r1": expected}
    assert rows(match_first, "requests") == {"r1": {**expected, "approved": None}}
    withdrawn = folded(record(RequestWithdrawn(request_id="r2", mentee_id="m2")))
    assert rows(withdrawn, "requests")["r2"]["withdrawn"] is True
    no_request = folded(record(MatchApproved(match_id="mt-2", mentee_id="m1", mentor_id="b", mode="admin")))
    assert [table for table, _, _ in no_request.folds] == ["programs"]  # an admin match has no request row
    assert no_request.members == [("default", "m1"), ("default", "b")]  # its people take part in the program


def test_a_relationship_folds_its_agreement_meetings_lagging_goals_and_closure() -> None:
    prepared = folded(
        record(started("rel-1", "b", "m1", date(2026, 1, 9))),
        record(signed("rel-1", date(2026, 1, 12), cadence=4, goals=2)),
        record(lagging("rel-1")),
        record(lagging("rel-1")),
        record(meeting("rel-1", "x1", date(2026, 2, 1))),
        record(GoalSet(relationship_id="rel-1", mentee_id="m1", goal=goal("g9"))),
        record(GoalProgressed(relationship_id="rel-1", goal_id="g1", status="achieved", progress_percent=100)),
        record(GoalProgressed(relationship_id="rel-1", goal_id="g2", status="in_progress", progress_percent=50)),
        record(lagging("rel-1")),
        record(closed("rel-1", date(2026, 6, 1), reason="program_ended")),
    )
    assert rows(prepared, "relationships") == {
        "rel-1": {
            "relationship_id": "rel-1",
            "mentor_id": "b",
            "program_id": "default",
            "model": "one_to_one",
            "mentee_ids": ["m1"],
            "started_on": date(2026, 1, 9),
            "signed_on": date(2026, 1, 12),
            "cadence_weeks": 4,
            "meetings": 1,
            "lagging": False,  # closing ends the spell
            "lagging_spells": 3,
            "goals_set": 3,
            "goals_achieved": 1,
            "closed_on": date(2026, 6, 1),
            "closure_reason": "program_ended",
        }
    }


def test_runs_of_meetings_and_lagging_spells_fold_as_one_change_each_with_the_same_rows() -> None:
    """A worker hands each row's run of meetings (or of lagging spells) over as one change with its count: the
    rows are those of folding the events one by one, whatever other rows' events come in between."""
    known = {
        "rel-1": {"relationship_id": "rel-1", "meetings": 4, "lagging": True, "lagging_spells": 1},
        "rel-2": {"relationship_id": "rel-2", "meetings": 0, "lagging": False, "lagging_spells": 0},
    }
    events = [
        meeting("rel-1", "x1", date(2026, 2, 1)),
        meeting("rel-2", "y1", date(2026, 2, 2)),
        meeting("rel-1", "x2", date(2026, 2, 3)),
        lagging("rel-2"),
        lagging("rel-2"),
        meeting("rel-1", "x3", date(2026, 2, 4)),
        lagging("rel-1"),
        meeting("rel-2", "y2", date(2026, 3, 1)),
        GoalProgressed(relationship_id="rel-1", goal_id="g2", status="in_progress", progress_percent=50),
        lagging("rel-2"),
    ]
    prepared = folded(*(record(event) for event in events), known={"relationships": known})
    assert [(key, change[0].__name__, change[1]) for _, key, change in prepared.folds] == [
        ("rel-1", "_meet", (3,)),
        ("rel-1", "_lag", (1,)),
        ("rel-2", "_meet", (1,)),
        ("rel-2", "_lag", (2,)),
        ("rel-2", "_meet", (1,)),
        ("rel-2", "_lag", (1,)),
    ]
    assert rows(prepared, "relationships") == {
        "rel-1": {"relationship_id": "rel-1", "meetings": 7, "lagging": True, "lagging_spells": 2},
        "rel-2": {"relationship_id": "rel-2", "meetings": 2, "lagging": True, "lagging_spells": 3},
    }


def test_a_relationship_not_started_yet_ignores_what_happens_to_it() -> None:
    prepared = folded(record(meeting("rel-2", "x1", date(2026, 2, 1))), record(lagging("rel-2")))
    assert not prepared.tables["relationships"].changed


def test_survey_answers_are_rows_of_their_own_and_a_bad_payload_is_skipped_whole() -> None:
    answer = record(feedback("rel-1", satisfaction=5), at=T0)
    broken = record(type_name="FeedbackSubmitted", data={"relationship_id": "rel-1", "respondent_role": "mentee"})
    prepared = program.prepare([answer, broken])
    assert prepared.answers == [(answer.id, "rel-1", "mentee", 5, True, False, T0)]
    assert not prepared.folds


def answered(kind: str, scores: dict, choices: dict, role: str = "mentor") -> SurveyAnswered:
    return SurveyAnswered(
        survey_id="s1",
        kind=kind,
        relationship_id="rel-1",
        respondent_id="p1",
        respondent_role=role,
        answered_on=date(2026, 3, 2),
        scores=scores,
        choices=choices,
    )


def test_closure_and_annual_review_survey_answers_feed_the_satisfaction_rows() -> None:
    """The surveys that took over the closing and review feedback: satisfaction as scored, goals met from a goals
    score of 4 or 5, would recommend from the "recommend" choice; answers without all three are no such row."""
    closure = record(answered("closure", {"satisfaction": 3, "goals": 4}, {"recommend": "no"}), at=T0)
    annual = record(answered("annual_review", {"satisfaction": 5, "goals": 2}, {"recommend": "yes"}, "mentee"), at=T0)
    built_in_annual = record(answered("annual_review", {"satisfaction": 4, "goals": 4}, {"continue": "continue"}))
    pulse = record(answered("pulse", {"useful": 4}, {"next": "yes"}))
    custom = record(answered("closure", {"overall": 5}, {"recommend": "yes"}))
    prepared = program.prepare([closure, annual, built_in_annual, pulse, custom])
    assert prepared.answers == [
        (closure.id, "rel-1", "mentor", 3, True, False, T0),
        (annual.id, "rel-1", "mentee", 5, False, True, T0),
    ]


def test_programs_their_members_and_groups_from_the_contracts_events() -> None:
    """Issue 17's events, read by type name and raw payload (their classes may not be in this catalog yet)."""
    defined = {"program_id": "peers", "name": "Peer circles", "model": "peer", "matching_mode": "bulk"}
    renamed = {**defined, "name": "New-hire peer circles"}
    enrolled = {"program_id": "peers", "participant_id": "p1", "role": "peer", "capacity": None, "enrolled_by": "d"}
    circle = {"match_id": "g1", "program_id": "peers", "model": "peer", "mentor_ids": [], "mentee_ids": ["p1", "p2"]}
    ranked = {"request_id": "r1", "mentee_id": "m1", "ranked_mentor_ids": ["b"], "program_id": "faculty"}
    prepared = folded(
        record(type_name="ProgramDefined", data=defined, source="/services/matching", at=T0),
        record(type_name="ProgramChanged", data=renamed, source="/services/matching", at=T0 + DAY),
        record(type_name="ParticipantEnrolled", data=enrolled, source="/services/matching"),
        record(type_name="GroupFormed", data=circle, source="/services/matching", at=T0 + 2 * DAY),
        record(type_name="RequestRanked", data=ranked, source="/services/matching", schemaversion=2),
        record(type_name="GroupFormed", data={"program_id": "peers"}, source="/services/matching"),  # no match id
    )
    programs = rows(prepared, "programs")
    assert programs["peers"] == {
        "program_id": "peers",
        "name": "New-hire peer circles",
        "model": "peer",
        "first_seen": T0,
    }
    assert programs["faculty"]["name"] is None
    assert prepared.members == [("peers", "p1"), ("peers", "p1"), ("peers", "p2"), ("faculty", "m1")]
    assert prepared.groups == [("g1", "peers", "peer", 0, 2, T0 + 2 * DAY)]
    assert rows(prepared, "requests")["r1"]["program_id"] == "faculty"
