"""The program, suggestion and bulk-run use cases on in-memory ports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.matching.application import (
    change_program,
    commit_bulk_run,
    discard_bulk_run,
    propose_bulk_run,
    review_request,
    suggest,
)
from services.matching.application.commands import (
    ChangeProgram,
    CommitBulkRun,
    DiscardBulkRun,
    ProposeBulkRun,
    ReviewRequest,
    SuggestMentors,
)
from services.matching.application.program import show_program
from services.matching.domain.bulk_proposal import ALL_FREE_MENTEES, bulk_match_id
from services.matching.domain.compatibility import Weights
from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation, NotAllowed, NotFound
from shared.events.matching import BulkMatchCommitted, BulkMatchProposed, MatchApproved
from tests.unit.matching.fakes import World, world
from tests.unit.matching.scenario import DIRECTOR, hired, mentee, mentor, submitted

pytestmark = pytest.mark.unit

WEIGHTS = {"specialty": 5, "interests": 1, "career_stage": 1, "language": 1, "time_zone": 1, "preferences": 1}


@pytest.fixture
def w() -> World:
    return world(response_days=7)


# --- program ------------------------------------------------------------------------------------------


async def test_the_program_defaults_until_the_director_sets_it(w) -> None:
    default = await show_program(w.deps, "default")
    assert (default.weights, default.response_days) == (Weights(), 7)
    changed = await change_program.handle(w.deps, ChangeProgram("default", response_days=3))
    assert changed.response_days == 3 and changed.weights == Weights()
    assert w.types("default") == ["ProgramChanged"] and w.tables.programs["default"].version == 1
    weighted = await change_program.handle(w.deps, ChangeProgram("default", weights=WEIGHTS))
    assert (weighted.weights, weighted.response_days) == (Weights(**WEIGHTS), 3)
    assert await show_program(w.deps, "default") == weighted

    await mentor(w, "m1"), await mentee(w, "e1")
    request_id = await submitted(w, "e1", "m1")
    await review_request.handle(w.deps, ReviewRequest(request_id, DIRECTOR, approved=True))
    assert w.tables.requests[request_id]["respond_by"] == w.clock.now() + timedelta(days=3)


async def test_all_zero_weights_name_the_field_and_an_undefined_program_is_not_found(w) -> None:
    with pytest.raises(InvalidCommand) as caught:
        await change_program.handle(w.deps, ChangeProgram("default", weights=dict.fromkeys(WEIGHTS, 0)))
    assert caught.value.field == "weights"
    with pytest.raises(InvalidCommand):  # the weights are checked before the program is looked up
        await change_program.handle(w.deps, ChangeProgram("other", weights=dict.fromkeys(WEIGHTS, 0)))
    with pytest.raises(NotFound, match="no program other"):
        await change_program.handle(w.deps, ChangeProgram("other", response_days=3))
    with pytest.raises(NotFound):
        await show_program(w.deps, "other")
    assert w.tables.programs == {}


# --- suggestions --------------------------------------------------------------------------------------


async def test_suggestions_leave_out_the_current_mentor_and_the_reporting_line(w) -> None:
    await hired(w, "E-boss", None), await hired(w, "E-e1", "E-boss")
    await mentor(w, "boss", employee_id="E-boss"), await mentor(w, "current"), await mentor(w, "peer")
    await mentor(w, "oncologist", specialty="oncology"), await mentee(w, "e1", employee_id="E-e1")
    w.tables.pairs[("current", "e1")] = "earlier"
    found = await suggest.handle(w.deps, SuggestMentors("e1", "e1", director=False, k=10))
    assert [s.mentor_id for s in found] == ["peer", "oncologist"]
    assert found[0].score > found[1].score and "same specialty: cardiology" in found[0].reason
    assert [s.mentor_id for s in await suggest.handle(w.deps, SuggestMentors("e1", DIRECTOR, True, k=1))] == ["peer"]


async def test_suggestions_are_the_mentees_own_and_need_an_active_mentee(w) -> None:
    await mentee(w, "e1")
    with pytest.raises(NotAllowed, match="only ask for their own"):
        await suggest.handle(w.deps, SuggestMentors("e1", "e2", director=False))
    with pytest.raises(NotFound, match="no active mentee ghost"):
        await suggest.handle(w.deps, SuggestMentors("ghost", DIRECTOR, director=True))


# --- bulk runs ----------------------------------------------------------------------------------------


async def cohort(w: World) -> None:
    await mentor(w, "m1", capacity=1), await mentor(w, "m2", capacity=2)
    for mentee_id in ("e1", "e2", "e3"):
        await mentee(w, mentee_id)


async def test_a_proposal_records_pairs_report_and_its_event_and_matches_nobody(w) -> None:
    await cohort(w)
    await submitted(w, "e3", "m1")  # an open request: not in the "all free mentees" cohort
    run_id = await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "optimal"))
    run = w.tables.runs[run_id]
    assert (run["status"], run["cohort"], run["mode"]) == ("proposed", ALL_FREE_MENTEES, "optimal")
    assert sorted(p.mentee_id for p in run["pairs"]) == ["e1", "e2"] and run["report"]["text"]
    [proposed] = w.store.events(run_id)
    assert isinstance(proposed, BulkMatchProposed) and proposed.summary.pairs == 2 and proposed.summary.mentees == 2
    assert w.tables.pairs == {}


@pytest.mark.parametrize(
    "mentee_ids, reason",
    [
        (("e1", "e1"), "must be distinct"),
        (("e1", "ghost"), "not registered mentees: ghost"),
        (("e1", "gone"), "deactivated mentees: gone"),
        (("e1", "busy"), "have an open request or a mentor: busy"),
    ],
)
async def test_a_named_cohort_must_be_free_registered_active_mentees(w, mentee_ids, reason) -> None:
    await cohort(w)
    await mentee(w, "gone"), await mentee(w, "busy")
    w.tables.mentees["gone"].active = False
    w.tables.pairs[("m2", "busy")] = "earlier"
    with pytest.raises(InvalidCommand) as caught:
        await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "stable", mentee_ids))
    assert (caught.value.field, caught.value.reason.endswith(reason)) == ("mentee_ids", True), caught.value.reason
    assert w.tables.runs == {} and w.store.events() == []


async def test_pins_and_forbidden_pairs_name_the_cohort_and_active_mentors(w) -> None:
    await cohort(w)
    with pytest.raises(InvalidCommand) as caught:
        await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "optimal", pinned={"e1": "ghost"}))
    assert (caught.value.field, caught.value.reason) == ("pinned", "ghost is not an active mentor")
    with pytest.raises(InvalidCommand) as caught:
        await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "optimal", forbidden=(("x", "m1"),)))
    assert (caught.value.field, caught.value.reason) == ("forbidden", "mentee x is not in the cohort")
    run_id = await propose_bulk_run.handle(
        w.deps, ProposeBulkRun(DIRECTOR, "optimal", ("e1", "e2"), pinned={"e1": "m1"}, forbidden=(("e2", "m1"),))
    )
    pairs = {p.mentee_id: (p.mentor_id, p.pinned) for p in w.tables.runs[run_id]["pairs"]}
    assert pairs == {"e1": ("m1", True), "e2": ("m2", False)}


async def test_an_empty_cohort_or_no_mentors_is_refused(w) -> None:
    with pytest.raises(InvalidCommand, match="the cohort is empty"):
        await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "optimal"))
    await mentee(w, "e1")
    with pytest.raises(MatchingRuleViolation, match="no active mentors"):
        await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "optimal"))


async def test_a_commit_matches_every_pair_on_its_own_stream_once(w) -> None:
    await cohort(w)
    run_id = await propose_bulk_run.handle(
        w.deps, ProposeBulkRun(DIRECTOR, "optimal", ("e1", "e2"), pinned={"e1": "m1"})
    )
    assert await commit_bulk_run.handle(w.deps, CommitBulkRun(run_id, DIRECTOR)) == 2
    proposed, committed = w.store.events(run_id)
    assert isinstance(proposed, BulkMatchProposed)
    assert isinstance(committed, BulkMatchCommitted) and (committed.pair_count, committed.overridden_count) == (2, 1)
    for mentee_id in ("e1", "e2"):
        [match] = w.store.events(bulk_match_id(run_id, mentee_id))
        assert isinstance(match, MatchApproved) and (match.mode, match.run_id) == ("bulk", run_id)
    assert set(w.tables.pairs) == {("m1", "e1"), ("m2", "e2")} and w.tables.runs[run_id]["status"] == "committed"
    assert w.tables.locks[-3:] == [f"bulk-run:{run_id}", "mentor:m1", "mentor:m2"]  # mentors locked in id order
    with pytest.raises(MatchingRuleViolation, match="already committed"):
        await commit_bulk_run.handle(w.deps, CommitBulkRun(run_id, DIRECTOR))
    with pytest.raises(MatchingRuleViolation, match="already committed"):
        await discard_bulk_run.handle(w.deps, DiscardBulkRun(run_id, DIRECTOR))


async def test_a_commit_is_all_or_nothing(w) -> None:
    await cohort(w)
    run_id = await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "optimal", ("e1", "e2")))
    await submitted(w, "e2", "m2")  # since proposed: e2 asked on their own
    with pytest.raises(MatchingRuleViolation, match="got an open request or a mentor, or left: e2"):
        await commit_bulk_run.handle(w.deps, CommitBulkRun(run_id, DIRECTOR))
    w.tables.requests.clear()
    w.tables.mentors["m2"].capacity = 0  # since proposed: the second mentor is full
    with pytest.raises(MatchingRuleViolation, match="no capacity left"):
        await commit_bulk_run.handle(w.deps, CommitBulkRun(run_id, DIRECTOR))
    assert w.tables.pairs == {} and w.tables.runs[run_id]["status"] == "proposed"
    assert len(w.store.events(run_id)) == 1 and w.store.events(bulk_match_id(run_id, "e1")) == []


async def test_a_discarded_run_can_no_longer_be_committed(w) -> None:
    await cohort(w)
    run_id = await propose_bulk_run.handle(w.deps, ProposeBulkRun(DIRECTOR, "stable"))
    await discard_bulk_run.handle(w.deps, DiscardBulkRun(run_id, DIRECTOR))
    assert (w.tables.runs[run_id]["status"], w.tables.runs[run_id]["decided_by"]) == ("discarded", DIRECTOR)
    with pytest.raises(MatchingRuleViolation, match="already discarded"):
        await commit_bulk_run.handle(w.deps, CommitBulkRun(run_id, DIRECTOR))
    with pytest.raises(NotFound, match="no bulk run nope"):
        await discard_bulk_run.handle(w.deps, DiscardBulkRun("nope", DIRECTOR))
