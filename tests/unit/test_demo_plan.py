"""The demo institution's plan: deterministic for a seed, and every planned call within the domain's rules."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from mentorship.devstack.demo import SCALES, Plan, generate

END = date(2026, 12, 1)


def _script(plan: Plan) -> list[tuple]:
    return [(a.at, a.kind, a.actor, sorted(a.data.items(), key=str)) for a in plan.actions]


@pytest.fixture(scope="module")
def small() -> Plan:
    return generate(11, SCALES["small"], END)


@pytest.fixture(scope="module")
def full() -> Plan:
    return generate(2026, SCALES["full"], END)


def test_the_same_seed_gives_the_same_plan_and_another_seed_another() -> None:
    assert _script(generate(5, SCALES["small"], END)) == _script(generate(5, SCALES["small"], END))
    assert _script(generate(5, SCALES["small"], END)) != _script(generate(6, SCALES["small"], END))


def test_full_scale_is_an_institution_of_thousands_with_a_few_hundred_participants(full: Plan) -> None:
    counts = full.counts()
    assert len(full.staff) == 2500 and counts["hr_hire"] == 2500
    assert counts["register_mentor"] + counts["register_mentee"] == 190
    assert counts["hr_leave"] > 100
    assert any(s.leave_recorded_at and s.left_on and s.leave_recorded_at.date() > s.left_on for s in full.staff), (
        "some terminations are back-dated"
    )
    for kind in (
        "request",
        "review",
        "respond",
        "admin_match",
        "agreement",
        "meeting",
        "goal_achieved",
        "close",
        "feedback",
        "review_agreement",
        "training",
    ):
        assert counts.get(kind, 0) > 0, kind
    reviews = [a for a in full.actions if a.kind == "review"]
    assert any(not a.data["approved"] for a in reviews), "the director declines some requests"
    assert any(a.kind == "respond" and not a.data["accepted"] for a in full.actions), "mentors decline some"


@pytest.mark.parametrize("name", ["small", "full"])
def test_every_action_lies_inside_the_window_in_time_order(name: str, request: pytest.FixtureRequest) -> None:
    plan: Plan = request.getfixturevalue(name)
    assert (plan.end - plan.start).days == plan.scale.days
    times = [a.at for a in plan.actions]
    assert times == sorted(times)
    assert all(plan.start < t < plan.end for t in times)
    for action in plan.actions:
        if action.kind == "meeting":
            assert plan.start.date() <= date.fromisoformat(action.data["held_on"]) <= action.at.date()


@pytest.mark.parametrize("name", ["small", "full"])
def test_requests_rank_at_most_three_distinct_registered_mentors(name: str, request: pytest.FixtureRequest) -> None:
    plan: Plan = request.getfixturevalue(name)
    registered: dict[str, datetime] = {}
    for action in plan.actions:
        if action.kind.startswith("register_"):
            registered[action.actor] = action.at
        if action.kind == "request":
            ranked = action.data["ranked"]
            assert 1 <= len(ranked) <= 3 and len(set(ranked)) == len(ranked)
            assert action.actor in registered and all(registered[m] < action.at for m in ranked)
            assert action.actor not in ranked


@pytest.mark.parametrize("name", ["small", "full"])
def test_no_mentor_ever_holds_more_mentees_than_their_capacity(name: str, request: pytest.FixtureRequest) -> None:
    plan: Plan = request.getfixturevalue(name)
    capacity = {p.participant_id: p.capacity for p in plan.people if p.role == "mentor"}
    assert set(capacity.values()) <= {1, 2, 3, 4}
    load = dict.fromkeys(capacity, 0)
    mentor_of: dict[str, str] = {}
    for action in plan.actions:
        if action.kind == "respond" and action.data["accepted"]:
            load[action.actor] += 1
        elif action.kind == "admin_match":
            load[action.data["mentor"]] += 1
        elif action.kind == "agreement":
            mentor_of[action.data["pair"]] = action.data["mentor"]
        elif action.kind == "close":
            load[mentor_of[action.data["pair"]]] -= 1
        assert all(0 <= load[m] <= capacity[m] for m in capacity), action


@pytest.mark.parametrize("name", ["small", "full"])
def test_meetings_goals_and_closures_happen_only_in_open_relationships(
    name: str, request: pytest.FixtureRequest
) -> None:
    plan: Plan = request.getfixturevalue(name)
    parties: dict[str, set[str]] = {}
    closed: set[str] = set()
    feedback: set[tuple[str, str]] = set()
    for action in plan.actions:
        pair = action.data.get("pair")
        if action.kind == "agreement":
            assert pair not in parties
            parties[pair] = {action.data["mentor"], action.data["mentee"]}
        elif action.kind in ("meeting", "goal", "goal_achieved", "review_agreement", "close"):
            assert pair in parties and pair not in closed and action.actor in parties[pair], action
            if action.kind == "close":
                closed.add(pair)
        elif action.kind == "feedback":
            assert action.actor in parties[pair]
            assert (pair, action.actor) not in feedback or pair in closed
            feedback.add((pair, action.actor))
    assert closed and len(parties) > len(closed)


def test_staff_register_onto_their_own_hr_record(small: Plan) -> None:
    hires = {a.data["employee"]: a.at for a in small.actions if a.kind == "hr_hire"}
    for person in small.people:
        assert person.participant_id == person.staff.employee_id
        registered = next(
            a.at for a in small.actions if a.actor == person.participant_id and a.kind.startswith("register_")
        )
        assert hires[person.participant_id] < registered
    departments = {s.department_id: s.employee_id for s in small.staff if s.supervisor_id is None}
    participants = {p.participant_id for p in small.people}
    assert not participants & set(departments.values()), "no participant is above another in a reporting line"
