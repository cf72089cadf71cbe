"""The timeline's pure preparation: which stream each event belongs to, links, parties, no personal text."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from pydantic import BaseModel

from services.analytics.projecting import binary_copy
from services.analytics.projecting.projections import timeline
from services.analytics.projecting.projections.catalog import PUBLISHED
from shared.events.matching import MatchApproved, MentorResponded, RequestRanked, RequestReviewed, RequestWithdrawn
from shared.events.notifications import NotificationFailed, NotificationSent
from shared.events.profiles import FieldChange, ParticipantErased, ProfileUpdated
from shared.events.relationships import GoalSet, MeetingLogged, RelationshipStarted, SmartGoal
from shared.personal import is_personal, nested_model, personal_paths, without_personal
from tests.unit.analytics.events import T0, mentee, record

pytestmark = pytest.mark.unit
SECRET = "PERSONAL-MARKER"

RANKED = RequestRanked(
    request_id="req-1", mentee_id="m1", biography="PRIVATE BIO", motivation="grow", ranked_mentor_ids=["a", "b"]
)
MATCHED = MatchApproved(
    match_id="mt-1", mentee_id="m1", mentor_id="b", mode="director", request_id="req-1", choice_rank=2
)
STARTED = RelationshipStarted(
    relationship_id="rel-1",
    model="one_to_one",
    mentor_id="b",
    mentee_ids=["m1"],
    match_id="mt-1",
    started_on=date(2026, 1, 9),
)
MEETING = MeetingLogged(
    relationship_id="rel-1",
    meeting_id="x1",
    held_on=date(2026, 2, 1),
    duration_minutes=30,
    format="video",
    topic_tags=[],
)


def test_a_request_is_on_its_mentees_timeline_without_personal_text() -> None:
    entry = timeline.entry_for(record(RANKED))
    assert (entry.stream_kind, entry.stream_id, entry.parties) == ("request", "req-1", ("m1",))
    assert entry.participants == ["m1"]  # named by a participant field; the ranked mentors are not on it
    assert entry.summary == {
        "request_id": "req-1",
        "mentee_id": "m1",
        "program_id": "default",
        "ranked_mentor_ids": ["a", "b"],
    }  # no bio
    reviewed = timeline.entry_for(record(RequestReviewed(request_id="req-1", reviewer_id="dir", approved=True)))
    assert (reviewed.stream_kind, reviewed.stream_id, reviewed.parties) == ("request", "req-1", ())


def test_a_match_links_its_request_and_a_relationship_its_match() -> None:
    match = timeline.entry_for(record(MATCHED))
    assert (match.stream_kind, match.link, match.parties) == ("match", ("match->request", "mt-1", "req-1"), ("m1", "b"))
    admin_match = MatchApproved(match_id="mt-2", mentee_id="m1", mentor_id="b", mode="admin")
    assert timeline.entry_for(record(admin_match)).link is None  # no request before it
    started = timeline.entry_for(record(STARTED))
    assert started.link == ("relationship->match", "rel-1", "mt-1")
    assert started.parties == ("b", "m1") and started.participants == ["b", "m1"]


def test_other_events_go_by_the_service_that_published_them() -> None:
    assert timeline.entry_for(record(MEETING)).stream_id == "rel-1"
    assert timeline.entry_for(record(MEETING, source="/services/notifications")) is None
    registered = timeline.entry_for(record(mentee("m1")))
    assert (registered.stream_kind, registered.stream_id) == ("participant", "m1")
    assert registered.parties == ("m1",)  # their own stream: erasure finds it by its party
    assert not {"name", "email", "demographics"} & set(registered.summary)  # what the catalog marks personal
    assert "biography" not in registered.summary["profile"] and registered.summary["profile"]["specialty"]
    sent = NotificationSent(notification_id="n1", cause_event_id="c1", recipient_id="m1", channel="email", template="t")
    assert timeline.entry_for(record(sent))[:3] == ("notification", "n1", ["m1"])
    assert timeline.entry_for(record(ParticipantErased(participant_id="m1"))) is None


def test_what_the_catalog_marks_personal_never_reaches_a_summary_nested_or_not() -> None:
    failed = NotificationFailed(
        notification_id="n2",
        cause_event_id="c",
        recipient_id="m1",
        channel="email",
        template="t",
        error=SECRET,
        attempts=3,
    )
    events = [
        failed,
        RequestReviewed(request_id="req-1", reviewer_id="dir", approved=False, decline_reason=SECRET),
        MentorResponded(request_id="req-1", mentor_id="a", choice_rank=1, accepted=False, reason=SECRET),
        RequestWithdrawn(request_id="req-1", mentee_id="m1", reason=SECRET),
        ProfileUpdated(participant_id="m1", changes=[FieldChange(field="profile.biography", old=SECRET, new=SECRET)]),
        GoalSet(
            relationship_id="rel-1",
            mentee_id="m1",
            goal=SmartGoal(goal_id="g1", text=SECRET, measure=SECRET, due_on=date(2026, 6, 1)),
        ),
    ]
    summaries = [timeline.entry_for(record(event)).summary for event in events]
    assert SECRET not in repr(summaries)
    assert summaries[0]["template"] == "t" and "error" not in summaries[0]
    assert summaries[4]["changes"] == [{"field": "profile.biography"}]  # which field changed, not its values
    assert summaries[5]["goal"] == {"goal_id": "g1", "due_on": "2026-06-01"}


def test_every_personal_field_of_the_catalog_is_left_out_by_the_shared_reading() -> None:
    """Every published event, every field filled, the personal ones (at any depth) with a marker: none is kept."""
    for event in PUBLISHED.values():
        personal, _ = personal_paths(event)
        kept = without_personal(event, _filled(event, ""))
        assert SECRET not in repr(kept), event.__name__
        assert personal or kept.keys() == event.model_fields.keys(), event.__name__


def _filled(model: type[BaseModel], prefix: str) -> dict:
    data: dict = {}
    for name, field in model.model_fields.items():
        if is_personal(field):
            data[name] = f"{SECRET} {prefix}{name}"
        elif (inner := nested_model(field.annotation)) is not None:
            data[name] = [_filled(inner, f"{prefix}{name}.")]
        else:
            data[name] = "x"
    return data


def test_a_type_the_catalog_does_not_publish_still_goes_by_its_source_and_keeps_nothing() -> None:
    newer = record(type_name="RelationshipPaused", data={"relationship_id": "rel-1", "note": SECRET})
    entry = timeline.entry_for(newer)
    assert entry[:2] == ("relationship", "rel-1") and entry.summary == {}  # nothing says what is personal in it
    extra = record(type_name="MeetingLogged", data={**MEETING.model_dump(mode="json"), "mood": SECRET})
    assert "mood" not in timeline.entry_for(extra).summary  # a newer producer's field: left out as well


def test_prepare_encodes_one_row_per_entry_and_skips_what_it_cannot_read() -> None:
    broken = record(type_name="RequestRanked", data={"mentee_id": "m1"}, source="/services/matching")  # no request id
    hr_only = record(type_name="WorkerPromoted", data={"employee_id": "E1"}, source="/services/hr")
    prepared = timeline.prepare([record(RANKED, at=T0), broken, hr_only, record(MATCHED), record(STARTED)])
    assert prepared.count == 3
    assert prepared.encoded.startswith(binary_copy.HEADER) and prepared.encoded.endswith(binary_copy.TRAILER)
    assert prepared.links == [("match->request", "mt-1", "req-1"), ("relationship->match", "rel-1", "mt-1")]
    assert prepared.parties == [
        ("request", "req-1", "m1"),
        ("match", "mt-1", "m1"),
        ("match", "mt-1", "b"),
        ("relationship", "rel-1", "b"),
        ("relationship", "rel-1", "m1"),
    ]
    assert timeline.prepare([]).count == 0


def test_the_event_id_is_the_rows_first_field() -> None:
    event_id = uuid.uuid4()
    prepared = timeline.prepare([record(MEETING, event_id=event_id)])
    assert event_id.bytes in prepared.encoded


def test_a_peer_circle_and_a_group_are_on_every_members_timeline() -> None:
    """RelationshipStarted version 2 (issue 17): no mentor for a peer circle, co-mentors for a group."""
    started = STARTED.model_dump(mode="json")
    circle = {**started, "mentor_id": None, "mentee_ids": ["p1", "p2", "p3"], "program_id": "peers", "model": "peer"}
    entry = timeline.entry_for(record(type_name="RelationshipStarted", data=circle, schemaversion=2))
    assert entry.parties == ("p1", "p2", "p3")
    group = {**started, "co_mentor_ids": ["c"], "mentee_ids": ["m1", "m2"], "program_id": "residents"}
    entry = timeline.entry_for(record(type_name="RelationshipStarted", data=group, schemaversion=2))
    assert entry.parties == ("b", "c", "m1", "m2")
