"""The demo's rounds: calls made together only where the plan's order cannot matter."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mentorship.devstack.demo import SCALES, Action, Plan, generate
from mentorship.devstack.demo.rounds import Entities, dependencies, playing_order, rounds_of, take

END = date(2026, 12, 1)


@pytest.fixture(scope="module")
def full() -> Plan:
    return generate(2026, SCALES["full"], END)


def _waits_for(after: list[set[int]], later: int, earlier: int) -> bool:
    todo, seen = list(after[later]), set()
    while todo:
        k = todo.pop()
        if k == earlier:
            return True
        if k not in seen:
            seen.add(k)
            todo.extend(after[k])
    return False


def test_every_action_is_played_once_in_the_plans_order_and_a_round_keeps_to_one_day(full: Plan) -> None:
    rounds = rounds_of(full)
    assert [a for r in rounds for a in r] == full.actions
    boundaries = full.boundaries()
    for r in rounds:
        assert len({a.at.date() for a in r}) == 1
        assert all(not a.settle_after for a in r[:-1]), "a closure ends its round"
        assert not any(r[0].at < b <= r[-1].at for b in boundaries), "no settle boundary inside a round"
    calls = sum(1 for a in full.actions if not a.kind.startswith("hr_"))
    assert len(rounds) < calls / 2, (len(rounds), calls)


def test_a_timer_due_ends_the_round_before_it(full: Plan) -> None:
    day = next(r for r in rounds_of(full) if len(r) >= 3 and r[0].at < r[-1].at)
    due = day[-1].at - timedelta(seconds=1)
    cut = rounds_of(full, dues=[due])
    assert all(not (r[0].at < due <= r[-1].at) for r in cut)
    assert any(r[-1].at < due and r[-1].at.date() == due.date() for r in cut)
    assert any(r[0].at >= due and r[0].at.date() == due.date() for r in cut)


def test_take_stops_at_the_next_due_the_day_the_boundary_and_after_a_closure() -> None:
    t = datetime(2026, 3, 2, 9, tzinfo=UTC)

    def act(hours: float, kind: str = "meeting", close: bool = False) -> tuple[datetime, Action]:
        return t + timedelta(hours=hours), Action(t + timedelta(hours=hours), kind, "E1", {}, close)

    script = [act(0), act(1), act(2, "close", close=True), act(3), act(20), (t + timedelta(hours=21), None), act(22)]
    assert take(script, 0, None) == 3
    assert take(script, 0, t + timedelta(hours=1)) == 1
    assert take(script, 3, None) == 4, "the next day is another round"
    assert take(script, 4, None) == 5, "a boundary ends the round"


def test_calls_about_the_same_person_request_or_pair_keep_their_order(full: Plan) -> None:
    entities = Entities(full)
    together = 0
    for r in rounds_of(full):
        keys = [entities.of(a) for a in r]
        after = dependencies(keys)
        for later in range(len(r)):
            for earlier in range(later):
                if keys[later] & keys[earlier]:
                    assert _waits_for(after, later, earlier), (r[earlier], r[later])
                elif not after[later]:
                    together += 1
    assert together > 1000, "most calls of a round go out together"


def test_a_request_and_its_review_wait_for_calls_on_the_load_of_its_ranked_mentors(full: Plan) -> None:
    entities = Entities(full)
    request = next(a for a in full.actions if a.kind == "request")
    review = next(a for a in full.actions if a.kind == "review" and a.data["request"] == request.data["request"])
    mentor = request.data["ranked"][0]
    accept = Action(review.at, "respond", mentor, {"request": "req-other", "accepted": True})
    assert entities.of(accept) & entities.of(request) and entities.of(accept) & entities.of(review)
    meeting_elsewhere = Action(review.at, "meeting", "E99999", {"pair": "pair-x"})
    assert not entities.of(meeting_elsewhere) & entities.of(review)


def test_rounds_begin_and_end_on_a_working_day(full: Plan) -> None:
    """A round's calls are stamped at its first moment: at most the hours of one day early (``rounds.py``)."""
    spans = [r[-1].at - r[0].at for r in rounds_of(full) if any(not a.kind.startswith("hr_") for a in r)]
    assert max(spans) < timedelta(hours=16)
    assert all(s >= timedelta(0) for s in spans)
    assert playing_order(full)[0][1] is not None
