"""Dated activity facts, prepared without I/O: roles, presence, capacity, relationship spans, meetings, lagging."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from services.analytics.projecting import binary_copy
from services.analytics.projecting.projections import activity
from shared.events.profiles import MentorCapacityChanged, ParticipantDeactivated, ParticipantReactivated
from tests.unit.analytics.events import DAY, T0, closed, lagging, meeting, mentee, mentor, record, signed, started

pytestmark = pytest.mark.unit


def test_a_role_keeps_its_earliest_registration_and_a_known_employee_id() -> None:
    late_night = datetime(2026, 1, 5, 23, 30, tzinfo=UTC)
    batch = activity.prepare(
        [
            record(mentee("p1", employee_id="E1"), at=T0 + 3 * DAY),
            record(mentee("p1"), at=late_night),
            record(mentor("p2", capacity=3), at=T0),
        ]
    )
    assert batch.roles == {("p1", "mentee"): [date(2026, 1, 5), "E1"], ("p2", "mentor"): [date(2026, 1, 5), None]}
    assert [(c[1], c[2]) for c in batch.capacity] == [("p2", 3)]  # a mentor's registration sets a capacity
    assert batch.latest == T0 + 3 * DAY


def test_presence_and_capacity_are_dated_facts() -> None:
    left = record(
        ParticipantDeactivated(participant_id="p1", reason="left_institution", effective_date=date(2026, 2, 1))
    )
    on_leave = record(ParticipantDeactivated(participant_id="p1", reason="on_leave", effective_date=date(2026, 3, 1)))
    back = record(ParticipantReactivated(participant_id="p1", effective_date=date(2026, 4, 1)))
    more = record(MentorCapacityChanged(participant_id="p1", old_capacity=1, new_capacity=4))
    batch = activity.prepare([left, on_leave, back, more])
    assert batch.presence == [
        (left.id, "p1", date(2026, 2, 1), False, T0),
        (back.id, "p1", date(2026, 4, 1), True, T0),
    ]
    assert batch.capacity == [(more.id, "p1", 4, T0)]


def test_a_relationship_is_filled_in_by_three_events_and_meetings_travel_encoded() -> None:
    batch = activity.prepare(
        [
            record(closed("rel-1", date(2026, 6, 1)), at=T0 + 10 * DAY),
            record(started("rel-1", "b", "m1", date(2026, 1, 9))),
            record(signed("rel-1", date(2026, 1, 12), cadence=6)),
            record(meeting("rel-1", "x1", date(2026, 2, 1))),
            record(lagging("rel-1")),
        ]
    )
    assert batch.relationships == {
        "rel-1": {
            "closed_on": date(2026, 6, 1),
            "closed_at": T0 + 10 * DAY,
            "mentor_id": "b",
            "mentee_ids": json.dumps(["m1"]),
            "started_on": date(2026, 1, 9),
            "signed_on": date(2026, 1, 12),
            "cadence_weeks": 6,
        }
    }
    assert batch.meetings == [] and batch.meetings_encoded.startswith(binary_copy.HEADER)
    assert b"x1" in batch.meetings_encoded
    assert [row[1] for row in batch.lagging] == ["rel-1"]


def test_a_payload_missing_a_field_is_left_out_and_the_rest_kept() -> None:
    broken = record(type_name="MeetingLogged", data={"relationship_id": "rel-1", "meeting_id": "x2"})
    batch = activity.prepare([broken, record(lagging("rel-1"))])
    assert batch.meetings_encoded is None and len(batch.lagging) == 1
    assert activity.prepare([]).latest is None
