"""What matching follows (profiles, relationships, HR) on in-memory ports, through its one handler table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.matching.adapters.bus import TABLE, bus_handlers
from services.matching.adapters.timers import timer_handlers
from services.matching.application import follow_hr, follow_profiles, follow_relationships
from services.matching.application.request_repository import RESPONSE_DEADLINE
from services.matching.domain.request import rematch_request_id
from shared.events.hr import WorkerTransferred
from shared.events.matching import RequestUnmatched, RequestWithdrawn
from shared.events.profiles import (
    FieldChange,
    MentorCapacityChanged,
    ParticipantDeactivated,
    ParticipantErased,
    ParticipantReactivated,
    ProfileUpdated,
)
from shared.events.relationships import RelationshipClosed, RelationshipStarted
from tests.unit.matching.fakes import World, world
from tests.unit.matching.scenario import forwarded, hired, mentee, mentor, submitted

pytestmark = pytest.mark.unit


async def feed(w: World, event) -> None:
    """Through the consumer's table, as the bus delivers it."""
    await bus_handlers(w.deps).inbox_handlers()[event.type_name()](None, event, w.envelope(event))


def test_the_table_covers_every_consumed_type_once() -> None:
    names = [event_type.type_name() for event_type, _ in TABLE]
    assert len(names) == len(set(names)) == 12
    assert set(bus_handlers(world().deps).inbox_handlers()) == set(names)


# --- profiles -----------------------------------------------------------------------------------------


async def test_a_departure_withdraws_own_requests_and_passes_on_waiting_ones(w) -> None:
    await mentor(w, "leaving"), await mentor(w, "staying"), await mentee(w, "e1"), await mentee(w, "e2")
    waiting = await forwarded(w, "e1", "leaving", "staying")
    own = await submitted(w, "e2", "staying")
    deactivation = ParticipantDeactivated(participant_id="leaving", reason="on_leave", effective_date=date(2026, 1, 1))
    await feed(w, deactivation)
    await feed(w, deactivation.model_copy(update={"participant_id": "e2"}))
    row = w.tables.requests[waiting]
    assert (row["status"], row["mentor_id"], row["choice_rank"]) == ("forwarded", "staying", 2)
    withdrawn = w.store.events(own)[-1]
    assert isinstance(withdrawn, RequestWithdrawn) and withdrawn.reason == "mentee deactivated: on_leave"
    assert not w.tables.mentors["leaving"].active and not w.tables.mentees["e2"].active
    await feed(w, ParticipantReactivated(participant_id="leaving", effective_date=date(2026, 2, 1)))
    assert w.tables.mentors["leaving"].active


async def test_an_erasure_withdraws_and_scrubs_what_matching_copied(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1")
    own = await submitted(w, "e1", "m1")
    await feed(w, ParticipantErased(participant_id="e1"))
    await feed(w, ParticipantErased(participant_id="m1"))
    assert w.tables.requests[own]["status"] == "withdrawn"
    assert w.tables.requests[own]["biography"] == w.tables.requests[own]["motivation"] == follow_profiles.ERASED
    assert w.tables.mentees["e1"].name == follow_profiles.ERASED
    mentor_copy = w.tables.mentors["m1"]
    assert (mentor_copy.name, mentor_copy.biography, mentor_copy.active) == ("[erased]", "[erased]", False)


async def test_profile_edits_capacity_and_employee_links(w) -> None:
    await mentor(w, "m1", capacity=1, employee_id="E1")
    assert w.tables.employees == {"m1": "E1"}
    await feed(w, MentorCapacityChanged(participant_id="m1", old_capacity=1, new_capacity=4))
    assert w.tables.mentors["m1"].capacity == 4
    changes = [
        FieldChange(field="profile.specialty", old="cardiology", new="oncology"),
        FieldChange(field="employee_id", old="E1", new="E2"),
    ]
    await feed(w, ProfileUpdated(participant_id="m1", changes=changes))
    assert w.tables.mentors["m1"].profile.specialty == "oncology" and w.tables.employees == {"m1": "E2"}
    await feed(w, ProfileUpdated(participant_id="m1", changes=[FieldChange(field="employee_id", old="E2", new=None)]))
    assert w.tables.employees == {}


# --- relationships ------------------------------------------------------------------------------------


async def test_relationships_hold_and_free_slots(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1")
    started = RelationshipStarted(
        relationship_id="r1",
        model="group",
        mentor_id="m1",
        mentee_ids=["e1", "e2"],
        match_id="direct-1",
        started_on=date(2026, 1, 5),
    )
    await follow_relationships.started(w.deps, None, started, w.envelope(started))
    await feed(w, started)  # redelivered: the same slots
    assert w.tables.pairs == {("m1", "e1"): "direct-1", ("m1", "e2"): "direct-1"}
    closed = RelationshipClosed(
        relationship_id="r1",
        reason="objectives_achieved",
        mentor_id="m1",
        mentee_ids=["e1", "e2"],
        rematch_requested=False,
        closed_on=date(2026, 6, 1),
    )
    await feed(w, closed)
    assert w.tables.pairs == {} and w.store.events() == []


async def test_a_closure_asking_for_a_rematch_opens_one_waiting_request_per_active_mentee(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1"), await mentee(w, "gone")
    w.tables.mentees["gone"].active = False
    closed = RelationshipClosed(
        relationship_id="r9",
        reason="no_fault_mentee",
        mentor_id="m1",
        mentee_ids=["e1", "gone"],
        rematch_requested=True,
        closed_on=date(2026, 6, 1),
    )
    await feed(w, closed)
    await feed(w, closed)  # the same fact twice opens one request
    rematch = rematch_request_id("r9", "e1")
    [unmatched] = w.store.events(rematch)
    assert isinstance(unmatched, RequestUnmatched) and unmatched.tried_mentor_ids == ["m1"]
    row = w.tables.requests[rematch]
    assert (row["status"], row["origin"], row["mentee_id"]) == ("unmatched", "rematch", "e1")
    assert w.store.events(rematch_request_id("r9", "gone")) == []


# --- HR -----------------------------------------------------------------------------------------------


async def test_the_latest_supervisor_record_wins_and_a_transfer_without_one_keeps_it(w) -> None:
    await hired(w, "E-mentee", "E-boss")
    transfer = WorkerTransferred(
        employee_id="E-mentee",
        effective_date=w.clock.now().date() + timedelta(days=1),
        recorded_at=w.clock.now(),
        old_department_id="D1",
        new_department_id="D2",
        new_department_name="Surgery",
    )
    await follow_hr.worker_transferred(w.deps, None, transfer, w.envelope(transfer))
    assert w.tables.supervisors["E-mentee"][0] == "E-boss"
    await feed(w, transfer.model_copy(update={"new_supervisor_id": "E-new"}))
    assert w.tables.supervisors["E-mentee"][0] == "E-new"
    late = transfer.model_copy(update={"new_supervisor_id": "E-old", "effective_date": date(2019, 1, 1)})
    await feed(w, late)
    assert w.tables.supervisors["E-mentee"][0] == "E-new"


# --- timers -------------------------------------------------------------------------------------------


async def test_the_response_deadline_timer_runs_the_expiry(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1")
    request_id = await forwarded(w, "e1", "m1")
    [timer] = w.timers.due(w.clock.advance(days=7))
    await timer_handlers(w.deps)[RESPONSE_DEADLINE](None, timer)
    assert w.types(request_id)[-2:] == ["RequestExpired", "RequestUnmatched"]
