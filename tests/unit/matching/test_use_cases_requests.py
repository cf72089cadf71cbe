"""The request use cases on in-memory ports: submit, review, respond, admin match, withdraw, expire."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.matching.application import (
    admin_match,
    expire_request,
    respond_to_request,
    review_request,
    submit_request,
    withdraw_request,
)
from services.matching.application.commands import (
    AdminMatch,
    RespondToRequest,
    ReviewRequest,
    SubmitRequest,
    WithdrawRequest,
)
from services.matching.application.request_repository import RESPONSE_DEADLINE, deadline_key
from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation, NotAllowed, NotFound
from shared.errors import RuleViolation
from shared.events.matching import MatchApproved, RequestRanked, RequestWithdrawn
from tests.unit.matching.scenario import DIRECTOR, forwarded, hired, mentee, mentor, submitted

pytestmark = pytest.mark.unit


def submit(mentee_id: str, *ranked: str) -> SubmitRequest:
    return SubmitRequest(mentee_id, "Cardiology fellow", "Grant writing", tuple(ranked))


# --- submit -------------------------------------------------------------------------------------------


async def test_a_submission_records_the_ranking_and_its_view_row_under_the_mentee_lock(w) -> None:
    await mentor(w, "m1"), await mentor(w, "m2"), await mentee(w, "e1")
    request_id = await submit_request.handle(w.deps, submit("e1", "m1", "m2"))
    [ranked] = w.store.events(request_id)
    assert isinstance(ranked, RequestRanked) and ranked.ranked_mentor_ids == ["m1", "m2"]
    row = w.tables.requests[request_id]
    assert (row["status"], row["version"], row["mentee_id"]) == ("submitted", 1, "e1")
    assert "mentee-request:e1" in w.tables.locks
    assert w.timers.armed == {}


@pytest.mark.parametrize(
    "ranked, reason",
    [(("m1", "m1"), "distinct"), (("m1", "e1"), "themselves"), ((), "at least one"), (("a", "b", "c", "d"), "at most")],
)
async def test_the_ranked_choices_meaning_is_checked_before_anything_is_read(w, ranked, reason) -> None:
    with pytest.raises(InvalidCommand, match=reason) as caught:
        await submit_request.handle(w.deps, submit("e1", *ranked))  # e1 is not even a registered mentee
    assert caught.value.field == "ranked_mentor_ids"
    assert w.transactions.opened == 0 and w.store.events() == []


@pytest.mark.parametrize(
    "setup, message",
    [
        ("unregistered", "is not a registered mentee"),
        ("deactivated", "is deactivated"),
        ("open", "already has an open request"),
        ("paired", r"already has a mentor in this program \(m1\)"),
    ],
)
async def test_the_mentees_standing_rules(w, setup, message) -> None:
    await mentor(w, "m1"), await mentor(w, "m2")
    if setup != "unregistered":
        await mentee(w, "e1")
    if setup == "deactivated":
        w.tables.mentees["e1"].active = False
    if setup == "open":
        await submitted(w, "e1", "m1")
    if setup == "paired":
        w.tables.pairs[("m1", "e1")] = "earlier"
    before = len(w.store.events())
    with pytest.raises(MatchingRuleViolation, match=message):
        await submit_request.handle(w.deps, submit("e1", "m2"))
    assert len(w.store.events()) == before


@pytest.mark.parametrize(
    "ranked, reason",
    [
        (("m1", "ghost"), "ghost is not a mentor in the directory"),
        (("gone",), "mentor gone is not active"),
        (("full",), "mentor full has no capacity left"),
        (("boss",), "mentor boss is in the mentee's reporting line"),
    ],
)
async def test_each_ranked_mentor_must_be_eligible(w, ranked, reason) -> None:
    await hired(w, "E-boss", None), await hired(w, "E-mid", "E-boss"), await hired(w, "E-e1", "E-mid")
    await mentor(w, "m1"), await mentor(w, "gone"), await mentor(w, "full", capacity=0)
    await mentor(w, "boss", employee_id="E-boss"), await mentee(w, "e1", employee_id="E-e1")
    w.tables.mentors["gone"].active = False
    with pytest.raises(InvalidCommand) as caught:
        await submit_request.handle(w.deps, submit("e1", *ranked))
    assert (caught.value.field, caught.value.reason) == ("ranked_mentor_ids", reason)
    assert w.tables.requests == {}


async def test_a_new_request_supersedes_one_waiting_unmatched(w) -> None:
    await mentor(w, "m1"), await mentor(w, "m2"), await mentee(w, "e1")
    old = await forwarded(w, "e1", "m1")
    await respond_to_request.handle(w.deps, RespondToRequest(old, "m1", accepted=False))
    assert w.tables.requests[old]["status"] == "unmatched"
    new = await submit_request.handle(w.deps, submit("e1", "m2"))
    withdrawn = w.store.events(old)[-1]
    assert isinstance(withdrawn, RequestWithdrawn) and withdrawn.reason == f"superseded by request {new}"
    assert w.tables.requests[new]["status"] == "submitted"


# --- review -------------------------------------------------------------------------------------------


async def test_approval_forwards_to_the_first_eligible_choice_and_arms_its_deadline(w) -> None:
    await mentor(w, "full", capacity=0), await mentor(w, "m2"), await mentee(w, "e1")
    await mentor(w, "m1")
    request_id = await submitted(w, "e1", "m1", "m2")
    w.tables.mentors["m1"].capacity = 0  # full by the time the director reviews
    version = await review_request.handle(w.deps, ReviewRequest(request_id, DIRECTOR, approved=True))
    assert version == 3 and w.types(request_id) == ["RequestRanked", "RequestReviewed", "RequestForwarded"]
    row = w.tables.requests[request_id]
    assert (row["status"], row["mentor_id"], row["choice_rank"]) == ("forwarded", "m2", 2)
    [timer] = w.timers.armed.values()
    assert (timer.key, timer.kind, timer.due_at) == (
        deadline_key(request_id, 2),
        RESPONSE_DEADLINE,
        w.clock.now() + timedelta(days=7),
    )


async def test_a_decline_needs_a_reason_and_a_request_is_reviewed_once(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1")
    request_id = await submitted(w, "e1", "m1")
    with pytest.raises(InvalidCommand) as caught:
        await review_request.handle(w.deps, ReviewRequest(request_id, DIRECTOR, approved=False))
    assert caught.value.field == "decline_reason"
    await review_request.handle(w.deps, ReviewRequest(request_id, DIRECTOR, False, "not mentoring"))
    with pytest.raises(RuleViolation, match="declined"):
        await review_request.handle(w.deps, ReviewRequest(request_id, DIRECTOR, approved=True))
    with pytest.raises(NotFound, match="no request nope"):
        await review_request.handle(w.deps, ReviewRequest("nope", DIRECTOR, approved=True))


# --- respond ------------------------------------------------------------------------------------------


async def test_an_acceptance_matches_takes_the_slot_and_cancels_the_deadline(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1")
    request_id = await forwarded(w, "e1", "m1")
    w.clock.advance(days=2)
    await respond_to_request.handle(w.deps, RespondToRequest(request_id, "m1", accepted=True))
    match = w.store.events(request_id)[-1]
    assert isinstance(match, MatchApproved) and match.mode == "director" and match.choice_rank == 1
    assert match.time_to_match_seconds == timedelta(days=2).total_seconds()
    assert w.tables.pairs == {("m1", "e1"): request_id} and "mentor:m1" in w.tables.locks
    assert w.timers.armed == {} and w.tables.requests[request_id]["status"] == "matched"


async def test_only_the_mentor_it_waits_for_answers(w) -> None:
    await mentor(w, "m1"), await mentor(w, "m2"), await mentee(w, "e1")
    request_id = await forwarded(w, "e1", "m1", "m2")
    with pytest.raises(NotFound, match=f"^no request {request_id}$"):  # ranked, not yet asked: not m2's to see
        await respond_to_request.handle(w.deps, RespondToRequest(request_id, "m2", accepted=True))
    await respond_to_request.handle(w.deps, RespondToRequest(request_id, "m1", accepted=False))
    assert w.tables.requests[request_id]["mentor_id"] == "m2"
    assert set(w.timers.armed) == {deadline_key(request_id, 2)}
    with pytest.raises(NotAllowed):  # m1 was asked and declined: they know of it, it no longer waits for them
        await respond_to_request.handle(w.deps, RespondToRequest(request_id, "m1", accepted=True))


async def test_a_full_mentor_refuses_the_acceptance_and_everything_rolls_back(w) -> None:
    await mentor(w, "m1", capacity=1), await mentee(w, "e1"), await mentee(w, "e2")
    first, second = await forwarded(w, "e1", "m1"), await forwarded(w, "e2", "m1")
    await respond_to_request.handle(w.deps, RespondToRequest(first, "m1", accepted=True))
    armed, recorded = dict(w.timers.armed), w.types(second)
    with pytest.raises(MatchingRuleViolation, match="no capacity left"):
        await respond_to_request.handle(w.deps, RespondToRequest(second, "m1", accepted=True))
    assert w.types(second) == recorded and w.timers.armed == armed  # the append and the hooks undone
    assert w.tables.requests[second]["status"] == "forwarded" and w.tables.load("m1") == 1


# --- admin match --------------------------------------------------------------------------------------


async def test_the_director_matches_an_unmatched_request_with_an_eligible_mentor(w) -> None:
    await mentor(w, "m1"), await mentor(w, "other"), await mentor(w, "full", capacity=0), await mentee(w, "e1")
    request_id = await forwarded(w, "e1", "m1")
    await respond_to_request.handle(w.deps, RespondToRequest(request_id, "m1", accepted=False))
    with pytest.raises(InvalidCommand) as caught:
        await admin_match.handle(w.deps, AdminMatch(request_id, DIRECTOR, "full"))
    assert caught.value.field == "mentor_id" and "no capacity left" in caught.value.reason
    await admin_match.handle(w.deps, AdminMatch(request_id, DIRECTOR, "other"))
    match = w.store.events(request_id)[-1]
    assert isinstance(match, MatchApproved) and (match.mode, match.approved_by) == ("admin", DIRECTOR)
    assert ("other", "e1") in w.tables.pairs
    with pytest.raises(MatchingRuleViolation):
        await admin_match.handle(w.deps, AdminMatch(request_id, DIRECTOR, "m1"))


# --- withdraw -----------------------------------------------------------------------------------------


async def test_only_the_mentee_or_the_director_withdraws(w) -> None:
    await mentor(w, "m1"), await mentee(w, "e1")
    request_id = await forwarded(w, "e1", "m1")
    with pytest.raises(NotFound, match=f"^no request {request_id}$"):  # to a stranger it does not exist
        await withdraw_request.handle(w.deps, WithdrawRequest(request_id, "stranger", director=False))
    with pytest.raises(NotAllowed, match="not yours to withdraw"):
        await withdraw_request.handle(w.deps, WithdrawRequest(request_id, "m1", director=False))
    await withdraw_request.handle(w.deps, WithdrawRequest(request_id, "e1", False, "found one elsewhere"))
    assert w.tables.requests[request_id]["status"] == "withdrawn" and w.timers.armed == {}
    with pytest.raises(MatchingRuleViolation, match="cannot be withdrawn"):
        await withdraw_request.handle(w.deps, WithdrawRequest(request_id, DIRECTOR, director=True))
    with pytest.raises(NotFound):
        await withdraw_request.handle(w.deps, WithdrawRequest("nope", DIRECTOR, director=True))


# --- expire (timer) -----------------------------------------------------------------------------------


async def test_a_missed_deadline_passes_the_request_on_and_a_stale_timer_decides_nothing(w) -> None:
    await mentor(w, "m1"), await mentor(w, "m2"), await mentee(w, "e1")
    request_id = await forwarded(w, "e1", "m1", "m2")
    assert w.timers.due(w.clock.advance(days=6)) == []
    [timer] = w.timers.due(w.clock.advance(days=1))
    await expire_request.handle(w.deps, None, timer.subject, timer.payload["choice_rank"])
    assert w.types(request_id)[-2:] == ["RequestExpired", "RequestForwarded"]
    assert set(w.timers.armed) == {deadline_key(request_id, 2)}
    await expire_request.handle(w.deps, None, request_id, 1)  # the first choice's timer again: stale
    assert w.types(request_id)[-1] == "RequestForwarded"
    [timer] = w.timers.due(w.clock.advance(days=7))
    await expire_request.handle(w.deps, None, timer.subject, timer.payload["choice_rank"])
    assert w.tables.requests[request_id]["status"] == "unmatched" and w.timers.armed == {}
