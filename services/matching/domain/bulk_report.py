"""What a bulk run tells the admin, counted independently of the solvers that produced it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.matching.domain.bulk_stable import mentor_preference
from services.matching.domain.candidates import CandidateGraph


@dataclass(frozen=True)
class BulkReport:
    mode: str
    mentees: int
    matched: int
    pinned: int
    by_choice: tuple[int, int, int]
    """Mentees who got their 1st, 2nd and 3rd ranked choice."""
    total_score: int
    mean_score: float
    min_score: int | None
    p10_score: int | None
    blocking_pairs: int
    optimal_total: int
    stable_total: int

    @property
    def price_of_stability(self) -> float:
        """Optimal total over stable total; 1.0 means stability costs nothing."""
        if self.stable_total == 0:
            return 1.0 if self.optimal_total == 0 else math.inf
        return self.optimal_total / self.stable_total

    def summary(self) -> str:
        first, second, third = self.by_choice
        return (
            f"{self.mode}: {self.matched} of {self.mentees} mentees matched ({self.pinned} pinned); "
            f"ranked choice 1st {first}, 2nd {second}, 3rd {third}; "
            f"score mean {self.mean_score:.1f}, min {self.min_score}, p10 {self.p10_score}; "
            f"{self.blocking_pairs} blocking pairs; total {self.total_score}; "
            f"price of stability {self.price_of_stability:.4f} ({self.optimal_total} vs {self.stable_total})"
        )


def blocking_pairs(graph: CandidateGraph, chosen: np.ndarray) -> int:
    """Candidate pairs, not matched together, where the mentee prefers the mentor to their match
    (or has none) and the mentor has a free slot or prefers the mentee to their worst."""
    if graph.edge_count == 0:
        return 0
    edge_mentee = graph.edge_mentee()
    position = graph.edge_position()
    own_position = np.diff(graph.indptr).copy()
    matched = chosen >= 0
    own_position[matched] = position[chosen[matched]]
    mentee_wants = position < own_position[edge_mentee]
    wanted = mentor_preference(graph)
    held_edges = chosen[matched]
    held = np.bincount(graph.mentor[held_edges], minlength=graph.mentor_count)
    worst = np.full(graph.mentor_count, np.iinfo(np.int64).max)
    np.minimum.at(worst, graph.mentor[held_edges], wanted[held_edges])
    mentor_wants = (held[graph.mentor] < graph.capacity[graph.mentor]) | (wanted > worst[graph.mentor])
    return int(np.count_nonzero(mentee_wants & mentor_wants))


def report(
    mode: str,
    graph: CandidateGraph,
    chosen: np.ndarray,
    *,
    pinned: int,
    blocking: int,
    optimal_total: int,
    stable_total: int,
) -> BulkReport:
    matched = chosen[chosen >= 0]
    scores = np.sort(graph.score[matched])
    ranks = graph.choice_rank[matched]
    return BulkReport(
        mode=mode,
        mentees=graph.mentee_count,
        matched=len(matched),
        pinned=pinned,
        by_choice=(int(np.sum(ranks == 1)), int(np.sum(ranks == 2)), int(np.sum(ranks == 3))),
        total_score=int(scores.sum()),
        mean_score=float(scores.mean()) if len(scores) else 0.0,
        min_score=int(scores[0]) if len(scores) else None,
        p10_score=int(scores[math.ceil(0.1 * len(scores)) - 1]) if len(scores) else None,
        blocking_pairs=blocking,
        optimal_total=optimal_total,
        stable_total=stable_total,
    )
