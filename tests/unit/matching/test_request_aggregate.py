from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.matching.domain.errors import (
    InvalidCommand,
    MatchingRuleViolation,
    NotAllowed,
    NotFound,
)
from services.matching.domain.request import Request
from services.matching.domain.rules import as_read_by, check_withdrawer
from shared.events.matching import (
    MatchApproved,
    RequestExpired,
    RequestForwarded,
    RequestUnmatched,
)

pytestmark = pytest.mark.unit
T0 = datetime(2026, 3, 2, tzinfo=UTC)
DEADLINE = T0 + timedelta(days=7)


def everyone(_: str) -> bool:
    return True


def submitted(*ranked: str) -> Request:
    request = Request("r1")
    request.apply_all(request.submit("mentee", "bio", "why", list(ranked)), T0)
    return request


def forwarded(*ranked: str, eligible=everyone) -> Request:
    request = submitted(*ranked)
    request.apply_all(request.review("director", True, None, eligible, DEADLINE), T0)
    return request


@pytest.mark.parametrize(
    "ranked, reason",
    [
        ([], "at least one"),
        (["a", "b", "c", "d"], "at most 3"),
        (["a", "a"], "distinct"),
        (["mentee"], "themselves"),
    ],
)
def test_a_submission_names_one_to_three_distinct_other_mentors(ranked, reason) -> None:
    with pytest.raises(InvalidCommand, match=reason) as caught:
        Request("r1").submit("mentee", "bio", "why", ranked)
    assert caught.value.field == "ranked_mentor_ids"


def test_approval_forwards_to_the_first_eligible_choice() -> None:
    request = forwarded("a", "b", "c", eligible=lambda m: m != "a")
    assert (request.status, request.mentor_id, request.choice_rank, request.respond_by) == (
        "forwarded",
        "b",
        2,
        DEADLINE,
    )


def test_declines_pass_it_on_and_exhaustion_returns_it_to_the_director() -> None:
    request = forwarded("a", "b")
    request.apply_all(request.respond("a", False, None, everyone, DEADLINE, T0), T0)
    assert request.mentor_id == "b"
    with pytest.raises(NotAllowed, match="not waiting for an answer from a"):  # a knows of it, no longer asked
        request.respond("a", True, None, everyone, DEADLINE, T0)
    events = request.respond("b", False, "busy", everyone, DEADLINE, T0)
    assert isinstance(events[-1], RequestUnmatched) and events[-1].tried_mentor_ids == ["a", "b"]


def test_acceptance_by_the_waited_for_mentor_only_and_time_to_match() -> None:
    request = forwarded("a")
    with pytest.raises(NotFound, match=r"^no request r1$"):  # never forwarded to b: not b's to know of
        request.respond("b", True, None, everyone, DEADLINE, T0)
    match = request.respond("a", True, None, everyone, DEADLINE, T0 + timedelta(hours=5))[-1]
    assert isinstance(match, MatchApproved)
    assert (match.match_id, match.choice_rank, match.mode, match.time_to_match_seconds) == ("r1", 1, "director", 18000)


def test_a_deadline_expires_only_when_due_and_only_while_waiting() -> None:
    request = forwarded("a", "b")
    assert request.expire(DEADLINE - timedelta(seconds=1), everyone, DEADLINE) == []
    events = request.expire(DEADLINE, everyone, DEADLINE + timedelta(days=7))
    assert [type(e) for e in events] == [RequestExpired, RequestForwarded] and events[1].choice_rank == 2
    request.apply_all(events, DEADLINE)
    request.apply_all(request.respond("b", True, None, everyone, DEADLINE, DEADLINE), DEADLINE)
    assert request.expire(DEADLINE + timedelta(days=30), everyone, DEADLINE) == []


def test_admin_match_only_for_an_unmatched_request_and_rematch_requests_wait_for_it() -> None:
    with pytest.raises(MatchingRuleViolation):
        forwarded("a").admin_match("director", "z", T0)
    rematch = Request("r2")
    rematch.apply_all(rematch.reopen_for_rematch("mentee", "a"), T0)
    assert (rematch.status, rematch.origin, rematch.mentee_id) == ("unmatched", "rematch", "mentee")
    assert rematch.reopen_for_rematch("mentee", "a") == []
    match = rematch.admin_match("director", "z", T0)[0]
    assert (match.mode, match.approved_by, match.choice_rank) == ("admin", "director", None)
    with pytest.raises(InvalidCommand):
        rematch.admin_match("director", "mentee", T0)


def test_a_decline_needs_a_reason_and_a_review_happens_once() -> None:
    request = submitted("a")
    with pytest.raises(InvalidCommand) as caught:
        request.review("director", False, " ", everyone, DEADLINE)
    assert caught.value.field == "decline_reason"
    request.apply_all(request.review("director", False, "off topic", everyone, DEADLINE), T0)
    with pytest.raises(MatchingRuleViolation):
        request.review("director", True, None, everyone, DEADLINE)
    with pytest.raises(MatchingRuleViolation):
        request.withdraw(None)


# --- who reads a request, and its personal text ---------------------------------------------------------


def view(**fields) -> dict:
    return {
        "request_id": "r1",
        "mentee_id": "mentee",
        "status": "forwarded",
        "mentor_id": "b",
        "forwarded_to": ["a", "b"],
        "matched_mentor_id": None,
        "biography": "bio",
        "motivation": "why",
        **fields,
    }


def test_a_mentor_reads_the_personal_text_only_while_asked_or_once_matched() -> None:
    assert as_read_by(view(), "b", director=False)["biography"] == "bio"  # asked now
    passed_over = as_read_by(view(), "a", director=False)  # declined or let the deadline pass
    assert (passed_over["biography"], passed_over["motivation"], passed_over["status"]) == (None, None, "forwarded")
    matched = view(status="matched", mentor_id="b", matched_mentor_id="b")
    assert as_read_by(matched, "b", director=False)["motivation"] == "why"
    assert as_read_by(matched, "a", director=False)["motivation"] is None
    withdrawn = view(status="withdrawn")
    assert as_read_by(withdrawn, "b", director=False)["biography"] is None
    for always in ("mentee", "director"):
        assert as_read_by(withdrawn, always, director=always == "director")["biography"] == "bio"


def test_a_mentee_s_priority_group_is_told_to_the_mentee_and_the_director_only() -> None:
    grouped = view(priority_group="urm")
    assert as_read_by(grouped, "b", director=False)["priority_group"] is None  # the mentor asked now
    assert as_read_by(grouped, "mentee", director=False)["priority_group"] == "urm"
    assert as_read_by(grouped, "director", director=True)["priority_group"] == "urm"


def test_to_anyone_else_a_request_is_not_found_in_the_words_of_a_missing_one() -> None:
    for outsider in ("c", "another-mentee"):
        with pytest.raises(NotFound, match=r"^no request r1$"):
            as_read_by(view(), outsider, director=False)
    with pytest.raises(NotFound, match=r"^no request r1$"):
        check_withdrawer("r1", "c", "mentee", ["a"], director=False)
    with pytest.raises(NotAllowed):  # a mentor it was forwarded to knows of it, but may not withdraw it
        check_withdrawer("r1", "a", "mentee", ["a"], director=False)
