"""Consumed events → recorded intents, remembered facts and contacts, on in-memory ports (no Postgres)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.notifications.adapters.bus import bus_handlers
from services.notifications.application import contacts, tell
from services.notifications.application.record_notices import record
from services.notifications.domain.audience import Notice
from services.notifications.domain.causes import notification_id
from services.notifications.domain.errors import UnknownSubject
from services.notifications.domain.preferences import Preferences
from shared.envelope import Envelope
from shared.events import Event
from shared.events.matching import (
    MatchApproved,
    RequestExpired,
    RequestForwarded,
    RequestRanked,
    RequestReviewed,
    RequestUnmatched,
)
from shared.events.profiles import (
    FieldChange,
    MenteeRegistered,
    ParticipantErased,
    ProfileFields,
    ProfileUpdated,
)
from shared.events.relationships import (
    AgreementReviewDue,
    RelationshipLagging,
    RelationshipStarted,
)
from shared.inbox import PermanentError
from tests import helpers
from tests.unit.notifications.fakes import DIRECTOR, OFFICE, START, World, closed

pytestmark = pytest.mark.unit

CAUSE = "7d4a3c1e-0000-4000-8000-000000000001"


def ranked(request_id: str = "req-1", mentee: str = "mentee-1") -> RequestRanked:
    return RequestRanked(
        request_id=request_id,
        mentee_id=mentee,
        biography="Cardiology fellow.",
        motivation="Career planning.",
        ranked_mentor_ids=["mentor-1", "mentor-2"],
    )


def forwarded(request_id: str = "req-1") -> RequestForwarded:
    return RequestForwarded(
        request_id=request_id,
        mentee_id="mentee-1",
        mentor_id="mentor-1",
        choice_rank=1,
        respond_by=START + timedelta(7),
    )


def started(relationship_id: str = "rel-1") -> RelationshipStarted:
    return RelationshipStarted(
        relationship_id=relationship_id,
        model="group",
        mentor_id="mentor-1",
        mentee_ids=["mentee-1", "mentee-2"],
        match_id="match-1",
        started_on=date(2026, 3, 1),
    )


def to_whom(world: World) -> dict[tuple[str, str, str], str]:
    return world.intents.statuses()


async def test_a_cause_is_recorded_once_per_recipient_and_chosen_channel() -> None:
    world = World()
    async with world.transactions() as conn:
        await world.preferences.save(conn, "mentor-1", Preferences(["email", "webhook"]))
        await world.preferences.save(conn, "mentee-1", Preferences(["webhook"]))
        notices = [Notice("mentor-1", "introduction", {"other_id": "mentee-1"}), Notice("mentee-1", "introduction")]
        assert await record(world.deps, conn, CAUSE, notices) == 3
        assert await record(world.deps, conn, CAUSE, notices) == 0  # redelivered: nothing new
    assert to_whom(world) == {
        ("mentor-1", "email", "introduction"): "pending",
        ("mentor-1", "webhook", "introduction"): "pending",
        ("mentee-1", "webhook", "introduction"): "pending",
    }
    assert notification_id(CAUSE, "mentor-1", "email") in world.intents.rows
    assert world.intents.wakes == 1


async def test_a_digest_reader_s_notices_are_held_until_the_digest_hour() -> None:
    world = World()
    async with world.transactions() as conn:
        await world.preferences.save(conn, "mentee-1", Preferences(["email"], digest=True))
        await record(world.deps, conn, CAUSE, [Notice("mentee-1", "request_expired")])
    assert to_whom(world) == {("mentee-1", "email", "request_expired"): "held"}
    [digest] = await world.timers.pending(None)
    assert (digest.kind, digest.subject) == ("digest", "mentee-1")
    assert digest.due_at == START.replace(hour=7) + timedelta(days=1)  # 07:00 UTC has passed today


async def test_request_ranked_is_remembered_and_the_directors_are_asked_to_review() -> None:
    world = World()
    async with world.transactions() as conn:
        await tell.request_ranked(world.deps, conn, ranked(), CAUSE)
    assert world.requests.requests["req-1"] == ("mentee-1", "Cardiology fellow.")
    assert to_whom(world) == {
        (DIRECTOR, "email", "request_for_review"): "pending",
        (OFFICE, "email", "request_for_review"): "pending",
    }


async def test_a_forwarded_request_carries_the_remembered_biography_to_the_mentor() -> None:
    world = World()
    async with world.transactions() as conn:
        await tell.request_ranked(world.deps, conn, ranked(), "cause-ranked")
        await tell.request_forwarded(world.deps, conn, forwarded(), CAUSE)
    [row] = [r for r in world.intents.rows.values() if r.template == "request_forwarded"]
    assert (row.recipient_id, row.context["biography"]) == ("mentor-1", "Cardiology fellow.")


async def test_a_declined_or_expired_request_is_told_to_its_mentee_and_an_approval_to_no_one() -> None:
    world = World()
    async with world.transactions() as conn:
        await tell.request_ranked(world.deps, conn, ranked(), "cause-ranked")
        approved = RequestReviewed(request_id="req-1", reviewer_id=DIRECTOR, approved=True)
        await tell.request_reviewed(world.deps, conn, approved, "cause-approved")
        declined = RequestReviewed(request_id="req-1", reviewer_id=DIRECTOR, approved=False, decline_reason="scope")
        await tell.request_reviewed(world.deps, conn, declined, "cause-declined")
        expired = RequestExpired(request_id="req-1", mentor_id="mentor-1", choice_rank=1, respond_by=START)
        await tell.request_expired(world.deps, conn, expired, "cause-expired")
    assert {k for k in to_whom(world) if k[0] == "mentee-1"} == {
        ("mentee-1", "email", "request_declined"),
        ("mentee-1", "email", "request_expired"),
    }


async def test_an_event_about_a_request_never_seen_is_an_unknown_subject_and_leaves_nothing() -> None:
    world = World()
    declined = RequestReviewed(request_id="req-x", reviewer_id=DIRECTOR, approved=False, decline_reason="scope")
    with pytest.raises(UnknownSubject, match="req-x"):
        async with world.transactions() as conn:
            await tell.request_ranked(world.deps, conn, ranked("req-1"), "cause-ranked")
            await tell.request_reviewed(world.deps, conn, declined, CAUSE)
    assert world.intents.rows == {} and world.requests.requests == {}  # the whole transaction rolled back


async def test_a_match_introduces_both_and_an_unmatched_request_goes_to_the_directors() -> None:
    world = World()
    async with world.transactions() as conn:
        approved = MatchApproved(match_id="match-1", mentee_id="mentee-1", mentor_id="mentor-1", mode="admin")
        await tell.match_approved(world.deps, conn, approved, "cause-match")
        unmatched = RequestUnmatched(request_id="req-1", mentee_id="mentee-1", tried_mentor_ids=["mentor-1"])
        await tell.request_unmatched(world.deps, conn, unmatched, "cause-unmatched")
    assert sorted(to_whom(world)) == [
        (DIRECTOR, "email", "request_unmatched"),
        ("mentee-1", "email", "introduction"),
        ("mentor-1", "email", "introduction"),
        (OFFICE, "email", "request_unmatched"),
    ]


async def test_relationship_events_reach_every_party_once_it_is_known() -> None:
    world = World()
    lagging = RelationshipLagging(relationship_id="rel-1", last_meeting_on=None, days_since=60, cadence_weeks_max=8)
    async with world.transactions() as conn:
        with pytest.raises(UnknownSubject, match="RelationshipStarted"):
            await tell.relationship_lagging(world.deps, conn, lagging, "cause-early")
        await tell.relationship_started(world.deps, conn, started())
        await tell.relationship_lagging(world.deps, conn, lagging, "cause-lagging")
        review = AgreementReviewDue(relationship_id="rel-1", due_on=date(2026, 6, 1))
        await tell.review_due(world.deps, conn, review, "cause-review")
    parties = {"mentor-1", "mentee-1", "mentee-2"}
    assert {r for r, _, t in to_whom(world) if t == "relationship_lagging"} == parties
    assert {r for r, _, t in to_whom(world) if t == "agreement_review_due"} == parties


async def test_a_circle_without_a_mentor_and_a_groups_co_mentors_are_told_too() -> None:
    world = World()
    circle = RelationshipStarted(
        relationship_id="circle-1",
        model="peer",
        mentor_id=None,
        mentee_ids=["peer-1", "peer-2"],
        match_id="match-2",
        started_on=date(2026, 3, 1),
    )
    group = RelationshipStarted(
        relationship_id="group-1",
        model="group",
        mentor_id="mentor-1",
        co_mentor_ids=["mentor-2"],
        mentee_ids=["mentee-1"],
        match_id="match-3",
        started_on=date(2026, 3, 1),
    )
    async with world.transactions() as conn:
        for event in (circle, group):
            await tell.relationship_started(world.deps, conn, event)
            lagging = RelationshipLagging(
                relationship_id=event.relationship_id, last_meeting_on=None, days_since=70, cadence_weeks_max=8
            )
            await tell.relationship_lagging(world.deps, conn, lagging, f"cause-{event.relationship_id}")
    told = {r for r, _, t in to_whom(world) if t == "relationship_lagging"}
    assert told == {"peer-1", "peer-2", "mentor-1", "mentor-2", "mentee-1"}


@pytest.mark.parametrize(("rematch", "told"), [(True, {DIRECTOR, OFFICE}), (False, set())])
async def test_a_closed_relationship_asks_the_directors_for_a_rematch_only_when_requested(rematch, told) -> None:
    world = World()
    async with world.transactions() as conn:
        await tell.relationship_closed(world.deps, conn, closed(rematch=rematch), CAUSE)
    assert {r for r, _, _ in to_whom(world)} == told


def registered(participant_id: str, name: str) -> MenteeRegistered:
    profile = ProfileFields(biography="", specialty="cardiology", career_stage="trainee")
    return MenteeRegistered(
        participant_id=participant_id, name=name, email=f"{participant_id}@uni.example", profile=profile
    )


async def test_contacts_follow_registrations_and_changes_of_name_or_address_only() -> None:
    world = World()
    async with world.transactions() as conn:
        await contacts.registered(world.deps, conn, registered("mentee-1", "Tom Trainee"))
        changes = [
            FieldChange(field="email", old="mentee-1@uni.example", new="tom@new.example"),
            FieldChange(field="profile.specialty", old="cardiology", new="oncology"),
        ]
        await contacts.profile_updated(world.deps, conn, ProfileUpdated(participant_id="mentee-1", changes=changes))
    assert world.contacts.contacts["mentee-1"] == {
        "name": "Tom Trainee",
        "email": "tom@new.example",
        "time_zone": "UTC",
    }


async def test_the_time_zone_follows_profile_changes_and_a_value_that_is_no_zone_is_ignored() -> None:
    world = World()
    async with world.transactions() as conn:
        await contacts.registered(world.deps, conn, registered("mentee-1", "Tom Trainee"))
        for new in ("Europe/Berlin", "<sealed>", "Not/AZone"):
            change = FieldChange(field="profile.time_zone", old="UTC", new=new)
            await contacts.profile_updated(
                world.deps, conn, ProfileUpdated(participant_id="mentee-1", changes=[change])
            )
    assert world.contacts.contacts["mentee-1"]["time_zone"] == "Europe/Berlin"


async def test_erasure_forgets_the_person_cancels_what_was_not_sent_and_ignores_later_events() -> None:
    world = World()
    async with world.transactions() as conn:
        await contacts.registered(world.deps, conn, registered("mentee-1", "Tom Trainee"))
        await world.preferences.save(conn, "mentee-1", Preferences(["email"]))
        await tell.request_ranked(world.deps, conn, ranked(), "cause-ranked")
        approved = MatchApproved(match_id="match-1", mentee_id="mentee-1", mentor_id="mentor-1", mode="admin")
        await tell.match_approved(world.deps, conn, approved, "cause-match")

        await contacts.erased(world.deps, conn, ParticipantErased(participant_id="mentee-1"))
        await contacts.registered(world.deps, conn, registered("mentee-1", "Tom Again"))
        await tell.match_approved(world.deps, conn, approved, "cause-match-again")

    assert world.contacts.contacts == {} and world.contacts.erased_ids == {"mentee-1"}
    assert world.preferences.saved == {} and world.requests.requests == {}
    statuses = to_whom(world)
    assert statuses[("mentee-1", "email", "introduction")] == "cancelled"
    assert [r.recipient_id for r in world.intents.rows.values() if r.cause_id == "cause-match-again"] == ["mentor-1"]
    for_review = [r for r in world.intents.rows.values() if r.template == "request_for_review"]
    assert for_review and all("biography" not in r.context and "motivation" not in r.context for r in for_review)


def envelope_of(event: Event) -> Envelope:
    return helpers.envelope_of(event, time=START)


async def test_the_bus_table_runs_an_event_s_steps_in_order_with_the_event_id_as_cause() -> None:
    world = World()
    handlers = bus_handlers(world.deps).inbox_handlers()
    first, second = envelope_of(ranked()), envelope_of(forwarded())
    async with world.transactions() as conn:
        await handlers["RequestRanked"](conn, ranked(), first)
        await handlers["RequestForwarded"](conn, forwarded(), second)  # tell the mentor, then set the reminder
    [told] = [r for r in world.intents.rows.values() if r.template == "request_forwarded"]
    assert told.cause_id == str(second.id)
    [reminder] = await world.timers.pending(None)
    assert reminder.kind == "response-reminder"


async def test_the_bus_dead_letters_an_event_about_something_never_seen() -> None:
    world = World()
    handlers = bus_handlers(world.deps).inbox_handlers()
    event = RequestExpired(request_id="req-x", mentor_id="mentor-1", choice_rank=1, respond_by=START)
    async with world.transactions() as conn:
        with pytest.raises(PermanentError, match="req-x is unknown"):
            await handlers["RequestExpired"](conn, event, envelope_of(event))
