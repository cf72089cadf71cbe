"""Reminders set and cleared by events and recorded when they fire, the daily digest, and preferences —
on in-memory ports, the timers fired through the service's own timer table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifications.adapters.timers import timer_handlers
from services.notifications.application import reminders, tell
from services.notifications.application.commands import SetPreferences, ShowPreferences
from services.notifications.application.deliver import deliver_due
from services.notifications.application.preferences import set_preferences, show_preferences
from services.notifications.application.record_notices import record
from services.notifications.domain.audience import Notice
from services.notifications.domain.errors import ChannelUnavailable, NotTheirs
from services.notifications.domain.preferences import Preferences
from shared.events.matching import MentorResponded, RequestForwarded
from shared.events.relationships import AgreementSigned, MeetingLogged, RelationshipStarted
from tests.unit.notifications.fakes import START, World, closed, options

pytestmark = pytest.mark.unit


async def fire_due(world: World) -> list[str]:
    """What the timer wheel does at the clock's now: each due timer's handler in a transaction of its own."""
    handlers = timer_handlers(world.deps)
    fired = []
    for timer in world.timers.due(world.clock.now()):
        async with world.transactions() as conn:
            await handlers[timer.kind](conn, timer)
        fired.append(timer.kind)
    return fired


def forwarded(respond_by: datetime) -> RequestForwarded:
    return RequestForwarded(
        request_id="req-1", mentee_id="mentee-1", mentor_id="mentor-1", choice_rank=1, respond_by=respond_by
    )


async def test_the_mentor_is_reminded_before_the_response_deadline_unless_they_answered() -> None:
    world = World()
    respond_by = START + timedelta(days=7)
    async with world.transactions() as conn:
        await reminders.remind_before_deadline(world.deps, conn, forwarded(respond_by))
        await reminders.remind_before_deadline(
            world.deps, conn, forwarded(START + timedelta(days=1)).model_copy(update={"request_id": "req-late"})
        )
    [timer] = await world.timers.pending(None)
    assert (timer.kind, timer.due_at) == ("response-reminder", respond_by - timedelta(days=2))  # too late for req-late

    world.clock.advance(days=5)
    assert await fire_due(world) == ["response-reminder"]
    [row] = world.intents.rows.values()
    assert (row.recipient_id, row.template, row.context["respond_by"]) == (
        "mentor-1",
        "response_reminder",
        respond_by.isoformat(),
    )

    async with world.transactions() as conn:
        await reminders.remind_before_deadline(world.deps, conn, forwarded(START + timedelta(days=9)))
        answered = MentorResponded(request_id="req-1", mentor_id="mentor-1", choice_rank=1, accepted=True)
        await reminders.mentor_answered(world.deps, conn, answered)
    assert await world.timers.pending(None) == []


def signed(signed_on: date) -> AgreementSigned:
    return AgreementSigned(
        relationship_id="rel-1",
        cadence_weeks_max=4,
        cadence_weeks_min=2,
        format="video",
        confidentiality_accepted=True,
        no_fault_termination_acknowledged=True,
        signed_by=["mentor-1", "mentee-1"],
        signed_on=signed_on,
        review_due_on=date(2027, 3, 1),
    )


def met(held_on: date, relationship_id: str = "rel-1") -> MeetingLogged:
    return MeetingLogged(
        relationship_id=relationship_id, meeting_id=f"m-{held_on}", held_on=held_on, duration_minutes=60, format="video"
    )


async def test_the_cadence_reminder_is_set_by_the_agreement_moved_by_meetings_and_fires_to_both_parties() -> None:
    world = World()
    started = RelationshipStarted(
        relationship_id="rel-1",
        model="one_to_one",
        mentor_id="mentor-1",
        mentee_ids=["mentee-1"],
        match_id="match-1",
        started_on=date(2026, 3, 1),
    )
    async with world.transactions() as conn:
        await tell.relationship_started(world.deps, conn, started)
        await reminders.agreement_signed(world.deps, conn, signed(date(2026, 3, 2)))
        await reminders.meeting_logged(world.deps, conn, met(date(2026, 3, 9)))
        await reminders.meeting_logged(world.deps, conn, met(date(2026, 3, 9), "rel-unknown"))  # no cadence: nothing
    [timer] = await world.timers.pending(None)
    # 4 weeks after the last meeting at 09:00 UTC, less the 7-day lead
    assert timer.due_at == datetime(2026, 4, 6, 9, 0, tzinfo=UTC) - timedelta(days=7)
    assert timer.payload == {"last_met_on": "2026-03-09", "cadence_weeks_max": 4}

    world.clock.advance(days=27)
    assert await fire_due(world) == []
    world.clock.advance(days=1)
    assert await fire_due(world) == ["cadence-reminder"]
    assert {(r.recipient_id, r.context["runs_out_on"]) for r in world.intents.rows.values()} == {
        ("mentor-1", "2026-04-06"),
        ("mentee-1", "2026-04-06"),
    }


async def test_closing_the_relationship_cancels_its_cadence_reminder() -> None:
    world = World()
    async with world.transactions() as conn:
        await world.relationships.remember(conn, "rel-1", "mentor-1", ["mentee-1"])
        await reminders.agreement_signed(world.deps, conn, signed(date(2026, 3, 2)))
        await reminders.relationship_closed(world.deps, conn, closed(on=date(2026, 3, 20)))
    assert await world.timers.pending(None) == []


async def test_the_daily_digest_bundles_what_was_held_into_one_message_per_channel() -> None:
    world = World()
    await world.person("mentee-1", "Tom Trainee")
    await world.person("mentor-1", "Prof Mira Mentor")
    async with world.transactions() as conn:
        await world.preferences.save(conn, "mentee-1", Preferences(["email"], digest=True))
        context = {"match_id": "match-1", "mentee_id": "mentee-1", "mentor_id": "mentor-1", "role": "mentee"}
        await record(
            world.deps, conn, "cause-1", [Notice("mentee-1", "introduction", {**context, "other_id": "mentor-1"})]
        )
        expired = {"request_id": "req-1", "mentee_id": "mentee-1", "mentor_id": "mentor-1", "choice_rank": 1}
        await record(world.deps, conn, "cause-2", [Notice("mentee-1", "request_expired", expired)])
    assert await deliver_due(world.delivery) == 0  # held, not sent

    world.clock.advance(days=1)
    assert await fire_due(world) == ["digest"]
    assert set(world.intents.statuses().values()) == {"bundled", "pending"}
    assert await deliver_due(world.delivery) == 1
    [digest] = world.email.sent
    assert digest.template == "digest" and digest.name == "Tom Trainee"
    assert "Prof Mira Mentor" in digest.text and digest.text.count("== ") == 2


async def test_preferences_are_saved_once_per_channel_and_read_back_with_the_defaults_before() -> None:
    world = World()
    show = ShowPreferences("mentee-1", caller_id="mentee-1", caller_is_admin=False)
    assert await show_preferences(world.deps, show) == Preferences(["email"], False)
    chosen = SetPreferences(
        "mentee-1", ("webhook", "email", "webhook"), True, caller_id="admin-1", caller_is_admin=True
    )
    assert await set_preferences(world.deps, chosen) == Preferences(["email", "webhook"], True)
    assert await show_preferences(world.deps, show) == Preferences(["email", "webhook"], True)


async def test_only_the_participant_or_an_admin_may_read_or_set_preferences() -> None:
    world = World()
    with pytest.raises(NotTheirs, match="only the participant themself or an admin"):
        await set_preferences(world.deps, SetPreferences("mentee-1", ("email",), False, "mentee-2", False))
    with pytest.raises(NotTheirs):
        await show_preferences(world.deps, ShowPreferences("mentee-1", "mentee-2", False))
    assert world.preferences.saved == {}


async def test_a_channel_the_institution_has_not_configured_is_refused_naming_the_field() -> None:
    world = World(opts=options(webhook_url=None))
    with pytest.raises(ChannelUnavailable) as refused:
        await set_preferences(world.deps, SetPreferences("mentee-1", ("email", "webhook"), False, "mentee-1", False))
    assert (refused.value.field, refused.value.reason) == ("channels", "webhook is not configured for this institution")
    assert world.preferences.saved == {}
