"""The timeline's pure preparation: which stream each event belongs to, links, parties, no personal text."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from services.analytics.projecting import binary_copy
from services.analytics.projecting.projections import timeline
from shared.events.matching import MatchApproved, RequestRanked, RequestReviewed
from shared.events.notifications import NotificationSent
from shared.events.relationships import MeetingLogged, RelationshipStarted
from tests.unit.analytics.events import T0, mentee, record

pytestmark = pytest.mark.unit

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
    assert entry.summary == {"request_id": "req-1", "mentee_id": "m1", "ranked_mentor_ids": ["a", "b"]}  # no bio
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
    assert not {"name", "email", "profile"} & set(registered.summary)
    sent = NotificationSent(notification_id="n1", cause_event_id="c1", recipient_id="m1", channel="email", template="t")
    assert timeline.entry_for(record(sent))[:3] == ("notification", "n1", ["m1"])


def test_a_type_the_catalog_does_not_publish_still_goes_by_its_source() -> None:
    newer = record(type_name="RelationshipPaused", data={"relationship_id": "rel-1", "until": "2026-03-01"})
    assert timeline.entry_for(newer)[:2] == ("relationship", "rel-1")


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
