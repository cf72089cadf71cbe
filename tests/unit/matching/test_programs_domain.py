"""Programs as data, pure: v1 payloads of the events that gained ``program_id`` upcast to "default"; the
settings' rules name their field; enrolment eligibility; the peer circle builder holds its sizes (property)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.enrolment import Enrolment, PersonFacts, check_eligible, enrolment_id
from services.matching.domain.errors import InvalidCommand, MatchingRuleViolation
from services.matching.domain.groups import build_circles, circle_bounds, circle_sizes
from services.matching.domain.program import DEFAULT_PROGRAM, Eligibility, Program, Settings, built_in
from shared.events import decode
from shared.events.matching import BulkMatchProposed, MatchApproved, RequestRanked, RequestUnmatched

V1 = {
    "RequestRanked": {
        "request_id": "r1",
        "mentee_id": "e1",
        "biography": "b",
        "motivation": "m",
        "ranked_mentor_ids": ["m1"],
    },
    "MatchApproved": {"match_id": "r1", "mentee_id": "e1", "mentor_id": "m1", "mode": "admin", "request_id": "r1"},
    "RequestUnmatched": {"request_id": "r1", "mentee_id": "e1", "tried_mentor_ids": ["m1"]},
    "BulkMatchProposed": {
        "run_id": "run",
        "cohort": "all",
        "mode": "optimal",
        "requested_by": "d",
        "summary": {
            "mentees": 1,
            "mentors": 1,
            "pairs": 1,
            "unmatched_mentees": 0,
            "total_score": 80,
            "mean_score": 0.8,
        },
    },
}


@pytest.mark.parametrize("cls", [RequestRanked, MatchApproved, RequestUnmatched, BulkMatchProposed])
def test_version_one_payloads_upcast_to_the_default_program(cls) -> None:
    assert cls.schema_version == 2
    assert cls.upcast(dict(V1[cls.type_name()]), 1)["program_id"] == DEFAULT_PROGRAM
    event = decode(cls.type_name(), dict(V1[cls.type_name()]), 1)
    assert isinstance(event, cls) and event.program_id == DEFAULT_PROGRAM
    # a version-2 payload keeps its program
    assert decode(cls.type_name(), {**V1[cls.type_name()], "program_id": "faculty"}, 2).program_id == "faculty"


def _settings(**changes) -> Settings:
    return Settings(name="P", **changes)


@pytest.mark.parametrize(
    "changes, field",
    [
        (dict(starts_on=date(2026, 9, 1), ends_on=date(2026, 8, 1)), "ends_on"),
        (dict(circle_size=4), "circle_size"),
        (dict(model="group", matching_mode="admin"), "group_size_max"),
        (dict(model="group", matching_mode="admin", group_size_max=21), "group_size_max"),
        (dict(model="peer", matching_mode="director_review", circle_size=4), "matching_mode"),
        (dict(cadence_weeks_min=9, cadence_weeks_max=3), "cadence_weeks_max"),
        (dict(eligibility=Eligibility(departments=("a", "a"))), "eligibility.departments"),
    ],
)
def test_settings_that_make_no_sense_name_their_field(changes, field) -> None:
    with pytest.raises(InvalidCommand) as caught:
        Program("p").define(_settings(**changes), "d")
    assert caught.value.field == field


def test_the_default_program_is_built_in_and_cannot_be_defined_again() -> None:
    with pytest.raises(MatchingRuleViolation):
        Program(DEFAULT_PROGRAM).define(built_in(7), "d")
    with pytest.raises(InvalidCommand) as caught:
        Program("Bad Id").define(_settings(), "d")
    assert caught.value.field == "program_id"


def test_admin_and_bulk_programs_refuse_requests_saying_how_they_match() -> None:
    for mode, words in (("admin", "the director matches"), ("bulk", "bulk runs")):
        program = Program("p", settings=_settings(matching_mode=mode))
        with pytest.raises(MatchingRuleViolation, match=words):
            program.check_requests_allowed()
    Program("p", settings=_settings(matching_mode="self_match")).check_requests_allowed()


def test_eligibility_names_the_first_rule_a_mentee_fails_and_leaves_mentors_alone() -> None:
    rules = Eligibility(
        departments=("cardiology",),
        career_stages=("early_career",),
        priority_groups=("urm",),
        hr_attributes={"job_function": ("faculty",)},
    )
    fits = PersonFacts(
        "e",
        is_mentee=True,
        department="cardiology",
        career_stage="early_career",
        priority_group="urm",
        hr_attributes={"job_function": "faculty"},
    )
    check_eligible(rules, fits, "mentee")
    for change, field in (
        ({"department": "surgery"}, "eligibility.departments"),
        ({"career_stage": "senior"}, "eligibility.career_stages"),
        ({"priority_group": None}, "eligibility.priority_groups"),
        ({"hr_attributes": {}}, "eligibility.hr_attributes.job_function"),
    ):
        with pytest.raises(InvalidCommand) as caught:
            check_eligible(rules, PersonFacts(**{**fits.__dict__, **change}), "mentee")
        assert caught.value.field == field
    check_eligible(rules, PersonFacts("m", is_mentor=True), "mentor")


def test_enrolled_twice_is_refused_and_leaving_allows_enrolling_again() -> None:
    program = Program("p", settings=_settings())
    person = PersonFacts("e", is_mentee=True)
    enrolment = Enrolment(enrolment_id("p", "e"))
    enrolment.apply_all(enrolment.enrol(program, person, "mentee", None, "e"), None)  # type: ignore[arg-type]
    with pytest.raises(MatchingRuleViolation, match="already enrolled"):
        enrolment.enrol(program, person, "mentee", None, "e")
    enrolment.apply_all(enrolment.unenrol("e"), None)  # type: ignore[arg-type]
    assert enrolment.enrol(program, person, "mentee", None, "e")
    with pytest.raises(InvalidCommand) as caught:
        enrolment.enrol(program, person, "mentee", 3, "e")
    assert caught.value.field == "capacity"


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=60),
    size=st.integers(min_value=2, max_value=20),
    seed=st.integers(min_value=0, max_value=10_000),
)
def test_circles_hold_their_size_and_place_everyone_they_can(n, size, seed) -> None:
    ids = [f"p{i:02d}" for i in range(n)]

    def score(a: str, b: str) -> int:
        return (hash((min(a, b), max(a, b), seed)) % 101 + 101) % 101

    circles = build_circles(ids, size, score)
    lo, hi = circle_bounds(size)
    members = [m for c in circles for m in c]
    assert len(members) == len(set(members)) and set(members) <= set(ids)
    assert all(lo <= len(c) <= hi for c in circles)
    assert n - len(members) < lo  # the unplaced could not make a circle of their own
    if n >= lo and -(-n // hi) * lo <= n:
        assert len(members) == n  # when the sizes allow it, everyone is placed
    assert [len(c) for c in circles] == circle_sizes(n, size)


def test_circles_group_the_most_compatible_peers() -> None:
    ids = ["a1", "a2", "a3", "b1", "b2", "b3"]

    def score(x: str, y: str) -> int:
        return 90 if x[0] == y[0] else 10

    assert sorted(build_circles(ids, 3, score)) == [["a1", "a2", "a3"], ["b1", "b2", "b3"]]


# --- priority groups in bulk runs ---------------------------------------------------------------------------


def _cohort():
    from services.matching.domain.compatibility import MenteeProfile, MentorProfile

    mentor = MentorProfile("m1", "cardiology", "senior", interests=frozenset({"grants", "teaching"}), capacity=1)
    best = MenteeProfile("e-best", "cardiology", "early_career", interests=frozenset({"grants", "teaching"}))
    poor = MenteeProfile("e-poor", "surgery", "senior", languages=("fr", "en"), utc_offset_minutes=600)
    return [best, poor], [mentor]


@pytest.mark.parametrize("policy, winner", [("first", "e-poor"), ("weight", "e-best")])
def test_priority_first_is_served_before_others_and_weight_only_tips_close_contests(policy, winner) -> None:
    from services.matching.domain.bulk_proposal import propose_with_priority
    from services.matching.domain.compatibility import Weights
    from services.matching.domain.overrides import Overrides

    mentees, mentors = _cohort()
    run = propose_with_priority(
        mentees, mentors, Weights(), Overrides(), "optimal", {}, 50, priority={"e-poor"}, policy=policy
    )
    assert [(p.mentee_id, p.mentor_id) for p in run.pairs] == [(winner, "m1")]
    assert run.report.mentees == 2 and run.report.matched == 1


def test_priority_weight_tips_a_close_contest() -> None:
    from services.matching.domain.bulk_proposal import PRIORITY_BONUS, propose_with_priority
    from services.matching.domain.compatibility import MenteeProfile, MentorProfile, Weights, score
    from services.matching.domain.overrides import Overrides

    mentor = MentorProfile("m1", "cardiology", "senior", interests=frozenset({"grants", "teaching"}), capacity=1)
    a = MenteeProfile("e-a", "cardiology", "early_career", interests=frozenset({"grants", "teaching"}))
    b = MenteeProfile("e-b", "cardiology", "early_career", interests=frozenset({"grants"}))
    gap = score(a, mentor, Weights()) - score(b, mentor, Weights())
    assert 0 < gap < PRIORITY_BONUS
    plain = propose_with_priority(
        [a, b], [mentor], Weights(), Overrides(), "optimal", {}, 50, priority=(), policy="weight"
    )
    assert [p.mentee_id for p in plain.pairs] == ["e-a"]
    tipped = propose_with_priority(
        [a, b], [mentor], Weights(), Overrides(), "optimal", {}, 50, priority={"e-b"}, policy="weight"
    )
    assert [p.mentee_id for p in tipped.pairs] == ["e-b"]


def test_an_ended_program_takes_no_requests() -> None:
    program = Program("p", settings=_settings(ends_on=date(2026, 6, 30)))
    program.check_requests_allowed(date(2026, 6, 30))
    with pytest.raises(MatchingRuleViolation, match="ended on 2026-06-30"):
        program.check_requests_allowed(date(2026, 7, 1))


def test_a_request_recorded_at_version_one_rebuilds_in_the_default_program_and_matches_there() -> None:
    from datetime import UTC, datetime

    from services.matching.domain.request import Request

    at = datetime(2026, 3, 1, tzinfo=UTC)
    history = [(decode("RequestRanked", dict(V1["RequestRanked"]), 1), at)]
    history.append((decode("RequestUnmatched", dict(V1["RequestUnmatched"]), 1), at))
    request = Request.rebuild("r1", history)
    assert request.program_id == DEFAULT_PROGRAM and request.status == "unmatched"
    (match,) = request.admin_match("d", "m2", at)
    assert isinstance(match, MatchApproved) and match.program_id == DEFAULT_PROGRAM
