"""HR facts, their timers, bulk imports and the ``hr.events`` handler table, against in-memory ports."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.profiles.adapters import bus
from services.profiles.application import (
    complete_hr_import,
    follow_worker,
    import_hr_rows,
    record_hr_fact,
    register,
    start_hr_import,
)
from services.profiles.application.commands import (
    CompleteHrImport,
    FollowWorker,
    ImportHrRows,
    RecordHrFact,
    Register,
    StartHrImport,
)
from services.profiles.domain.hr_import import ImportClosed, ImportNotFound, TooManyLeavers
from services.profiles.domain.worker import HR_TIMER, ImpossibleHrFact
from shared.events import Event
from shared.events.hr import HrEventRescinded, WorkerTerminated
from shared.inbox import PermanentError
from tests.helpers import import_row as row
from tests.unit.profiles.fakes import NOW, TODAY, hired, hr_envelope, mentor, updated, world

pytestmark = pytest.mark.unit


def recorded(fact: Event, subject: str | None = None, event_id: uuid.UUID | None = None) -> RecordHrFact:
    return RecordHrFact(fact, event_id or uuid.uuid4(), subject or fact.employee_id, uuid.uuid4())


async def record(w, *facts: Event) -> None:
    async with w.ports.transactions() as conn:
        for fact in facts:
            await record_hr_fact.handle(w.ports, conn, recorded(fact))


# --- record_hr_fact / follow_worker ---


async def test_a_hire_creates_a_person_record_named_by_the_employee_id() -> None:
    w = world()
    async with w.ports.transactions() as conn:
        followed = await record_hr_fact.handle(w.ports, conn, recorded(hired()))
    assert followed.linked is False and followed.after is not None and followed.after.name == "Grace"
    assert w.events("E100") == ["ProfileUpdated"]
    assert w.read_model.rows["E100"]["employee_id"] == "E100" and w.hr.workers["E100"]["participant_id"] == "E100"
    [update] = w.store.events("E100")
    assert update.source == "hr_feed" and {c.field for c in update.changes} >= {"name", "email", "employee_id"}


async def test_a_hire_links_to_the_participant_who_registered_with_that_email() -> None:
    w = world()
    await register.handle(w.ports, Register(mentor("p1", email="e100@example.edu")))
    await record(w, hired())
    assert w.hr.workers["E100"]["participant_id"] == "p1" and w.events("E100") == []
    assert w.read_model.rows["p1"]["employee_id"] == "E100"


async def test_a_fact_whose_subject_names_someone_else_is_impossible_and_keeps_nothing() -> None:
    w = world()
    with pytest.raises(ImpossibleHrFact, match="names another employee"):
        async with w.ports.transactions() as conn:
            await record_hr_fact.handle(w.ports, conn, recorded(hired(), subject="E999"))
    assert w.hr.facts == {} and w.events() == []


async def test_a_forward_dated_fact_waits_for_its_timer() -> None:
    w = world()
    later = date(2025, 4, 1)
    await record(w, hired(), updated(effective=later, department_name="Mathematics"))
    assert [(t.kind, t.subject, t.due_at.date()) for t in w.timers.armed.values()] == [(HR_TIMER, "E100", later)]
    assert len(w.events("E100")) == 1  # the update is kept, not applied
    w.clock.advance(days=31)
    handler = bus.hr_timer_handlers(w.ports)[HR_TIMER]
    [timer] = w.timers.due(w.clock.now())
    async with w.ports.transactions() as conn:
        await handler(conn, timer)
    assert w.events("E100") == ["ProfileUpdated", "ProfileUpdated"]
    assert w.store.events("E100")[-1].changes[0].new == "Mathematics"


async def test_a_rescission_withdraws_the_fact_and_the_participant_follows() -> None:
    w = world()
    termination_id = uuid.uuid4()
    termination = WorkerTerminated(
        employee_id="E100", effective_date=date(2024, 6, 1), recorded_at=NOW, termination_type="voluntary"
    )
    async with w.ports.transactions() as conn:
        await record_hr_fact.handle(w.ports, conn, recorded(hired()))
        await record_hr_fact.handle(w.ports, conn, recorded(termination, event_id=termination_id))
    assert w.events("E100")[-1] == "ParticipantDeactivated"
    rescission = HrEventRescinded(
        employee_id="E100",
        effective_date=date(2024, 6, 1),
        recorded_at=NOW,
        rescinded_event_id=str(termination_id),
        rescinded_type="WorkerTerminated",
    )
    await record(w, rescission)
    assert w.events("E100")[-1] == "ParticipantReactivated"


async def test_follow_worker_without_new_facts_changes_nothing() -> None:
    w = world()
    await record(w, hired())
    async with w.ports.transactions() as conn:
        followed = await follow_worker.handle(w.ports, conn, FollowWorker("E100", TODAY))
    assert followed.before == followed.after and len(w.events("E100")) == 1


async def test_facts_about_an_erased_worker_are_not_kept() -> None:
    w = world()
    await record(w, hired())
    async with w.ports.transactions() as conn:
        await w.ports.hr.erase_worker(conn, "E100")
    await record(w, updated(location="North site"))
    assert w.hr.facts == {} and len(w.events("E100")) == 1


# --- the hr.events handler table ---


async def test_every_hr_fact_has_one_step_and_an_impossible_one_is_permanent() -> None:
    w = world()
    table = bus.hr_handlers(w.ports).inbox_handlers()
    assert set(table) == {
        "WorkerHired",
        "WorkerUpdated",
        "WorkerTransferred",
        "WorkerPromoted",
        "WorkerOnLeave",
        "WorkerReturned",
        "WorkerTerminated",
        "HrEventRescinded",
    }
    hire = hr_envelope(hired())
    async with w.ports.transactions() as conn:
        await table["WorkerHired"](conn, hired(), hire)
    assert w.store.events("E100") and w.store.streams["E100"][0].envelope.causationid == hire.id
    with pytest.raises(PermanentError, match="names another employee"):
        await table["WorkerHired"](None, hired("E2"), hr_envelope(hired("E2"), subject="E3"))


# --- bulk import ---


async def test_a_delta_import_applies_rows_and_reports_the_bad_ones() -> None:
    w = world()
    import_id, leavers, workforce = await start_hr_import.handle(w.ports, StartHrImport("delta", dry_run=False))
    assert (leavers, workforce) == ([], 0) and w.imports.sessions[import_id]["as_of"] == TODAY
    rows = [(1, row("E1")), (2, row("E2", employment_status="leave")), (3, row("E3", work_email="not an email"))]
    results, counts = await import_hr_rows.handle(w.ports, ImportHrRows(import_id, rows))
    assert counts == {"created": 1, "deactivated": 1, "error": 1}
    [bad] = [r for r in results if r.outcome == "error"]
    assert (bad.row, bad.employee_id, [e.field for e in bad.errors]) == (3, "E3", ["work_email"])
    assert set(w.read_model.rows) == {"E1", "E2"}
    _, counts = await import_hr_rows.handle(w.ports, ImportHrRows(import_id, rows[:1]))
    assert counts == {"unchanged": 1} and w.imports.sessions[import_id]["counts"] == {
        "created": 1,
        "deactivated": 1,
        "error": 1,
        "unchanged": 1,
    }


async def test_a_row_that_collides_is_an_error_of_its_own_and_the_others_apply() -> None:
    w = world()
    await register.handle(w.ports, Register(mentor("p1", email="e9@example.edu", employee_id="E8")))
    import_id, _, _ = await start_hr_import.handle(w.ports, StartHrImport("delta", dry_run=False))
    rows = [(1, row("E9")), (2, row("E1"))]
    results, counts = await import_hr_rows.handle(w.ports, ImportHrRows(import_id, rows))
    assert counts == {"error": 1, "created": 1}
    assert results[0].errors[0].field == "work_email" and "belongs to employee E8" in results[0].errors[0].reason
    assert all(fact.employee_id != "E9" for fact, _ in w.hr.facts.values())  # the row's savepoint undid it
    assert set(w.read_model.rows) == {"p1", "E1"}


async def test_a_dry_run_reports_but_records_nothing() -> None:
    w = world()
    import_id, _, _ = await start_hr_import.handle(w.ports, StartHrImport("delta", dry_run=True))
    results, counts = await import_hr_rows.handle(w.ports, ImportHrRows(import_id, [(1, row("E1"))]))
    assert counts == {"created": 1} and results[0].changes["name"] == {"old": None, "new": "Worker E1"}
    assert w.events() == [] and w.hr.facts == {} and w.read_model.rows == {}
    assert w.imports.sessions[import_id]["counts"] == {"created": 1}


async def test_a_snapshot_terminates_its_leavers_on_completion() -> None:
    w = world()
    first, _, _ = await start_hr_import.handle(w.ports, StartHrImport("delta", dry_run=False))
    await import_hr_rows.handle(w.ports, ImportHrRows(first, [(n, row(f"E{n}")) for n in range(1, 11)]))
    await complete_hr_import.handle(w.ports, CompleteHrImport(first))
    roster = [f"E{n}" for n in range(1, 10)]
    snapshot, leavers, workforce = await start_hr_import.handle(
        w.ports, StartHrImport("snapshot", dry_run=False, as_of=date(2025, 2, 28), roster=roster)
    )
    assert (leavers, workforce) == (["E10"], 10)
    results, _ = await import_hr_rows.handle(w.ports, ImportHrRows(snapshot, [(1, row("E77"))]))
    assert results[0].errors[0].reason == "is not in the snapshot's roster of employees"
    session = await complete_hr_import.handle(w.ports, CompleteHrImport(snapshot))
    assert session["counts"] == {"error": 1, "leavers": 1} and session["completed_at"] == NOW
    assert w.events("E10")[-1] == "ParticipantDeactivated"
    with pytest.raises(ImportClosed, match="already completed"):
        await complete_hr_import.handle(w.ports, CompleteHrImport(snapshot))
    with pytest.raises(ImportClosed, match="start a new one"):
        await import_hr_rows.handle(w.ports, ImportHrRows(snapshot, [(1, row("E1"))]))


async def test_a_snapshot_with_too_many_leavers_is_refused_before_anything_is_kept() -> None:
    w = world()
    first, _, _ = await start_hr_import.handle(w.ports, StartHrImport("delta", dry_run=False))
    await import_hr_rows.handle(w.ports, ImportHrRows(first, [(1, row("E1")), (2, row("E2"))]))
    with pytest.raises(TooManyLeavers, match="1 of 2 current workers"):
        await start_hr_import.handle(w.ports, StartHrImport("snapshot", dry_run=False, roster=["E1"]))
    assert list(w.imports.sessions) == [first]
    forced = StartHrImport("snapshot", dry_run=True, roster=["E1"], force=True)
    dry, leavers, _ = await start_hr_import.handle(w.ports, forced)
    session = await complete_hr_import.handle(w.ports, CompleteHrImport(dry))
    assert leavers == ["E2"] and session["counts"] == {"leavers": 1} and w.events("E2")[-1] == "ProfileUpdated"


async def test_an_unknown_import_is_not_found() -> None:
    w = world()
    missing = uuid.uuid4()
    with pytest.raises(ImportNotFound, match=f"no import {missing}"):
        await import_hr_rows.handle(w.ports, ImportHrRows(missing, [(1, row("E1"))]))
    with pytest.raises(ImportNotFound):
        await complete_hr_import.handle(w.ports, CompleteHrImport(missing))
