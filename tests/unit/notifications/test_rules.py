"""Pure rules of notifications: causes, back-off, reminder times, signatures, who is told what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services.notifications.domain import audience
from services.notifications.domain.causes import (
    message_id,
    notification_id,
    timer_cause_id,
)
from services.notifications.domain.reminders import (
    cadence_reminder_at,
    next_digest_at,
    response_reminder_at,
)
from services.notifications.domain.retry import RetryPolicy
from services.notifications.domain.signing import sign, verify
from shared.events.matching import MatchApproved, RequestReviewed
from shared.events.relationships import RelationshipClosed

pytestmark = pytest.mark.unit


def test_a_cause_has_one_stable_id_per_recipient_and_channel() -> None:
    first = notification_id("ev-1", "mentee-1", "email")
    assert first == notification_id("ev-1", "mentee-1", "email")
    assert (
        len(
            {
                first,
                notification_id("ev-1", "mentee-1", "webhook"),
                notification_id("ev-1", "mentor-1", "email"),
                notification_id("ev-2", "mentee-1", "email"),
            }
        )
        == 4
    )
    assert message_id(first, "example.org") == f"<{first}@example.org>"


def test_each_firing_of_a_reminder_is_its_own_cause() -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    assert timer_cause_id("k", at) == timer_cause_id("k", at) != timer_cause_id("k", at + timedelta(days=56))


def test_back_off_doubles_up_to_a_cap_and_gives_up_after_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=4, first_delay=timedelta(seconds=30), max_delay=timedelta(seconds=100))
    assert [policy.next_delay(n) for n in (1, 2, 3, 4)] == [
        timedelta(seconds=30),
        timedelta(seconds=60),
        timedelta(seconds=100),
        None,
    ]


def test_reminders_fall_before_the_deadline_and_before_the_cadence_runs_out() -> None:
    respond_by = datetime(2026, 3, 9, 17, tzinfo=UTC)
    assert response_reminder_at(respond_by, timedelta(days=2)) == datetime(2026, 3, 7, 17, tzinfo=UTC)
    assert cadence_reminder_at(date(2026, 3, 30), 8, timedelta(days=7)) == datetime(2026, 5, 18, 9, tzinfo=UTC)


def test_the_digest_goes_at_the_next_digest_hour() -> None:
    assert next_digest_at(datetime(2026, 3, 2, 6, 59, tzinfo=UTC), 7) == datetime(2026, 3, 2, 7, tzinfo=UTC)
    assert next_digest_at(datetime(2026, 3, 2, 7, 0, tzinfo=UTC), 7) == datetime(2026, 3, 3, 7, tzinfo=UTC)


def test_a_webhook_signature_covers_timestamp_and_body() -> None:
    signature = sign("s3cret", "1700000000", b'{"a":1}')
    assert signature.startswith("sha256=") and verify("s3cret", "1700000000", b'{"a":1}', signature)
    assert not verify("s3cret", "1700000001", b'{"a":1}', signature)
    assert not verify("s3cret", "1700000000", b'{"a":2}', signature)
    assert not verify("other", "1700000000", b'{"a":1}', signature)


def test_an_introduction_tells_each_party_about_the_other() -> None:
    notices = audience.introduction(MatchApproved(match_id="m", mentee_id="a", mentor_id="b", mode="admin"))
    assert {(n.recipient_id, n.context["other_id"], n.context["role"]) for n in notices} == {
        ("a", "b", "mentee"),
        ("b", "a", "mentor"),
    }


def test_only_a_declined_review_and_only_a_requested_rematch_tell_anyone() -> None:
    approved = RequestReviewed(request_id="r", reviewer_id="d", approved=True)
    declined = RequestReviewed(request_id="r", reviewer_id="d", approved=False, decline_reason="no")
    assert audience.request_declined(approved, "a") == []
    assert [n.recipient_id for n in audience.request_declined(declined, "a")] == ["a"]
    closed = {
        "relationship_id": "x",
        "reason": "no_fault_mentor",
        "mentor_id": "b",
        "mentee_ids": ["a"],
        "closed_on": date(2026, 1, 1),
    }
    assert audience.rematch_requested(RelationshipClosed(rematch_requested=False, **closed), ["d1"]) == []
    told = audience.rematch_requested(RelationshipClosed(rematch_requested=True, **closed), ["d1", "d2"])
    assert [n.recipient_id for n in told] == ["d1", "d2"]
