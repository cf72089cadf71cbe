"""A bulk run of a cohort: place the pins, solve the rest in both modes, propose one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from services.matching.domain.bulk_optimal import optimal_assignment
from services.matching.domain.bulk_report import BulkReport, blocking_pairs, report
from services.matching.domain.bulk_stable import stable_assignment
from services.matching.domain.candidates import CandidateGraph
from services.matching.domain.overrides import Overrides, Residual, apply_overrides

Mode = Literal["optimal", "stable"]
SOLVERS = {"optimal": optimal_assignment, "stable": stable_assignment}


@dataclass(frozen=True)
class ProposedPair:
    mentee_id: str
    mentor_id: str
    score: int
    choice_rank: int | None
    pinned: bool


@dataclass(frozen=True, eq=False)
class BulkRun:
    mode: Mode
    chosen: np.ndarray
    """Per mentee (by id), the chosen edge of the candidate graph or -1."""
    pairs: tuple[ProposedPair, ...]
    report: BulkReport


def solve(residual: Residual, mode: Mode) -> np.ndarray:
    """The whole assignment as edges of the full graph: pins plus the residual solution."""
    picked = SOLVERS[mode](residual.graph)
    chosen = residual.pinned_edge.copy()
    solved = picked >= 0
    chosen[solved] = residual.graph.origin_edge[picked[solved]]
    return chosen


def run_bulk_match(graph: CandidateGraph, mode: Mode, overrides: Overrides | None = None) -> BulkRun:
    """Blocking pairs are counted among the pairs the admin left open: pinned mentees, forbidden
    pairs and mentors filled by pins take no part."""
    residual = apply_overrides(graph, overrides or Overrides())
    chosen = {m: solve(residual, m) for m in SOLVERS}
    total = {m: int(graph.score[c[c >= 0]].sum()) for m, c in chosen.items()}
    free = residual.pinned_edge < 0
    residual_chosen = _in_residual(graph, residual, np.where(free, chosen[mode], -1))
    return BulkRun(
        mode,
        chosen[mode],
        _pairs(graph, chosen[mode], residual.pinned_edge),
        report(
            mode,
            graph,
            chosen[mode],
            pinned=int(np.count_nonzero(~free)),
            blocking=blocking_pairs(residual.graph, residual_chosen),
            optimal_total=total["optimal"],
            stable_total=total["stable"],
        ),
    )


def _in_residual(graph: CandidateGraph, residual: Residual, chosen: np.ndarray) -> np.ndarray:
    position = np.full(graph.edge_count + 1, -1, dtype=np.int64)  # the extra -1 answers for chosen == -1
    position[residual.graph.origin_edge] = np.arange(residual.graph.edge_count)
    return position[chosen]


def _pairs(graph: CandidateGraph, chosen: np.ndarray, pinned_edge: np.ndarray) -> tuple[ProposedPair, ...]:
    return tuple(
        ProposedPair(
            graph.mentee_ids[i],
            graph.mentor_ids[graph.mentor[e]],
            int(graph.score[e]),
            int(graph.choice_rank[e]) or None,
            bool(pinned_edge[i] >= 0),
        )
        for i, e in enumerate(chosen.tolist())
        if e >= 0
    )
