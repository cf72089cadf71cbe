from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.candidates import CandidateGraph, build_candidates
from services.matching.domain.cohort import Cohort
from services.matching.domain.compatibility import (
    MenteeProfile,
    MentorProfile,
    Weights,
    score,
)
from services.matching.domain.hard_filters import default_filters, first_exclusion
from services.matching.domain.overrides import OverrideConflict, Overrides
from tests.unit.matching.profiles import cohorts

pytestmark = pytest.mark.unit


def row(graph: CandidateGraph, mentee_id: str) -> list[tuple[str, int, int]]:
    i = graph.mentee_ids.index(mentee_id)
    edges = range(graph.indptr[i], graph.indptr[i + 1])
    return [(graph.mentor_ids[graph.mentor[e]], int(graph.score[e]), int(graph.choice_rank[e])) for e in edges]


def naive_row(
    cohort: Cohort, mentee: MenteeProfile, weights: Weights, k: int, ranked: list[str], filters, overrides
) -> list:
    def allowed(mentor: MentorProfile) -> bool:
        return (
            mentor.open_slots > 0
            and first_exclusion(filters, mentee, mentor) is None
            and (mentee.mentee_id, mentor.mentor_id) not in overrides.forbidden
        )

    by_id = {m.mentor_id: m for m in cohort.mentors}
    firsts = [r for r in dict.fromkeys(ranked[:3]) if r in by_id and allowed(by_id[r])]
    others = sorted((m for m in cohort.mentors if allowed(m)), key=lambda m: (-score(mentee, m, weights), m.mentor_id))
    top = [m.mentor_id for m in others[:k] if m.mentor_id not in firsts]
    ids = firsts + top
    pinned = overrides.pinned.get(mentee.mentee_id)
    if pinned is not None and pinned not in ids:
        ids.append(pinned)
    rank = {r: place + 1 for place, r in reversed(list(enumerate(ranked[:3])))}
    return [(i, score(mentee, by_id[i], weights), rank.get(i, 0)) for i in ids]


@settings(max_examples=40, deadline=None)
@given(cohorts(), st.integers(0, 4), st.data())
def test_rows_are_ranked_choices_then_top_k_by_score_then_id(cohort_profiles, k: int, data: st.DataObject) -> None:
    mentees, mentors = cohort_profiles
    cohort = Cohort(mentees, mentors)
    mentor_ids = [m.mentor_id for m in mentors] + ["unknown"]
    ranked = {e.mentee_id: data.draw(st.lists(st.sampled_from(mentor_ids), max_size=3)) for e in mentees}
    forbidden = frozenset((e.mentee_id, data.draw(st.sampled_from(mentor_ids[:-1]))) for e in mentees[1::2])
    pinned = {e.mentee_id: data.draw(st.sampled_from(mentor_ids[:-1])) for e in mentees[::3]}
    overrides = Overrides({e: m for e, m in pinned.items() if (e, m) not in forbidden}, forbidden)
    supervisor_of = {e.mentee_id: mentors[-1].mentor_id for e in mentees[::2]}
    filters = default_filters(supervisor_of)
    graph = build_candidates(cohort, Weights(), k=k, ranked_choices=ranked, overrides=overrides, filters=filters)
    for mentee in cohort.mentees:
        expected = naive_row(cohort, mentee, Weights(), k, ranked[mentee.mentee_id], filters, overrides)
        assert row(graph, mentee.mentee_id) == expected


def test_a_ranked_choice_outside_the_top_k_still_comes_first() -> None:
    mentee = MenteeProfile("e1", "cardiology", "trainee")
    mentors = [
        MentorProfile("m1", "cardiology", "early_career"),
        MentorProfile("m2", "cardiology", "early_career"),
        MentorProfile("m3", "oncology", "student"),
        MentorProfile("m4", "cardiology", "early_career", capacity=0),
    ]
    graph = build_candidates(Cohort([mentee], mentors), Weights(), k=1, ranked_choices={"e1": ["m4", "m3"]})
    assert [(m, rank) for m, _, rank in row(graph, "e1")] == [("m3", 2), ("m1", 0)]


def test_overrides_must_name_known_people() -> None:
    cohort = Cohort([MenteeProfile("e1", "cardiology", "trainee")], [MentorProfile("m1", "cardiology", "senior")])
    with pytest.raises(OverrideConflict, match="unknown"):
        build_candidates(cohort, Weights(), overrides=Overrides({"e1": "m9"}))


def test_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        Cohort([MenteeProfile("e1", "x", "trainee")] * 2, [MentorProfile("m1", "x", "senior")])


def test_input_order_does_not_change_the_graph() -> None:
    mentees = [MenteeProfile(f"e{i}", "cardiology", "trainee", interests=frozenset({f"i{i % 3}"})) for i in range(6)]
    mentors = [MentorProfile(f"m{j}", "cardiology", "senior", interests=frozenset({f"i{j % 3}"})) for j in range(4)]
    one = build_candidates(Cohort(mentees, mentors), Weights(), k=2)
    two = build_candidates(Cohort(mentees[::-1], mentors[::-1]), Weights(), k=2)
    assert [row(one, e.mentee_id) for e in mentees] == [row(two, e.mentee_id) for e in mentees]
