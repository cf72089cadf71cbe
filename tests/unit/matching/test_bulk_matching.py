from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.domain.bulk_optimal import optimal_assignment
from services.matching.domain.bulk_run import run_bulk_match
from services.matching.domain.bulk_stable import stable_assignment
from services.matching.domain.candidates import CandidateGraph
from services.matching.domain.overrides import OverrideConflict, Overrides
from tests.unit.matching.graphs import (
    assignments,
    blocking_count,
    candidate_graphs,
    graphs_with_overrides,
    total,
)

pytestmark = pytest.mark.unit
FEW = settings(max_examples=60, deadline=None)
MODES = st.sampled_from(["optimal", "stable"])


def mentee_of(graph: CandidateGraph, edge: int) -> int:
    return int(np.searchsorted(graph.indptr, edge, side="right") - 1)


@FEW
@given(graphs_with_overrides(), MODES)
def test_a_run_respects_capacities_candidates_and_overrides(case: tuple[CandidateGraph, Overrides], mode: str) -> None:
    graph, overrides = case
    run = run_bulk_match(graph, mode, overrides)  # type: ignore[arg-type]
    used = run.chosen[run.chosen >= 0]
    assert all(mentee_of(graph, e) == i for i, e in enumerate(run.chosen.tolist()) if e >= 0)
    assert np.all(np.bincount(graph.mentor[used], minlength=graph.mentor_count) <= graph.capacity)
    pairs = {(p.mentee_id, p.mentor_id) for p in run.pairs}
    assert len(pairs) == len({mentee for mentee, _ in pairs}) == run.report.matched
    assert set(overrides.pinned.items()) <= pairs
    assert not pairs & overrides.forbidden
    assert run.report.total_score == sum(p.score for p in run.pairs)


@FEW
@given(candidate_graphs(max_mentees=5, max_mentors=3))
def test_optimal_total_is_the_brute_force_optimum(graph: CandidateGraph) -> None:
    best = max(total(graph, chosen) for chosen in assignments(graph))
    assert total(graph, optimal_assignment(graph)) == best


@settings(max_examples=25, deadline=None)
@given(candidate_graphs(max_mentees=30, max_mentors=8, max_capacity=4))
def test_optimal_total_equals_or_tools(graph: CandidateGraph) -> None:
    pytest.importorskip("ortools")
    from bench.bulk_match import ortools_optimum
    from services.matching.domain.overrides import apply_overrides

    assert total(graph, optimal_assignment(graph)) == ortools_optimum(apply_overrides(graph, Overrides()))


@FEW
@given(candidate_graphs(max_mentees=12, max_mentors=5))
def test_stable_mode_leaves_no_blocking_pair(graph: CandidateGraph) -> None:
    run = run_bulk_match(graph, "stable")
    assert run.report.blocking_pairs == 0
    assert blocking_count(graph, run.chosen) == 0


@FEW
@given(graphs_with_overrides(max_mentees=10, max_mentors=4))
def test_stable_mode_with_overrides_leaves_no_blocking_pair_among_open_pairs(
    case: tuple[CandidateGraph, Overrides],
) -> None:
    graph, overrides = case
    assert run_bulk_match(graph, "stable", overrides).report.blocking_pairs == 0


@FEW
@given(candidate_graphs(max_mentees=5, max_mentors=3, max_capacity=2))
def test_stable_mode_is_the_mentee_optimal_stable_matching(graph: CandidateGraph) -> None:
    stable = [chosen for chosen in assignments(graph) if blocking_count(graph, chosen) == 0]
    ours = stable_assignment(graph)
    assert tuple(ours.tolist()) in stable

    def place(chosen: tuple[int, ...] | np.ndarray, i: int) -> int:
        return int(chosen[i]) if chosen[i] >= 0 else 10**9

    assert all(place(ours, i) <= place(other, i) for other in stable for i in range(graph.mentee_count))


@FEW
@given(graphs_with_overrides(max_mentees=8, max_mentors=4))
def test_the_report_counts_blocking_pairs_like_the_definition(case: tuple[CandidateGraph, Overrides]) -> None:
    graph, _ = case
    run = run_bulk_match(graph, "optimal")
    assert run.report.blocking_pairs == blocking_count(graph, run.chosen)


@FEW
@given(graphs_with_overrides(), MODES)
def test_runs_are_deterministic(case: tuple[CandidateGraph, Overrides], mode: str) -> None:
    graph, overrides = case
    first, second = (run_bulk_match(graph, mode, overrides) for _ in range(2))  # type: ignore[arg-type]
    assert first.pairs == second.pairs and first.report == second.report


@FEW
@given(candidate_graphs(max_mentees=8, max_mentors=4))
def test_price_of_stability_is_at_least_one(graph: CandidateGraph) -> None:
    report = run_bulk_match(graph, "optimal").report
    assert report.optimal_total >= report.stable_total
    assert report.price_of_stability >= 1


def test_report_counts_ranked_choices_and_score_spread() -> None:
    graph = CandidateGraph.from_rows(
        ["a", "b", "c"],
        ["x", "y"],
        [1, 2],
        [[(0, 90, 1), (1, 50, 2)], [(0, 80, 1), (1, 70, 2)], [(1, 20, 3)]],
    )
    report = run_bulk_match(graph, "stable").report
    assert (report.matched, report.by_choice) == (3, (1, 1, 1))
    assert (report.total_score, report.min_score, report.p10_score) == (180, 20, 20)
    assert report.mean_score == pytest.approx(60.0)


def test_optimal_prefers_more_matches_among_equal_totals() -> None:
    graph = CandidateGraph.from_rows(["a", "b"], ["x", "y"], [1, 1], [[(0, 0, 0), (1, 0, 0)], [(0, 0, 0)]])
    assert (optimal_assignment(graph) >= 0).all()


def test_pins_beyond_a_mentors_open_slots_are_refused() -> None:
    graph = CandidateGraph.from_rows(["a", "b"], ["x"], [1], [[(0, 50, 0)], [(0, 60, 0)]])
    with pytest.raises(OverrideConflict, match="open slots"):
        run_bulk_match(graph, "optimal", Overrides({"a": "x", "b": "x"}))


def test_a_pair_cannot_be_both_pinned_and_forbidden() -> None:
    graph = CandidateGraph.from_rows(["a"], ["x"], [1], [[(0, 50, 0)]])
    with pytest.raises(OverrideConflict, match="both pinned and forbidden"):
        run_bulk_match(graph, "stable", Overrides({"a": "x"}, frozenset({("a", "x")})))


def test_empty_cohort() -> None:
    graph = CandidateGraph.from_rows([], ["x"], [2], [])
    report = run_bulk_match(graph, "optimal").report
    assert (report.matched, report.min_score, report.blocking_pairs) == (0, None, 0)
