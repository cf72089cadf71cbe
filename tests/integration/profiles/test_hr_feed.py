"""The HR feed on the real broker and Postgres: each case the feed can throw at profiles."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

from shared.auth import Role
from shared.bus import dead_letter_topic
from shared.events.hr import (
    HrEventRescinded,
    WorkerOnLeave,
    WorkerPromoted,
    WorkerReturned,
    WorkerTerminated,
    WorkerTransferred,
)
from shared.eventstore import EventStore
from shared.timers import TimerWheel
from tests.helpers import consume_all, eventually
from tests.integration.profiles.hr_events import envelope, fact, hired, updated
from tests.integration.service_harness import auth


def timer_wheel(hr_feed, clock, poll_seconds: float = 1.0) -> TimerWheel:
    return TimerWheel(hr_feed.pool, hr_feed.timer_handlers, clock, poll_seconds=poll_seconds)


async def fire_hr_timers(hr_feed, clock) -> int:
    return await timer_wheel(hr_feed, clock).fire_due()


async def stream(pool, participant_id: str = "E100") -> list[tuple[str, dict]]:
    """The stream as appended (personal fields are sealed at rest; the store opens them)."""
    async with pool.acquire() as conn:
        stored = await EventStore("profiles").read_stream(conn, participant_id)
    return [(s.envelope.type, s.envelope.data) for s in stored]


async def participant(pool, participant_id: str = "E100") -> dict | None:
    row = await pool.fetchrow("SELECT * FROM participants WHERE participant_id = $1", participant_id)
    return dict(row) if row else None


async def test_a_hire_creates_a_person_record_and_a_redelivery_changes_nothing(hr_feed) -> None:
    hire = envelope(hired())
    await hr_feed.send(hire, hire)
    await hr_feed.send(envelope(hired("E200")))
    await hr_feed.until_handled(2)

    [(kind, data)] = await stream(hr_feed.pool)
    assert kind == "ProfileUpdated" and data["source"] == "hr_feed"
    assert {c["field"]: c["new"] for c in data["changes"]} == {
        "employee_id": "E100",
        "name": "Grace",
        "email": "e100@example.edu",
        "profile.job_function": "faculty",
        "profile.department": "Computer Science",
        "profile.location": "Main campus",
    }
    row = await participant(hr_feed.pool)
    assert row["roles"] == [] and row["active"] and row["employee_id"] == "E100"
    assert await hr_feed.handled() == 2  # the second delivery of the hire found its id in the inbox
    assert await hr_feed.pool.fetchval("SELECT count(*) FROM hr_facts WHERE employee_id = 'E100'") == 1


async def test_an_update_before_the_hire_is_applied_in_effective_order(hr_feed) -> None:
    late_hire = envelope(hired())
    await hr_feed.send(envelope(updated(department_name="Mathematics", department_id="D2")), late_hire)
    await hr_feed.until_handled(2)
    assert (await participant(hr_feed.pool))["profile"]["department"] == "Mathematics"
    assert len(await stream(hr_feed.pool)) == 1  # the earlier-effective hire arrived late and changed nothing


async def test_a_transfer_for_an_unknown_employee_waits_for_the_hire(hr_feed) -> None:
    transfer = fact(
        WorkerTransferred,
        "E300",
        old_department_id="D1",
        new_department_id="D9",
        new_department_name="Surgery",
        new_location="North site",
    )
    promotion = fact(
        WorkerPromoted,
        "E300",
        date(2024, 7, 1),
        old_title="Professor",
        new_title="Chair",
        new_job_function="administration",
    )
    await hr_feed.send(envelope(transfer), envelope(promotion))
    await hr_feed.until_handled(2)
    assert await participant(hr_feed.pool, "E300") is None
    assert await hr_feed.pool.fetchval("SELECT participant_id FROM hr_workers WHERE employee_id = 'E300'") is None

    await hr_feed.send(envelope(hired("E300")))
    await hr_feed.until_handled(3)
    row = await participant(hr_feed.pool, "E300")
    assert (row["profile"]["department"], row["profile"]["location"], row["profile"]["job_function"]) == (
        "Surgery",
        "North site",
        "administration",
    )


async def test_a_future_termination_takes_effect_when_its_date_arrives(hr_feed, clock) -> None:
    termination = fact(WorkerTerminated, effective=date(2025, 3, 10), termination_type="retirement")
    await hr_feed.send(envelope(hired()), envelope(termination))
    await hr_feed.until_handled(2)
    assert (await participant(hr_feed.pool))["active"]
    assert await fire_hr_timers(hr_feed, clock) == 0

    clock.advance(timedelta(days=9))
    assert await fire_hr_timers(hr_feed, clock) == 1
    kind, data = (await stream(hr_feed.pool))[-1]
    assert kind == "ParticipantDeactivated"
    assert (data["reason"], data["effective_date"]) == ("left_institution", "2025-03-10")
    assert not (await participant(hr_feed.pool))["active"]
    assert await fire_hr_timers(hr_feed, clock) == 0  # fired once, then gone


async def test_leave_pauses_and_return_resumes(hr_feed) -> None:
    leave = fact(WorkerOnLeave, effective=date(2024, 9, 1), leave_type="parental")
    back = fact(WorkerReturned, effective=date(2025, 1, 6))
    await hr_feed.send(envelope(hired()), envelope(leave), envelope(back))
    await hr_feed.until_handled(3)
    kinds = [(kind, data.get("reason"), data.get("effective_date")) for kind, data in await stream(hr_feed.pool)]
    assert kinds[1:] == [
        ("ParticipantDeactivated", "on_leave", "2024-09-01"),
        ("ParticipantReactivated", None, "2025-01-06"),
    ]
    assert (await participant(hr_feed.pool))["active"]


async def test_a_rescinded_termination_reactivates(hr_feed) -> None:
    termination = envelope(fact(WorkerTerminated, effective=date(2025, 2, 1), termination_type="involuntary"))
    rescinded = fact(
        HrEventRescinded,
        effective=date(2025, 2, 20),
        rescinded_event_id=str(termination.id),
        rescinded_type="WorkerTerminated",
    )
    await hr_feed.send(envelope(hired()), termination, envelope(rescinded))
    await hr_feed.until_handled(3)
    kinds = [(kind, data.get("effective_date")) for kind, data in await stream(hr_feed.pool)]
    assert kinds[1:] == [("ParticipantDeactivated", "2025-02-01"), ("ParticipantReactivated", "2025-02-01")]
    assert (await participant(hr_feed.pool))["active"]


async def test_a_rescission_that_overtakes_its_fact_still_withdraws_it(hr_feed) -> None:
    termination = envelope(fact(WorkerTerminated, effective=date(2025, 2, 1), termination_type="voluntary"))
    rescinded = fact(HrEventRescinded, rescinded_event_id=str(termination.id), rescinded_type="WorkerTerminated")
    await hr_feed.send(envelope(hired()), envelope(rescinded), termination)
    await hr_feed.until_handled(3)
    assert [kind for kind, _ in await stream(hr_feed.pool)] == ["ProfileUpdated"]


async def test_malformed_records_are_dead_lettered_and_the_feed_flows_on(hr_feed, broker) -> None:
    bad_schema = envelope(hired()).model_copy(update={"data": {"employee_id": "E100", "effective_date": "soon"}})
    wrong_subject = envelope(hired("E500"), subject="E501")
    impossible_leave = envelope(
        fact(WorkerOnLeave, effective=date(2024, 9, 1), leave_type="medical", expected_return_date=date(2024, 8, 1))
    )
    stray_rescission = fact(
        HrEventRescinded, "E999", rescinded_event_id=str(uuid.uuid4()), rescinded_type="HrEventRescinded"
    )
    await hr_feed.send(
        b"{not json", bad_schema, wrong_subject, impossible_leave, envelope(stray_rescission), envelope(hired())
    )
    await hr_feed.until_handled(1)

    dead = await consume_all(broker.bootstrap, dead_letter_topic(hr_feed.group), expected=5)
    reasons = [dict(r.headers)["x-dlq-reason"].decode() for r in dead]
    assert reasons == ["invalid-envelope", "invalid-payload", "rejected", "rejected", "rejected"]
    errors = [dict(r.headers)["x-dlq-error"].decode() for r in dead[2:]]
    assert "names another employee" in errors[0] and "expected_return_date" in errors[1]
    assert "cannot rescind a HrEventRescinded" in errors[2]
    assert (await participant(hr_feed.pool))["active"]  # the good hire behind them went through
    assert await participant(hr_feed.pool, "E500") is None


async def test_a_registration_lands_on_the_hr_person_record(hr_feed, api) -> None:
    await hr_feed.send(envelope(hired()))
    await hr_feed.until_handled(1)
    me = auth("E100", Role.mentor)
    body = {
        "name": "Grace Hopper",
        "email": "grace@example.edu",
        "capacity": 2,
        "employee_id": "E100",
        "profile": {"biography": "Compilers.", "specialty": "computer science", "career_stage": "senior"},
    }
    registered = await api.post("/mentors", json=body, headers=me)
    assert registered.status_code == 201, registered.text
    assert registered.json() == {"participant_id": "E100", "version": 2}
    row = (await api.get("/participants/E100", headers=me)).json()
    assert row["roles"] == ["mentor"] and row["employee_id"] == "E100" and row["email"] == "grace@example.edu"

    someone_else = auth("intruder", Role.mentor)
    taken = await api.post("/mentors", json={**body, "email": "x@example.edu"}, headers=someone_else)
    assert taken.status_code == 409 and "E100" not in taken.json()["detail"]  # who holds it: admins only
    by_admin = auth("director-1", Role.admin)
    taken = await api.post(
        "/mentors", json={**body, "email": "x@example.edu", "participant_id": "p9"}, headers=by_admin
    )
    assert taken.status_code == 409 and "employee E100 is already participant E100" in taken.json()["detail"]


async def test_a_hire_links_to_a_participant_who_registered_first(hr_feed, api) -> None:
    me = auth("u-42", Role.mentee)
    body = {
        "name": "Lin",
        "email": "lin@example.edu",
        "employee_id": "E700",
        "profile": {"biography": "PhD student.", "specialty": "genomics", "career_stage": "trainee"},
    }
    assert (await api.post("/mentees", json=body, headers=me)).status_code == 201
    await hr_feed.send(
        envelope(hired("E700")),
        envelope(fact(WorkerTerminated, "E700", date(2025, 2, 1), termination_type="end_of_contract")),
    )
    await hr_feed.until_handled(2)
    assert await participant(hr_feed.pool, "E700") is None
    row = await participant(hr_feed.pool, "u-42")
    assert row["name"] == "Lin" and row["email"] == "lin@example.edu"  # HR fills gaps, keeps what the person gave
    assert row["profile"]["department"] == "Computer Science"
    assert (row["active"], row["inactive_reason"]) == (False, "left_institution")


async def test_the_timer_task_fires_by_itself_when_the_clock_moves(hr_feed, clock) -> None:
    leave = fact(WorkerOnLeave, effective=date(2025, 4, 1), leave_type="sabbatical")
    await hr_feed.send(envelope(hired()), envelope(leave))
    await hr_feed.until_handled(2)
    stop = asyncio.Event()
    task = asyncio.create_task(timer_wheel(hr_feed, clock, poll_seconds=0.05).run(stop))
    try:
        clock.advance(timedelta(days=31))

        async def paused() -> bool:
            return not (await participant(hr_feed.pool))["active"]

        await eventually(paused, timeout=10)
    finally:
        stop.set()
        await task
    assert (await participant(hr_feed.pool))["inactive_reason"] == "on_leave"
