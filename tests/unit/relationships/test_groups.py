"""Groups and peer circles, program terms and the version-2 relationship events, on in-memory ports."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.relationships.application import (
    close_relationship,
    leave_relationship,
    log_meeting,
    propose_agreement,
    review_agreement,
    set_goal,
    sign_agreement,
    start_relationship,
)
from services.relationships.application.commands import (
    CloseRelationship,
    LeaveRelationship,
    LogMeeting,
    ProposeAgreement,
    ReviewAgreement,
    SetGoal,
    SignAgreement,
    StartRelationship,
)
from services.relationships.application.confidential import read_texts
from services.relationships.application.fire_timers import on_cadence_due
from services.relationships.application.start_relationship import relationship_id_for
from services.relationships.domain.agreement import AgreementProposal
from services.relationships.domain.errors import (
    ConfidentialToParties,
    InvalidCommand,
    NotAParty,
    NotForThisRole,
    RelationshipNotFound,
    RelationshipRuleViolation,
)
from services.relationships.domain.program import Terms
from shared.events import decode
from shared.events.matching import GroupFormed, ProgramChanged, ProgramDefined
from shared.events.profiles import ParticipantDeactivated, ParticipantErased
from shared.events.relationships import RelationshipStarted
from shared.inbox import PermanentError
from shared.ports import Timer
from tests.unit.relationships.fakes import World, world
from tests.unit.relationships.test_use_cases import bus, types

pytestmark = pytest.mark.unit

TODAY = date(2026, 1, 5)
GRACE = timedelta(days=14)
MENTORS, MENTEES = ("mentor-1", "mentor-2"), ("a", "b", "c")


def sign(rid: str, by: str, revision: int = 1) -> SignAgreement:
    return SignAgreement(rid, by, revision, confidentiality_accepted=True, no_fault_termination_acknowledged=True)


async def group(w: World, program_id: str = "default") -> str:
    cmd = StartRelationship("group", "mentor-1", MENTEES, co_mentor_ids=("mentor-2",), program_id=program_id)
    return await start_relationship.handle(w.c, cmd)


async def circle(w: World, members: tuple[str, ...] = ("p1", "p2", "p3")) -> str:
    return await start_relationship.handle(w.c, StartRelationship("peer", None, members))


def program(program_id: str, **settings) -> ProgramDefined:
    values = {
        "program_id": program_id,
        "name": "Residents' groups",
        "model": "group",
        "matching_mode": "admin",
        "response_days": 14,
        "cadence_weeks_min": 2,
        "cadence_weeks_max": 3,
        "review_interval_months": 6,
        "inactivity_days": 45,
        "defined_by": "director-1",
        **settings,
    }
    return ProgramDefined(**values)


# --- version 2 of the relationship events --------------------------------------------------------------------


def test_version_1_payloads_upcast_into_the_default_program() -> None:
    v1 = {
        "relationship_id": "r1",
        "model": "one_to_one",
        "mentor_id": "m",
        "mentee_ids": ["e"],
        "match_id": "x",
        "started_on": "2025-05-01",
    }
    started = decode("RelationshipStarted", v1, 1)
    assert isinstance(started, RelationshipStarted)
    assert (started.program_id, started.co_mentor_ids, started.mentor_id) == ("default", [], "m")
    peer = decode("RelationshipStarted", {**v1, "model": "peer"}, 1)
    assert peer.mentor_id is None and peer.mentee_ids == ["m", "e"]
    meeting = decode(
        "MeetingLogged",
        {"relationship_id": "r1", "meeting_id": "m", "held_on": "2025-06-01", "duration_minutes": 3, "format": "video"},
        1,
    )
    assert meeting.attendee_ids == []
    closed = decode(
        "RelationshipClosed",
        {
            "relationship_id": "r1",
            "reason": "objectives_achieved",
            "mentor_id": "m",
            "mentee_ids": ["e"],
            "rematch_requested": False,
            "closed_on": "2025-09-01",
        },
        1,
    )
    assert (closed.program_id, closed.co_mentor_ids, closed.mentor_id) == ("default", [], "m")


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"model": "one_to_one", "mentor_id": "m", "mentee_ids": ["a", "b"]}, "exactly one mentee"),
        ({"model": "one_to_one", "mentor_id": "m", "co_mentor_ids": ["n"], "mentee_ids": ["a"]}, "one mentor"),
        ({"model": "group", "mentee_ids": ["a"]}, "has a mentor"),
        ({"model": "group", "mentor_id": "m", "co_mentor_ids": ["a"], "mentee_ids": ["a"]}, "also be a mentee"),
        ({"model": "group", "mentor_id": "m", "co_mentor_ids": ["m"], "mentee_ids": ["a"]}, "mentors must be distinct"),
        ({"model": "peer", "mentor_id": "m", "mentee_ids": ["a", "b"]}, "no mentor"),
        ({"model": "peer", "mentee_ids": ["a"]}, "2 to 20 members"),
        ({"model": "group", "mentor_id": "m", "mentee_ids": [f"e{i}" for i in range(21)]}, "at most 20"),
    ],
)
def test_each_model_holds_its_parties(fields: dict, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        RelationshipStarted(relationship_id="r", match_id="x", started_on=TODAY, **fields)


# --- groups and circles start from GroupFormed ---------------------------------------------------------------


async def test_a_formed_group_starts_once_with_its_co_mentors_and_program() -> None:
    w = world()
    formed = GroupFormed(
        match_id="g-1", program_id="residents", model="group", mentor_ids=list(MENTORS), mentee_ids=list(MENTEES)
    )
    await bus(w, formed, "g-1")
    await bus(w, formed, "g-1")
    rid = relationship_id_for("g-1")
    assert types(w, rid) == ["RelationshipStarted"]
    row = await w.read_model.status(None, rid)
    assert row["program_id"] == "residents" and row["mentors"] == list(MENTORS) and row["members"] == list(MENTEES)
    for reader in (*MENTORS, *MENTEES):
        assert (await _show(w, rid, reader))["model"] == "group"


async def test_a_formed_circle_has_no_mentor() -> None:
    w = world()
    await bus(w, GroupFormed(match_id="c-1", program_id="peers", model="peer", mentee_ids=["p1", "p2"]), "c-1")
    [stored] = w.store.streams[relationship_id_for("c-1")]
    assert stored.event.mentor_id is None and stored.event.mentee_ids == ["p1", "p2"]


async def test_a_group_naming_someone_erased_or_deactivated_is_a_permanent_error() -> None:
    w = world()
    w.standing.standing["b"] = "deactivated"
    formed = GroupFormed(match_id="g-2", program_id="residents", model="group", mentor_ids=["m"], mentee_ids=["a", "b"])
    with pytest.raises(PermanentError, match=r"b \(deactivated\)"):
        await bus(w, formed, "g-2")
    assert w.store.events() == []


# --- the group's agreement, meetings, goals -----------------------------------------------------------------


async def test_a_mentor_proposes_a_groups_agreement_and_it_holds_once_everyone_signed() -> None:
    w = world()
    rid = await group(w)
    with pytest.raises(NotForThisRole):
        await propose_agreement.handle(w.c, ProposeAgreement(rid, "a", AgreementProposal(format="video")))
    draft = await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentor-2", AgreementProposal(format="video")))
    for party in ("mentor-1", "mentor-2", "a", "b"):
        assert not (await sign_agreement.handle(w.c, sign(rid, party, draft.revision))).concluded
    assert types(w, rid) == ["RelationshipStarted"]
    assert (await sign_agreement.handle(w.c, sign(rid, "c", draft.revision))).concluded
    signed = w.store.streams[rid][-1].event
    assert signed.signed_by == sorted([*MENTORS, *MENTEES])


async def test_any_member_of_a_circle_proposes() -> None:
    w = world()
    rid = await circle(w)
    draft = await propose_agreement.handle(w.c, ProposeAgreement(rid, "p2", AgreementProposal(format="video")))
    assert draft.revision == 1


async def test_a_group_meeting_records_its_attendees_and_its_notes_stay_with_the_parties() -> None:
    w = world()
    rid = await group(w)
    await log_meeting.handle(
        w.c,
        LogMeeting(rid, "mentor-1", TODAY, 60, "video", ("goals",), notes="Notes", attendee_ids=("mentor-1", "a")),
    )
    await log_meeting.handle(w.c, LogMeeting(rid, "b", TODAY, 30, "video"))
    first, second = (s.event for s in w.store.streams[rid][1:])
    assert first.attendee_ids == ["mentor-1", "a"] and second.attendee_ids == [*MENTORS, *MENTEES]
    with pytest.raises(InvalidCommand) as refused:
        await log_meeting.handle(w.c, LogMeeting(rid, "a", TODAY, 30, "video", attendee_ids=("a", "stranger")))
    assert refused.value.field == "attendee_ids"
    for party in ("mentor-2", "c"):
        assert [n.text for n in await read_texts(w.c, rid, party, "meeting_note")] == ["Notes"]
    with pytest.raises(ConfidentialToParties):
        await read_texts(w.c, rid, "director-1", "meeting_note", director=True)
    with pytest.raises(NotAParty):
        await read_texts(w.c, rid, "stranger", "meeting_note")


async def test_goals_are_per_mentee_in_a_group() -> None:
    w = world()
    rid = await group(w)
    due = TODAY + timedelta(days=90)
    with pytest.raises(InvalidCommand) as refused:
        await set_goal.handle(w.c, SetGoal(rid, "mentor-1", "Publish", "accepted", due))
    assert refused.value.field == "mentee_id"
    await set_goal.handle(w.c, SetGoal(rid, "mentor-1", "Publish", "accepted", due, mentee_id="b"))
    await set_goal.handle(w.c, SetGoal(rid, "c", "Teach", "a course", due))
    assert [s.event.mentee_id for s in w.store.streams[rid][1:]] == ["b", "c"]


# --- cadence and review apply to circles as to pairs ---------------------------------------------------------


async def test_a_circle_lags_without_a_meeting_and_the_next_meeting_clears_it() -> None:
    w = world()
    rid = await circle(w)
    due = TODAY + timedelta(weeks=8) + GRACE
    assert w.timers.armed[f"cadence:{rid}"].due_at.date() == due
    w.clock.advance(days=(due - TODAY).days)
    async with w.transactions() as conn:
        await on_cadence_due(w.c, conn, Timer(f"cadence:{rid}", "relationship-cadence", rid, w.clock.now(), {}))
    assert types(w, rid)[-1] == "RelationshipLagging" and f"cadence:{rid}" not in w.timers.armed
    await log_meeting.handle(w.c, LogMeeting(rid, "p3", w.c.today(), 45, "video"))
    assert (await w.read_model.status(None, rid))["lagging"] is False


# --- program terms -------------------------------------------------------------------------------------------


async def test_the_programs_terms_are_the_agreements_defaults() -> None:
    w = world()
    await bus(w, program("residents"), "residents")
    rid = await group(w, "residents")
    draft = await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentor-1", AgreementProposal(format="video")))
    assert (draft.terms.cadence_weeks_min, draft.terms.cadence_weeks_max) == (2, 3)
    for party in (*MENTORS, *MENTEES):
        await sign_agreement.handle(w.c, sign(rid, party))
    signed = w.store.streams[rid][-1].event
    assert signed.review_due_on == date(2026, 7, 6)  # 182 days and signed.cadence_weeks_max == 3
    settings = program("residents").model_dump(exclude={"defined_by"})
    changed = ProgramChanged(**{**settings, "review_interval_months": 3, "changed_by": "director-1"})
    await bus(w, changed, "residents")
    w.clock.advance(days=200)
    await review_agreement.handle(w.c, ReviewAgreement(rid, "mentor-1", "continued"))
    assert w.store.streams[rid][-1].event.next_review_due_on == w.c.today() + timedelta(days=91)


async def test_a_proposal_with_one_cadence_bound_keeps_the_programs_other_unless_they_cross() -> None:
    terms = Terms(cadence_weeks_min=4, cadence_weeks_max=6)
    assert AgreementProposal(format="video", cadence_weeks_max=8).terms(terms).cadence_weeks_min == 4
    assert AgreementProposal(format="video", cadence_weeks_max=2).terms(terms).cadence_weeks_min == 2
    assert AgreementProposal(format="video", cadence_weeks_min=10).terms(terms).cadence_weeks_max == 10
    assert AgreementProposal(format="video").terms(Terms()).cadence_weeks_max == 8


async def test_a_program_not_heard_of_has_the_default_terms() -> None:
    w = world()
    async with w.transactions() as conn:
        terms = await w.c.programs.terms(conn, "unknown")
    assert (terms.program_id, terms.cadence_weeks_max, terms.review_interval_months, terms.inactivity_days) == (
        "unknown",
        8,
        12,
        90,
    )


# --- closing and leaving -------------------------------------------------------------------------------------


async def test_a_group_closes_as_a_whole_by_a_mentor_or_the_director_not_by_a_mentee() -> None:
    w = world()
    rid = await group(w)
    with pytest.raises(NotForThisRole):
        await close_relationship.handle(w.c, CloseRelationship(rid, "a", "objectives_achieved"))
    await close_relationship.handle(w.c, CloseRelationship(rid, "mentor-2", "objectives_achieved"))
    closed = w.store.streams[rid][-1].event
    assert closed.mentor_id == "mentor-1" and closed.co_mentor_ids == ["mentor-2"]
    assert closed.mentee_ids == list(MENTEES)


async def test_members_leave_a_circle_until_too_few_remain() -> None:
    w = world()
    rid = await circle(w)
    await leave_relationship.handle(w.c, LeaveRelationship(rid, "p1", participant_id="p1"))
    assert types(w, rid) == ["RelationshipStarted", "MemberLeft"]
    row = await w.read_model.status(None, rid)
    assert row["phase"] == "preparing" and row["members"] == ["p2", "p3"]
    with pytest.raises(NotAParty):  # who left is no longer a party
        await leave_relationship.handle(w.c, LeaveRelationship(rid, "p1", participant_id="p1"))
    with pytest.raises(NotForThisRole):
        await leave_relationship.handle(w.c, LeaveRelationship(rid, "p2", participant_id="p3"))
    await leave_relationship.handle(w.c, LeaveRelationship(rid, "director-1", participant_id="p3", by_director=True))
    assert types(w, rid)[-2:] == ["MemberLeft", "RelationshipClosed"]
    closed = w.store.streams[rid][-1].event
    assert closed.reason == "participant_left" and closed.mentor_id is None and not closed.rematch_requested
    assert closed.mentee_ids == ["p1", "p2", "p3"] and closed.closed_by == "director-1"


async def test_leaving_is_for_groups_and_names_a_member() -> None:
    w = world()
    pair = await start_relationship.handle(w.c, StartRelationship("one_to_one", "mentor-1", ("mentee-1",)))
    with pytest.raises(RelationshipRuleViolation, match="closed, not left"):
        await leave_relationship.handle(w.c, LeaveRelationship(pair, "mentee-1", participant_id="mentee-1"))
    rid = await group(w)
    with pytest.raises(RelationshipNotFound, match="no member stranger"):
        await leave_relationship.handle(w.c, LeaveRelationship(rid, "d", participant_id="stranger", by_director=True))


async def test_a_group_whose_last_mentor_left_closes_with_a_rematch() -> None:
    w = world()
    rid = await group(w)
    departed = ParticipantDeactivated(participant_id="mentor-2", reason="left_institution", effective_date=TODAY)
    await bus(w, departed, "mentor-2")
    assert types(w, rid)[-1] == "MemberLeft"
    await leave_relationship.handle(w.c, LeaveRelationship(rid, "mentor-1", participant_id="mentor-1"))
    closed = w.store.streams[rid][-1].event
    assert closed.reason == "participant_left" and closed.rematch_requested


async def test_an_erased_member_leaves_a_group_and_a_pair_is_left_to_their_departure() -> None:
    w = world()
    rid = await group(w)
    pair = await start_relationship.handle(w.c, StartRelationship("one_to_one", "mentor-9", ("b",)))
    await bus(w, ParticipantErased(participant_id="b"), "b")
    left = w.store.streams[rid][-1].event
    assert left.type_name() == "MemberLeft" and left.reason == "erased" and left.participant_id == "b"
    assert types(w, pair) == ["RelationshipStarted"]


async def test_when_the_last_one_who_had_not_signed_leaves_the_agreement_holds() -> None:
    w = world()
    rid = await group(w)
    draft = await propose_agreement.handle(w.c, ProposeAgreement(rid, "mentor-1", AgreementProposal(format="video")))
    for party in ("mentor-1", "mentor-2", "a", "b"):
        await sign_agreement.handle(w.c, sign(rid, party, draft.revision))
    await leave_relationship.handle(w.c, LeaveRelationship(rid, "c", participant_id="c"))
    assert types(w, rid)[-2:] == ["MemberLeft", "AgreementSigned"]
    assert w.store.streams[rid][-1].event.signed_by == sorted(["mentor-1", "mentor-2", "a", "b"])


async def _show(w: World, rid: str, reader: str) -> dict:
    from services.relationships.application.queries import show_relationship

    return await show_relationship(w.c, rid, reader, director=False)


def test_the_review_interval_is_held_to_at_least_annually() -> None:
    assert Terms(review_interval_months=18).review_after(TODAY) == TODAY + timedelta(days=365)
    assert Terms().review_after(TODAY) == TODAY + timedelta(days=365)
    assert Terms(review_interval_months=1).review_after(TODAY) == TODAY + timedelta(days=30)
